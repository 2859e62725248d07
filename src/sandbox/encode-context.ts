/**
 * How a context crosses into a guest: UTF-8, either the text itself or JSON. A guest on a thread takes
 * the bytes by transfer, not copy; a guest in a child process reads a file in its private folder,
 * written from the text in slices so the host never holds a second whole copy. A lazy context crosses
 * as its manifest (`lazy`: each file's key and size), and the guest reads the files through host calls.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { ContextLoadError } from "../errors.ts";
import type { RlmContext } from "../context/context.ts";
import { isLazyContext } from "../context/lazy-context.ts";

/** Characters written per slice of a context file (UTF-16 units: at most 3 bytes each in UTF-8). */
export const FILE_SLICE_CHARS = 4 * 2 ** 20;

export interface EncodedContext {
  /**
   * `text`: the text is the string itself; `json`: it is a JSON document; `lazy`: it is the JSON
   * manifest of a `LazyContext`, whose files stay on the host.
   */
  kind: "text" | "json" | "lazy";
  text: string;
  /** The text's UTF-8 bytes in a buffer of their own (transferable), made on first use and kept. */
  bytes(): Uint8Array;
}

export function encodeContext(context: RlmContext): EncodedContext {
  if (typeof context === "string") return encoded("text", context);
  if (isLazyContext(context)) return encoded("lazy", JSON.stringify(context.manifest()));
  let json: string;
  try {
    json = JSON.stringify(context);
  } catch (error) {
    throw new ContextLoadError(
      `The context cannot be turned into JSON (${(error as Error).message}); use strings, numbers, booleans, null, arrays and plain objects only.`,
      undefined,
      { cause: error },
    );
  }
  return encoded("json", json);
}

/** Writes the context's UTF-8 to a new file only its owner may read. */
export function writeContextFile(path: string, context: EncodedContext): void {
  const fd = openSync(path, "wx", 0o600);
  try {
    const { text } = context;
    // One buffer for every slice: fresh memory for each would cost as much as encoding it all at once.
    const slice = Buffer.allocUnsafe(Math.min(FILE_SLICE_CHARS, text.length) * 3);
    for (let start = 0; start < text.length;) {
      let end = Math.min(start + FILE_SLICE_CHARS, text.length);
      // Never split a surrogate pair: each half alone would be written as U+FFFD.
      if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
      const length = slice.write(text.slice(start, end), "utf8");
      for (let written = 0; written < length;) written += writeSync(fd, slice, written, length - written);
      start = end;
    }
  } finally {
    closeSync(fd);
  }
}

function encoded(kind: EncodedContext["kind"], text: string): EncodedContext {
  let bytes: Uint8Array | undefined;
  return { kind, text, bytes: () => (bytes ??= ownedBytes(text)) };
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** UTF-8 bytes in an ArrayBuffer of their own, so it can be transferred (small Buffers share a pool). */
function ownedBytes(text: string): Uint8Array {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  return new Uint8Array(bytes);
}
