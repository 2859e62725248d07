#!/usr/bin/env node
/**
 * The executable: wires the real process into `main`. Ctrl-C cancels the run gracefully (the partial
 * answer is still printed); a second Ctrl-C exits at once.
 */
import { main } from "./main.ts";
import { EXIT } from "./exit-codes.ts";

const controller = new AbortController();
process.on("SIGINT", () => {
  if (controller.signal.aborted) process.exit(EXIT.cancelled);
  process.stderr.write("\nrlm: cancelling… (Ctrl-C again to quit at once)\n");
  controller.abort(new Error("Interrupted with Ctrl-C"));
});
// A service manager's stop: the same graceful path (`rlm serve` drains), a second one exits at once.
process.on("SIGTERM", () => {
  if (controller.signal.aborted) process.exit(EXIT.cancelled);
  controller.abort(new Error("Stopped by SIGTERM"));
});

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
});
