/**
 * A context too large to load whole (over `lazyAboveBytes`, 1 GiB by default): files on the host that
 * the REPL reads through a read-only handle, a piece at a time. Offsets are UTF-8 byte offsets (the
 * honest unit for files of gigabytes: no pass over the text is needed to find one), so `len()` of a
 * handle counts bytes. Every read is bounded (`MAX_READ_BYTES`) so no call pulls a whole file into
 * the guest; searches stream the files in chunks and never hold more than one chunk of a file.
 *
 * Line numbers are found with a sparse index per file (the byte offset of every `LINE_SAMPLE_EVERY`-th
 * line), built by one streaming pass the first time a file's lines are asked for by number.
 */
import { open, type FileHandle } from "node:fs/promises";
import { formatCount } from "../format-count.ts";

/** Sizes above which a file or folder is served lazily, unless told otherwise. @unit bytes */
export const DEFAULT_LAZY_ABOVE_BYTES = 2 ** 30;
/** The most one read of a lazy context returns to the guest. @unit bytes */
export const MAX_READ_BYTES = 8 * 2 ** 20;
/** The most lines one `lines(start, end)` call returns. */
const MAX_READ_LINES = 100_000;
/** What one streaming step reads from a file (searches, line iteration). @unit bytes */
const CHUNK_BYTES = 4 * 2 ** 20;
/** The guest's line iteration takes whole lines in pieces of about this size. @unit bytes */
const LINE_CHUNK_BYTES = 2 ** 20;
/** One line of the sparse index is kept per this many lines. */
const LINE_SAMPLE_EVERY = 4096;
/** A matched line longer than this is cut in results. @unit characters */
const MAX_MATCH_LINE_CHARS = 2000;

const BRAND = Symbol.for("rlm.lazy-context");

/** One file of a lazy context: its key (as a folder's dict has it), where it is, its size. */
export interface LazyFile {
  readonly key: string;
  readonly path: string;
  /** @unit bytes */
  readonly bytes: number;
}

/** A line found by `grep`: the file's key, its 1-based line number, its text (cut when very long). */
export interface LazyMatch {
  path: string;
  line: number;
  text: string;
}

/** A line as `readLines` yields it: the file's key, its 1-based number, its text without the newline. */
export interface LazyLine {
  path: string;
  line: number;
  text: string;
}

export interface GrepOptions {
  /** Search this file only (its key); every file when absent. */
  path?: string | undefined;
  /** Matched lines to return; the rest are only counted. @default 100 */
  limit?: number;
  /** `pattern` is a plain string, not a regular expression. @default false */
  fixed?: boolean;
  /** @default false */
  ignoreCase?: boolean;
  signal?: AbortSignal;
}

/** A read the context cannot serve: an unknown file, a range too large. The message says why. */
export class LazyContextError extends Error {
  override name = "LazyContextError";
}

interface LineIndex {
  /** Byte offset of line `i * LINE_SAMPLE_EVERY` (0-based) at index `i`. */
  samples: Float64Array;
  lines: number;
}

