/**
 * The short description of a context that the root model sees instead of the context itself: its type,
 * its size, and for collections a glimpse of the items. It costs O(items), never O(characters) beyond
 * the strings' lengths, so describing 100 MB takes microseconds.
 */
import { formatCount } from "../format-count.ts";
import type { JsonValue, RlmContext } from "./context.ts";
import type { FileNote } from "./documents.ts";
import { isLazyContext, MAX_READ_BYTES, type LazyContext } from "./lazy-context.ts";

export type { FileNote } from "./documents.ts";

/** Extra facts a loader knows, e.g. where files came from and which were skipped. */
export interface ContextNotes {
  /** One line on where the context came from, e.g. "files under ./src". */
  source?: string;
  /** Things the model should know were left out. */
  skipped?: string[];
  /**
   * Files that were converted or parsed (a PDF, a CSV...), by their key in a dict context, or by the
   * file's name when the context is that one file.
   */
  files?: { readonly [key: string]: FileNote };
}

const LIST_SAMPLE = 10;
const KEY_LISTING = 100;
/** Up to this length lines are counted exactly; beyond it, estimated from evenly spread samples. */
const EXACT_LINE_COUNT_CHARS = 1_000_000;
const LINE_SAMPLES = 16;
const LINE_SAMPLE_CHARS = 16_384;

/**
 * What the model is told about a context. `name` is the variable it is in: `context`, or a session's
 * `context_1`, `context_2`, ... `language` is the REPL's, for a lazy context's handle (its methods).
 */
export function describeContext(
  context: RlmContext,
  notes: ContextNotes = {},
  name = "context",
  language: "python" | "javascript" = "python",
): string {
  const variable = `\`${name}\``;
  const lines: string[] = [];
  if (isLazyContext(context)) {
    lines.push(...describeLazy(context, name, language));
  } else if (typeof context === "string") {
    lines.push(
      `${variable} is a str of ${formatCount(context.length)} characters (${lineCount(context)} lines).`,
    );
  } else if (Array.isArray(context)) {
    const items = context as readonly (string | { readonly [key: string]: JsonValue })[];
    const lengths = items.map(sizeOf);
    const total = lengths.reduce((a, b) => a + b, 0);
    const kind = typeof items[0] === "string" || items.length === 0 ? "str" : "dict";
    lines.push(
      `${variable} is a list of ${formatCount(items.length)} ${kind} items, ${formatCount(total)} characters in total.`,
      items.length > 0
        ? `Lengths of the first ${Math.min(LIST_SAMPLE, items.length)} items: ${lengths.slice(0, LIST_SAMPLE).map(formatCount).join(", ")}` +
            (items.length > LIST_SAMPLE
              ? ` (max ${formatCount(Math.max(...lengths))}, min ${formatCount(Math.min(...lengths))}).`
              : ".")
        : "The list is empty.",
    );
    if (kind === "dict" && items.length > 0) {
      lines.push(
        `Keys of the first item: ${Object.keys(items[0] as object)
          .slice(0, 20)
          .join(", ")}.`,
      );
    }
  } else {
    const entries = Object.entries(context);
    const sizes = entries.map(([, v]) => sizeOf(v));
    const total = sizes.reduce((a, b) => a + b, 0);
    lines.push(
      `${variable} is a dict with ${formatCount(entries.length)} keys, ${formatCount(total)} characters of values in total.`,
    );
    const shown = entries.slice(0, KEY_LISTING).map(([k], i) => {
      const file = notes.files?.[k];
      return `  ${k} (${formatCount(sizes[i] ?? 0)} chars${file ? `; ${fileSummary(file)}` : ""})`;
    });
    if (shown.length > 0) {
      lines.push(
        `Keys${entries.length > KEY_LISTING ? ` (first ${KEY_LISTING}; ${language === "python" ? `print(list(${name}))` : `print(Object.keys(${name}))`} for all)` : ""}:`,
        ...shown,
      );
    }
  }
  if (notes.source) lines.push(`It holds ${notes.source}.`);
  lines.push(...describeFiles(context, notes.files ?? {}));
  if (notes.skipped && notes.skipped.length > 0) {
    lines.push(
      `Left out when loading: ${notes.skipped.slice(0, 20).join("; ")}${notes.skipped.length > 20 ? `; and ${notes.skipped.length - 20} more` : ""}.`,
    );
  }
  return lines.join("\n");
}

