/**
 * Runs the `rlm` command in-process for tests, capturing what it writes.
 */
import { PassThrough, Readable } from "node:stream";
import { main } from "../src/cli/main.ts";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `rlm ...args` with the given environment, folder and standard input. */
export async function runRlmCommand(
  args: readonly string[],
  io: { env: Record<string, string>; cwd: string; stdin?: string },
): Promise<CliRun> {
  const capture = () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
  };
  const [stdout, stderr] = [capture(), capture()];
  const code = await main(args, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    stdin: Readable.from(io.stdin === undefined ? [] : [io.stdin]),
    // A CLI run would otherwise leave a warm guest host behind for the next one.
    env: { RLM_KEEP_WARM: "0", ...io.env },
    cwd: io.cwd,
    signal: new AbortController().signal,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