/** True for a `LazyContext`, even one made by another copy of this package. */
export function isLazyContext(value: unknown): value is LazyContext {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * Files served to the REPL in pieces. `shape` says what the REPL sees: `file` (one str-like handle) or
 * `folder` (a read-only mapping of key to such handles).
 */
export class LazyContext {
  readonly [BRAND] = true;
  readonly shape: "file" | "folder";
  /** Sorted by key. */
  readonly files: readonly LazyFile[];
  /** @unit bytes */
  readonly totalBytes: number;
  readonly #byKey: Map<string, LazyFile>;
  readonly #indexes = new Map<string, Promise<LineIndex>>();

  constructor(shape: "file" | "folder", files: readonly LazyFile[]) {
    if (shape === "file" && files.length !== 1)
      throw new LazyContextError(`A lazy file context holds one file, not ${files.length}.`);
    this.shape = shape;
    this.files = [...files].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.totalBytes = files.reduce((sum, file) => sum + file.bytes, 0);
    this.#byKey = new Map(this.files.map((file) => [file.key, file]));
  }

  /** What the guest's handle is built from: the shape, each file's key and size, the read limit. */
  manifest(): { shape: "file" | "folder"; files: [string, number][]; maxRead: number } {
    return {
      shape: this.shape,
      files: this.files.map((file) => [file.key, file.bytes]),
      maxRead: MAX_READ_BYTES,
    };
  }

  /** The file `key` names (the only file of a `file` context when absent). */
  file(key?: string | null): LazyFile {
    if (key === undefined || key === null) {
      const [only] = this.files;
      if (this.shape === "file" && only) return only;
      throw new LazyContextError("Name a file of the folder: this context holds several.");
    }
    const file = this.#byKey.get(key);
    if (!file) throw new LazyContextError(`No file ${JSON.stringify(key)} in this context.`);
    return file;
  }

  /** Bytes `start` to `end` of a file (clamped to it) as text; a cut character reads as U+FFFD. */
  async read(key: string | null | undefined, start: number, end: number): Promise<string> {
    const file = this.file(key);
    checkReadSize(end - start);
    const from = clamp(start, file.bytes);
    const to = Math.max(from, clamp(end, file.bytes));
    if (to === from) return "";
    return withFile(file, async (handle) => {
      const buffer = Buffer.allocUnsafe(to - from);
      const length = await readFully(handle, buffer, from);
      return buffer.toString("utf8", 0, length);
    });
  }

  /**
   * Whole lines from byte `start` on, about `LINE_CHUNK_BYTES` of them (one line longer than that is
   * cut there), and the byte offset after them: how the guest iterates over lines.
   */
  async chunk(key: string | null | undefined, start: number): Promise<{ text: string; end: number }> {
    const file = this.file(key);
    const from = clamp(start, file.bytes);
    if (from >= file.bytes) return { text: "", end: file.bytes };
    return withFile(file, async (handle) => {
      const buffer = Buffer.allocUnsafe(Math.min(LINE_CHUNK_BYTES, file.bytes - from));
      const length = await readFully(handle, buffer, from);
      let cut = length;
      if (from + length < file.bytes) {
        const lastBreak = buffer.lastIndexOf(10, length - 1);
        if (lastBreak !== -1) cut = lastBreak + 1;
      }
      return { text: buffer.toString("utf8", 0, cut), end: from + cut };
    });
  }

  /** Lines `start` to `end` (0-based, `end` exclusive) of a file, without their line breaks. */
  async lines(key: string | null | undefined, start: number, end: number): Promise<string[]> {
    const file = this.file(key);
    if (end - start > MAX_READ_LINES)
      throw new LazyContextError(
        `One read returns at most ${formatCount(MAX_READ_LINES)} lines (asked for ${formatCount(end - start)}); read fewer at a time.`,
      );
    const index = await this.#lineIndex(file);
    const from = Math.max(0, Math.min(start, index.lines));
    const to = Math.max(from, Math.min(end, index.lines));
    if (to === from) return [];
    const sample = Math.floor(from / LINE_SAMPLE_EVERY);
    let line = sample * LINE_SAMPLE_EVERY;
    const out: string[] = [];
    let bytes = 0;
    chunks: for await (const chunk of streamChunks(file, index.samples[sample] ?? 0)) {
      for (const text of splitLines(chunk.text)) {
        if (line >= from) {
          bytes += text.length + 1;
          if (bytes > MAX_READ_BYTES) checkReadSize(bytes);
          out.push(text);
        }
        if (++line >= to) break chunks;
      }
    }
    return out;
  }

  /** Lines in a file (a last line without a newline counts), from its index. */
  async lineCount(key?: string | null): Promise<number> {
    return (await this.#lineIndex(this.file(key))).lines;
  }

  /**
   * The byte offset of the first occurrence of `needle` at or after `start` in a file, or -1; with no
   * file named in a folder, whether any file holds it (0 or -1).
   */
  async find(
    key: string | null | undefined,
    needle: string,
    start = 0,
    signal?: AbortSignal,
  ): Promise<number> {
    const files = key === undefined || key === null ? this.files : [this.file(key)];
    const bytes = Buffer.from(needle, "utf8");
    for (const file of files) {
      const at = await findInFile(file, bytes, files.length === 1 ? clamp(start, file.bytes) : 0, signal);
      if (at !== -1) return files.length === 1 ? at : 0;
    }
    return -1;
  }

  /**
   * Lines matching `pattern` (a regular expression, or a plain string with `fixed`), file by file in key
   * order: the first `limit` with their file and line number, and how many lines matched in all.
   */
  async grep(pattern: string, options: GrepOptions = {}): Promise<{ matches: LazyMatch[]; count: number }> {
    const limit = options.limit ?? 100;
    const regex = chunkRegex(pattern, options.fixed ?? false, options.ignoreCase ?? false);
    const matches: LazyMatch[] = [];
    let count = 0;
    for (const file of options.path === undefined ? this.files : [this.file(options.path)]) {
      for await (const { text, firstLine } of streamChunks(file, 0, options.signal)) {
        // Line numbers are counted only while matches are still listed.
        let line = firstLine;
        let counted = 0;
        for (let from = 0; from < text.length;) {
          regex.lastIndex = from;
          const found = regex.exec(text);
          if (!found) break;
          const lineStart = found.index === 0 ? 0 : text.lastIndexOf("\n", found.index - 1) + 1;
          let lineEnd = text.indexOf("\n", found.index);
          if (lineEnd === -1) lineEnd = text.length;
          count++;
          if (matches.length < limit) {
            line += countBreaks(text, counted, lineStart);
            counted = lineStart;
            const end = lineEnd > lineStart && text.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd;
            matches.push({ path: file.key, line, text: cutLine(text.slice(lineStart, end)) });
          }
          from = lineEnd + 1;
        }
      }
    }
    return { matches, count };
  }

  /**
   * The context (or one file) streamed from disk in chunks of whole lines, each with its file and the
   * 1-based number of its first line: for host-side tools (`grep`, `search`) that walk a lazy context
   * without loading it. Breaks stay in the text. A line longer than 4 MiB comes in pieces.
   */
  async *chunks(
    options: { path?: string; signal?: AbortSignal } = {},
  ): AsyncGenerator<{ path: string; firstLine: number; text: string }> {
    for (const file of options.path === undefined ? this.files : [this.file(options.path)])
      for await (const { text, firstLine } of streamChunks(file, 0, options.signal))
        yield { path: file.key, firstLine, text };
  }

  /** Every line of the context (or of one file) with its file and line number, built on `chunks`. */
  async *readLines(options: { path?: string; signal?: AbortSignal } = {}): AsyncGenerator<LazyLine> {
    for await (const { path, firstLine, text } of this.chunks(options)) {
      const batch: LazyLine[] = [];
      let line = firstLine;
      for (const piece of splitLines(text)) batch.push({ path, line: line++, text: piece });
      yield* batch;
    }
  }

  #lineIndex(file: LazyFile): Promise<LineIndex> {
    let index = this.#indexes.get(file.key);
    if (!index) {
      index = buildLineIndex(file);
      this.#indexes.set(file.key, index);
      index.catch(() => this.#indexes.delete(file.key));
    }
    return index;
  }
}

function checkReadSize(bytes: number): void {
  if (bytes > MAX_READ_BYTES)
    throw new LazyContextError(
      `One read of a lazy context returns at most ${formatCount(MAX_READ_BYTES)} bytes (asked for ${formatCount(bytes)}); read smaller slices, or iterate over lines.`,
    );
}

function clamp(offset: number, size: number): number {
  return Math.max(0, Math.min(Number.isFinite(offset) ? Math.floor(offset) : 0, size));
}

async function withFile<T>(file: LazyFile, use: (handle: FileHandle) => Promise<T>): Promise<T> {
  const handle = await open(file.path, "r").catch((error: NodeJS.ErrnoException) => {
    throw new LazyContextError(`${file.key} cannot be read: ${error.code ?? error.message}.`);
  });
  try {
    return await use(handle);
  } finally {
    await handle.close();
  }
}

async function readFully(handle: FileHandle, buffer: Buffer, position: number): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/**
 * A file from byte `start` (a line start) on, as text in chunks of whole lines (breaks kept), read
 * `CHUNK_BYTES` at a time, each with the 1-based number of its first line counted from `start`. A line
 * longer than a chunk comes in chunk-sized pieces.
 */
async function* streamChunks(
  file: LazyFile,
  start: number,
  signal?: AbortSignal,
): AsyncGenerator<{ text: string; firstLine: number }> {
  const handle = await open(file.path, "r").catch((error: NodeJS.ErrnoException) => {
    throw new LazyContextError(`${file.key} cannot be read: ${error.code ?? error.message}.`);
  });
  try {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let carried = 0;
    let position = start;
    let firstLine = 1;
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, carried, buffer.length - carried, position);
      position += bytesRead;
      const filled = carried + bytesRead;
      if (filled === 0) return;
      const atEnd = bytesRead === 0;
      let cut = atEnd ? filled : buffer.lastIndexOf(10, filled - 1) + 1;
      if (cut === 0) cut = filled; // no break in a whole chunk: hand the piece on as a line
      const text = buffer.toString("utf8", 0, cut);
      yield { text, firstLine };
      firstLine += countBreaks(text, 0, text.length) + (text.endsWith("\n") ? 0 : 1);
      if (atEnd) return;
      buffer.copy(buffer, 0, cut, filled);
      carried = filled - cut;
    }
  } finally {
    await handle.close();
  }
}

