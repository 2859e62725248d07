/**
 * One JSON object per line, the container guest's protocol in both directions. What the guest sends
 * is untrusted: a line that is not a JSON object, or one longer than the limit, is a broken guest.
 */
import type { Readable } from "node:stream";

/** Longer lines mean a confused or hostile guest, not a message (output is cut in the guest). */
const MAX_LINE_BYTES = 256 * 2 ** 20;

/**
 * Calls `onMessage` with each whole line of `stream` parsed as a JSON object; on a line that is not one,
 * or is over `maxLineBytes`, calls `onError` once and reads no further.
 */
export function readJsonLines(
  stream: Readable,
  onMessage: (message: Record<string, unknown>) => void,
  onError: (error: Error) => void,
  maxLineBytes = MAX_LINE_BYTES,
): void {
  let pieces: Buffer[] = [];
  let pending = 0;
  let broken = false;
  const fail = (error: Error) => {
    broken = true;
    pieces = [];
    stream.removeListener("data", onData);
    stream.resume(); // keep draining, so the writer never blocks on a full pipe
    onError(error);
  };
  const onData = (chunk: Buffer) => {
    let start = 0;
    for (let end = chunk.indexOf(10); end !== -1 && !broken; end = chunk.indexOf(10, start)) {
      pieces.push(chunk.subarray(start, end));
      const line = Buffer.concat(pieces, pending + end - start);
      pieces = [];
      pending = 0;
      start = end + 1;
      if (line.byteLength > maxLineBytes) return fail(tooLong(line.byteLength, maxLineBytes));
      let message: unknown;
      try {
        message = JSON.parse(line.toString("utf8"));
      } catch (error) {
        return fail(new Error(`The guest sent a line that is not JSON: ${(error as Error).message}`));
      }
      if (typeof message !== "object" || message === null || Array.isArray(message))
        return fail(new Error("The guest sent a JSON line that is not an object."));
      onMessage(message as Record<string, unknown>);
    }
    if (broken || start >= chunk.byteLength) return;
    pieces.push(chunk.subarray(start));
    pending += chunk.byteLength - start;
    if (pending > maxLineBytes) fail(tooLong(pending, maxLineBytes));
  };
  stream.on("data", onData);
}

function tooLong(bytes: number, limit: number): Error {
  return new Error(`The guest sent a line of more than ${limit} bytes (${bytes} so far).`);
}
