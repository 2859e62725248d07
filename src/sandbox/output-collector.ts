/**
 * Collects a guest's printed output up to a character limit and counts the rest, so a cell that prints
 * gigabytes costs a counter, not memory.
 */

import { codePointLength, sliceCodePoints } from "../code-points.ts";

/** Characters are Unicode code points throughout (an emoji is one), as the model counts them. */
export interface CollectedOutput {
  /** The first `limit` characters. */
  text: string;
  /** Every character written, kept or not. */
  totalChars: number;
}

export class OutputCollector {
  readonly #limit: number;
  readonly #decoder = new TextDecoder();
  readonly #kept: string[] = [];
  #keptChars = 0;
  #totalChars = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Accepts a chunk of UTF-8 bytes; returns the byte count, as a stream writer must. */
  write(bytes: Uint8Array): number {
    this.#add(this.#decoder.decode(bytes, { stream: true }));
    return bytes.length;
  }

  result(): CollectedOutput {
    this.#add(this.#decoder.decode());
    return { text: this.#kept.join(""), totalChars: this.#totalChars };
  }

  #add(text: string): void {
    const length = codePointLength(text);
    this.#totalChars += length;
    const room = this.#limit - this.#keptChars;
    if (room <= 0 || length === 0) return;
    const piece = length <= room ? text : sliceCodePoints(text, room);
    this.#kept.push(piece);
    this.#keptChars += Math.min(length, room);
  }
}