/** The lines of a chunk of whole lines, without their breaks (`\n`, and a `\r` before it). */
function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.endsWith("\r")) lines[i] = line.slice(0, -1);
  }
  return lines;
}

/** Newlines in `text` from `start` up to (not including) `end`. */
function countBreaks(text: string, start: number, end: number): number {
  let breaks = 0;
  for (let i = text.indexOf("\n", start); i !== -1 && i < end; i = text.indexOf("\n", i + 1)) breaks++;
  return breaks;
}

async function buildLineIndex(file: LazyFile): Promise<LineIndex> {
  let samples = new Float64Array(Math.max(16, Math.ceil(file.bytes / 100 / LINE_SAMPLE_EVERY) + 1));
  let lines = 0;
  let lastByte = 10;
  await withFile(file, async (handle) => {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let position = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      const view = buffer.subarray(0, bytesRead);
      for (let at = view.indexOf(10); at !== -1; at = view.indexOf(10, at + 1)) {
        lines++;
        if (lines % LINE_SAMPLE_EVERY === 0) {
          const slot = lines / LINE_SAMPLE_EVERY;
          if (slot >= samples.length) {
            const grown = new Float64Array(samples.length * 2);
            grown.set(samples);
            samples = grown;
          }
          samples[slot] = position + at + 1;
        }
      }
      lastByte = buffer[bytesRead - 1] ?? 10;
      position += bytesRead;
    }
  });
  if (lastByte !== 10) lines++;
  return { samples, lines };
}

