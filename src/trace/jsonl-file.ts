/**
 * A JSON-lines file whose last line can be rewritten in place: a record still growing (the turn in
 * progress) is rewritten after each change, so a crash leaves every finished change on disk. Writes
 * are synchronous so each lands in one system call, in order.
 */
import { closeSync, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export class RewritableJsonlFile {
  readonly path: string;
  #fd: number | undefined;
  /** Byte offset where the last line starts. */
  #lineStart = 0;
  /** Bytes of the last line as written; 0 when the next write starts a new line. */
  #lineBytes = 0;

  /**
   * Creates (or truncates) the file, and its folder if missing. With `append`, opens the file as it is
   * and writes after its last line, which is never rewritten (a session's next question).
   */
  constructor(path: string, options: { append?: boolean } = {}) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
    // Not "a": an append-mode descriptor ignores the positions `rewriteLast` writes at.
    this.#fd = openSync(path, options.append && existsSync(path) ? "r+" : "w");
    if (options.append) this.#lineStart = fstatSync(this.#fd).size;
  }

  /** Writes `value` as a new line. */
  append(value: unknown): void {
    this.#lineStart += this.#lineBytes;
    this.#lineBytes = 0;
    this.rewriteLast(value);
  }

  /** Replaces the last line written by `append` (or writes it, if none was). */
  rewriteLast(value: unknown): void {
    if (this.#fd === undefined) return;
    const bytes = Buffer.from(`${JSON.stringify(value)}\n`);
    if (bytes.length < this.#lineBytes) ftruncateSync(this.#fd, this.#lineStart);
    writeSync(this.#fd, bytes, 0, bytes.length, this.#lineStart);
    this.#lineBytes = bytes.length;
  }

  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}