/** A lazy context: its size and files, and what its handle supports in the REPL's language. */
function describeLazy(context: LazyContext, name: string, language: "python" | "javascript"): string[] {
  const v = name;
  const size = `${formatCount(context.totalBytes)} bytes (${formatBytes(context.totalBytes)})`;
  const max = formatCount(MAX_READ_BYTES);
  const lines: string[] = [];
  const py = language === "python";
  if (context.shape === "file") {
    lines.push(
      `\`${v}\` is a lazy, read-only handle to one file of ${size}, too large to load whole: it stays on the host and is read in pieces.`,
    );
  } else {
    lines.push(
      `\`${v}\` is a lazy, read-only handle to a folder of ${formatCount(context.files.length)} files, ${size} in total, too large to load whole: the files stay on the host and are read in pieces.`,
      `Files${context.files.length > KEY_LISTING ? ` (first ${KEY_LISTING}; ${py ? `print(list(${v}))` : `print(Object.keys(${v}))`} for all)` : ""}:`,
      ...context.files
        .slice(0, KEY_LISTING)
        .map((file) => `  ${file.key} (${formatCount(file.bytes)} bytes)`),
    );
  }
  const f = context.shape === "file" ? v : `${v}[path]`;
  lines.push(
    `Offsets and lengths count UTF-8 bytes, not characters. What the handle supports (every read returns at most ${max} bytes; a larger one raises an error):`,
  );
  if (context.shape === "folder")
    lines.push(
      py
        ? `  ${v} is a read-only Mapping: len(${v}) (files), ${v}.keys(), ${v}.items(), "path" in ${v}; ${v}[path] is a handle to that file.`
        : `  ${v} is a read-only object: Object.keys(${v}), Object.entries(${v}), ${v}[path] is a handle to that file; ${v}.totalBytes.`,
      py
        ? `  ${v}.grep(pattern, limit=100, ignore_case=False, fixed=False) searches every file on the host: a list of GrepMatch(path, line, text) (line from 1), with .count of all matching lines.`
        : `  ${v}.grep(pattern, { limit: 100, ignoreCase: false, fixed: false }) searches every file on the host: an array of { path, line, text } (line from 1), with .count of all matching lines.`,
    );
  lines.push(
    ...(py
      ? [
          `  len(${f}) (bytes); ${f}[a:b] (a str; decode cuts at the edges as U+FFFD); "needle" in ${f} and ${f}.find(s, start) (searched on the host).`,
          `  for line in ${f}.lines(): ... streams its lines (without line breaks); ${f}.lines(start, end) takes 0-based line numbers; ${f}.line_count().`,
          `  ${f}.grep(pattern, limit=100, ignore_case=False, fixed=False): matching lines, searched on the host (pattern: a regular expression in JavaScript syntax; most of Python's re works, (?P<name>...) too).`,
          `  It is not a str: ${f}.splitlines(), .split(), re.findall(..., ${f}) and the like raise an error; call them on a slice (${f}[a:b].splitlines()) or on each line.`,
        ]
      : [
          `  ${f}.length (bytes); ${f}.slice(a, b) (a string); ${f}.includes(s) and ${f}.indexOf(s, from) (searched on the host).`,
          `  for (const line of ${f}.lines()) streams its lines (without line breaks); ${f}.lines(start, end) takes 0-based line numbers; ${f}.lineCount().`,
          `  ${f}.grep(pattern, { limit: 100, ignoreCase: false, fixed: false }): matching lines, searched on the host.`,
          `  It is not a string: ${f}.split(), .match() and the like throw; call them on a slice (${f}.slice(a, b).split("\\n")) or on each line.`,
        ]),
    `Prefer grep() to find what matters, then read around it; reading all of it line by line is slow.`,
  );
  return lines;
}

/**
 * For a single file: what it is and how it is laid out. For a dict of files: one line on the documents
 * converted to text, by kind, with each kind's layout said once.
 */
function describeFiles(context: RlmContext, files: { readonly [key: string]: FileNote }): string[] {
  const entries = Object.entries(files);
  if (entries.length === 0) return [];
  const isDict = typeof context === "object" && !Array.isArray(context);
  if (!isDict)
    return entries.map(
      ([name, file]) => `${name}: ${fileSummary(file)}${file.layout ? `; ${file.layout}` : ""}.`,
    );
  const kinds = new Map<string, { count: number; layout: string | undefined }>();
  for (const [, file] of entries) {
    const kind = kinds.get(file.kind) ?? { count: 0, layout: file.layout };
    kind.count++;
    kinds.set(file.kind, kind);
  }
  const listed = [...kinds].map(
    ([kind, { count, layout }]) => `${formatCount(count)} ${kind}${layout ? ` (${layout})` : ""}`,
  );
  return [`Documents converted to text: ${listed.join("; ")}.`];
}

/** "PDF, 2 pages, 14.2 KB" */
function fileSummary(file: FileNote): string {
  const pages =
    file.pages === undefined ? [] : [`${formatCount(file.pages)} page${file.pages === 1 ? "" : "s"}`];
  return [file.kind, ...pages, ...(file.extent ? [file.extent] : []), formatBytes(file.bytes)].join(", ");
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${formatCount(bytes)} bytes`;
  const [unit, size] =
    bytes < 1024 ** 2
      ? ["KB", bytes / 1024]
      : bytes < 1024 ** 3
        ? ["MB", bytes / 1024 ** 2]
        : ["GB", bytes / 1024 ** 3];
  return `${formatCount(Number(size.toFixed(1)))} ${unit}`;
}

/** Character size of a value as the model would read it. */
function sizeOf(value: JsonValue | undefined): number {
  if (typeof value === "string") return value.length;
  if (value === undefined) return 0;
  return JSON.stringify(value).length;
}

/**
 * Lines in the text: counted exactly up to `EXACT_LINE_COUNT_CHARS`, estimated beyond it ("about N")
 * from samples spread over the whole text, so describing a huge context never delays the first
 * request (a full count of 10 MB of short lines took ~20 ms).
 */
function lineCount(text: string): string {
  if (text.length === 0) return "0";
  if (text.length <= EXACT_LINE_COUNT_CHARS) {
    const breaks = countBreaks(text, 0, text.length);
    return formatCount(text.endsWith("\n") ? breaks : breaks + 1);
  }
  const stride = Math.floor(text.length / LINE_SAMPLES);
  let breaks = 0;
  for (let s = 0; s < LINE_SAMPLES; s++)
    breaks += countBreaks(text, s * stride, s * stride + LINE_SAMPLE_CHARS);
  const estimate = (breaks * text.length) / (LINE_SAMPLES * LINE_SAMPLE_CHARS);
  return `about ${formatCount(Number(Math.max(1, estimate).toPrecision(3)))}`;
}

/** Newlines in `text` from `start` up to (not including) `end`. */
function countBreaks(text: string, start: number, end: number): number {
  let breaks = 0;
  for (let i = text.indexOf("\n", start); i !== -1 && i < end; i = text.indexOf("\n", i + 1)) breaks++;
  return breaks;
}