async function findInFile(
  file: LazyFile,
  needle: Buffer,
  start: number,
  signal: AbortSignal | undefined,
): Promise<number> {
  if (needle.length === 0) return start;
  return withFile(file, async (handle) => {
    const buffer = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, needle.length * 2));
    let position = start;
    let carried = 0;
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, carried, buffer.length - carried, position);
      const filled = carried + bytesRead;
      const at = buffer.subarray(0, filled).indexOf(needle);
      if (at !== -1) return position - carried + at;
      if (bytesRead === 0) return -1;
      position += bytesRead;
      // Keep the tail a match could start in.
      carried = Math.min(needle.length - 1, filled);
      buffer.copy(buffer, 0, filled - carried, filled);
    }
  });
}

/**
 * A global, multiline regular expression that finds matches in a chunk of lines (a plain string is
 * escaped). Python spellings the model is used to are turned into JavaScript's: `(?P<name>` groups,
 * `(?P=name)` references, and inline flags `(?i)`, `(?m)`, `(?s)` at the start.
 */
function chunkRegex(pattern: string, fixed: boolean, ignoreCase: boolean): RegExp {
  let source = fixed ? pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : pattern;
  let flags = `gm${ignoreCase ? "i" : ""}`;
  const inline = fixed ? null : /^\(\?([imsx]+)\)/.exec(source);
  if (inline?.[1]) {
    for (const flag of inline[1]) if (flag !== "x" && !flags.includes(flag)) flags += flag;
    source = source.slice(inline[0].length);
  }
  if (!fixed) source = source.replace(/\(\?P</g, "(?<").replace(/\(\?P=(\w+)\)/g, "\\k<$1>");
  if (source === "") source = "(?:)";
  try {
    return new RegExp(source, flags);
  } catch (error) {
    throw new LazyContextError(`Bad pattern ${JSON.stringify(pattern)}: ${(error as Error).message}.`);
  }
}

function cutLine(text: string): string {
  return text.length > MAX_MATCH_LINE_CHARS ? `${text.slice(0, MAX_MATCH_LINE_CHARS)}…` : text;
}
