/**
 * What a CLI command gets from the process, passed in so tests can run commands in-process.
 */

/** An output stream; `isTTY` and `columns` are read when present. */
export type OutputStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface CommandIO {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: NodeJS.ReadableStream;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Aborts on Ctrl-C. */
  signal: AbortSignal;
}

/** Bad arguments: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Resolves once `signal` aborts (at once if it has): how a long-running command waits for Ctrl-C or SIGTERM. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal.aborted) done();
    else signal.addEventListener("abort", () => done(), { once: true });
  });
}
