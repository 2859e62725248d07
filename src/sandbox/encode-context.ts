/**
 * How a context crosses into a guest: UTF-8 bytes, either the text itself or JSON. Bytes move to the
 * guest by transfer, not copy, or through a file in a guest process's private folder.
 */
import { ContextLoadError } from "../errors.ts";
import type { RlmContext } from "../context/context.ts";

export interface EncodedContext {
  /** `text`: the bytes are the string itself; `json`: they are a JSON document. */
  kind: "text" | "json";
  bytes: Uint8Array;
}

export function encodeContext(context: RlmContext): EncodedContext {
  if (typeof context === "string") return { kind: "text", bytes: ownedBytes(context) };
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
  return { kind: "json", bytes: ownedBytes(json) };
}

/** UTF-8 bytes in an ArrayBuffer of their own, so it can be transferred (small Buffers share a pool). */
function ownedBytes(text: string): Uint8Array {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  return new Uint8Array(bytes);
}
