/**
 * `grep(pattern, flags, max_matches, context_lines, path)` on the host: a regular expression run over
 * the context's texts with V8's regex engine, returning the matching lines with their locations. The
 * pattern is Python `re` syntax where JavaScript's differs in spelling only (`(?P<name>...)`,
 * `(?P=name)`, leading `(?i)`, `\A`, `\Z`); constructs JavaScript lacks are refused with the reason.
 * Output is bounded: at most `max_matches` lines, each cut to `GREP_LINE_CHARS` around the match,
 * and `GREP_OUTPUT_CHARS` in all; `total` counts every matching line, shown or not.
 */
import picomatch from "picomatch";
import { formatCount } from "../../format-count.ts";
import { citeOf, locate, type CorpusDocument, type Location } from "./corpus.ts";

/** Characters of a matching line returned (a longer line is cut around the match). */
export const GREP_LINE_CHARS = 400;
/** Characters of line text one `grep` call returns in all, context lines included. */
export const GREP_OUTPUT_CHARS = 100_000;
/** The most matching lines one call returns (`max_matches` above it is lowered to it). */
export const GREP_MAX_MATCHES = 5_000;
/** The most context lines shown on each side of a match. */
export const GREP_MAX_CONTEXT_LINES = 20;

export interface GrepOptions {
  /** Python `re` flags: letters (`"i"`, `"ms"`) or `re.I | re.M` as an integer. */
  flags?: string | number | undefined;
  /** @default 100 */
  maxMatches?: number | undefined;
  /** Lines shown before and after each match. @default 0 */
  contextLines?: number | undefined;
  /** Only documents whose path is this, is under this folder (`logs/`), or matches this glob. */
  path?: string | undefined;
}

/** One matching line. */
export interface GrepMatch extends Location {
  text: string;
  /** How to cite it: `[` + this + `]` in the answer. */
  cite: string;
  before?: string[];
  after?: string[];
}

export interface GrepResult {
  matches: GrepMatch[];
  /** Matching lines in all, shown or not. */
  total: number;
  /** Some matching lines are not in `matches`. */
  truncated: boolean;
  /** Why, and what to do, when something was cut. */
  note?: string;
}

/** A pattern the host cannot run: the message says why and how to rewrite it. */
export class GrepPatternError extends Error {}

const PYTHON_FLAGS: Readonly<Record<number, string>> = { 2: "i", 8: "m", 16: "s" };
// re.ASCII (256), re.UNICODE (32) and re.DEBUG (128) change nothing a host regex does differently enough to refuse.
const IGNORED_FLAG_BITS = 256 | 32;

/**
 * The RegExp for a Python-style pattern (global and multiline, so `^` and `$` anchor lines). Throws
 * `GrepPatternError` for what cannot run.
 */
export function compilePattern(pattern: string, flags: string | number | undefined): RegExp {
  let letters = flagLetters(flags);
  let source = pattern;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(source);
  if (inline) {
    const given = inline[1] ?? "";
    if (/[Lx]/.test(given))
      throw new GrepPatternError(
        `the inline flag (?${given}) is not supported on the host (verbose and locale modes); write the pattern without it`,
      );
    letters += given.replace(/[au]/g, "");
    source = source.slice(inline[0].length);
  }
  if (/\(\?[aiLmsux]+\)/.test(source))
    throw new GrepPatternError(
      "inline flags like (?i) work only at the start of the pattern; move them there or pass flags",
    );
  if (/\(\?P>|\(\?\(/.test(source))
    throw new GrepPatternError("conditional groups (?(...)) and (?P>...) are not supported on the host");
  source = source
    .replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, "(?<$1>")
    .replace(/\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/g, "\\k<$1>")
    .replace(/^\\A/, "^")
    .replace(/\\Z$/, "$");
  if (/(^|[^\\])\\[AZ]/.test(source))
    throw new GrepPatternError("\\A and \\Z are supported only at the start and end of the pattern");
  if (hasNestedQuantifier(source))
    throw new GrepPatternError(
      "a quantified group that itself ends in a quantifier, like (a+)+ or (\\w*)*, can take exponential time; rewrite it without the nesting",
    );
  const unique = [...new Set(`gm${letters}`)].join("");
  try {
    return new RegExp(source, unique);
  } catch (error) {
    throw new GrepPatternError(
      `invalid pattern: ${(error as Error).message.replace(/^Invalid regular expression: /, "")}`,
    );
  }
}

function flagLetters(flags: string | number | undefined): string {
  if (flags === undefined) return "";
  if (typeof flags === "number") {
    let letters = "";
    let rest = flags & ~IGNORED_FLAG_BITS;
    for (const [bit, letter] of Object.entries(PYTHON_FLAGS)) {
      if (rest & Number(bit)) letters += letter;
      rest &= ~Number(bit);
    }
    if (rest !== 0)
      throw new GrepPatternError(
        `flags ${flags} include ones the host does not support (re.VERBOSE, re.LOCALE); use re.I, re.M, re.S`,
      );
    return letters;
  }
  const letters = flags.toLowerCase().replace(/[\s|,]/g, "");
  const bad = letters.replace(/[ims]/g, "");
  if (bad)
    throw new GrepPatternError(
      `unsupported flags "${bad}": use "i" (ignore case), "m" (multiline), "s" (dot matches newline)`,
    );
  return letters.replace(/m/g, "");
}

/** `( ... + )+`, `( ... * )*`, `( ... + ){2,}`: groups where backtracking can explode. */
function hasNestedQuantifier(source: string): boolean {
  return /\((?:[^()\\]|\\.)*(?:[+*]|\})\)(?:[+*]|\{\d*,)/.test(source);
}

/**
 * Calls `visit` for each line of `text` that `regex` (global) matches, with the line's number and
 * bounds and where the match starts; a match that spans lines is reported on its first line. Returns
 * the number of matching lines. This is the whole scan: `grep` and the benchmark both run it.
 */
export function scanLines(
  text: string,
  regex: RegExp,
  visit: (line: number, start: number, end: number, at: number) => void,
): number {
  regex.lastIndex = 0;
  let line = 1;
  let counted = 0;
  let count = 0;
  for (;;) {
    const match = regex.exec(text);
    if (!match) break;
    const at = match.index;
    let newline = text.indexOf("\n", counted);
    while (newline !== -1 && newline < at) {
      line++;
      newline = text.indexOf("\n", newline + 1);
    }
    const start = at === 0 ? 0 : text.lastIndexOf("\n", at - 1) + 1;
    const end = newline === -1 ? text.length : newline;
    visit(line, start, end, at);
    count++;
    if (end >= text.length) break;
    counted = end + 1;
    line++;
    regex.lastIndex = end + 1;
  }
  return count;
}

/** Whether a document is one `path` selects: the same path, one under it as a folder, or a glob match. */
export function pathFilter(path: string | undefined): (doc: CorpusDocument) => boolean {
  if (path === undefined || path === "") return () => true;
  const name = (doc: CorpusDocument) => doc.path ?? (doc.index !== undefined ? String(doc.index) : "");
  if (picomatch.scan(path).isGlob) {
    const isMatch = picomatch(path, { dot: true });
    return (doc) => isMatch(name(doc));
  }
  const folder = path.endsWith("/") ? path : `${path}/`;
  return (doc) => name(doc) === path || name(doc).startsWith(folder);
}

/** Runs a grep over `docs`. Throws `GrepPatternError` for a pattern the host cannot run. */
export function grep(
  docs: readonly CorpusDocument[],
  pattern: string,
  options: GrepOptions = {},
): GrepResult {
  const collector = new GrepCollector(pattern, options);
  const selected = pathFilter(options.path);
  for (const doc of docs) if (selected(doc)) collector.scan(doc, doc.text, 0);
  return collector.result();
}

/**
 * One grep's matches as texts are scanned: whole documents, or a large context's chunks of whole
 * lines (`scan(doc, chunk, lineOffset)`, the lines before the chunk). `result()` says what was cut.
 */
export class GrepCollector {
  readonly regex: RegExp;
  readonly #maxMatches: number;
  readonly #contextLines: number;
  readonly #matches: GrepMatch[] = [];
  #total = 0;
  #chars = 0;
  #outOfRoom = false;

  /** Throws `GrepPatternError` for a pattern the host cannot run. */
  constructor(pattern: string, options: GrepOptions = {}) {
    this.regex = compilePattern(pattern, options.flags);
    this.#maxMatches = Math.min(options.maxMatches ?? 100, GREP_MAX_MATCHES);
    this.#contextLines = Math.min(options.contextLines ?? 0, GREP_MAX_CONTEXT_LINES);
  }

  scan(doc: CorpusDocument, text: string, lineOffset: number): void {
    this.#total += scanLines(text, this.regex, (line, start, end, at) => {
      if (this.#matches.length >= this.#maxMatches || this.#outOfRoom) return;
      const match: GrepMatch = {
        ...locate(doc, line + lineOffset),
        text: cutLine(text, start, end, at),
        cite: "",
      };
      match.cite = citeOf(match);
      if (this.#contextLines > 0) {
        match.before = linesBefore(text, start, this.#contextLines);
        match.after = linesAfter(text, end, this.#contextLines);
      }
      const size =
        match.text.length +
        (match.before?.reduce((n, l) => n + l.length, 0) ?? 0) +
        (match.after?.reduce((n, l) => n + l.length, 0) ?? 0);
      if (this.#chars + size > GREP_OUTPUT_CHARS && this.#matches.length > 0) {
        this.#outOfRoom = true;
        return;
      }
      this.#chars += size;
      this.#matches.push(match);
    });
  }

  result(): GrepResult {
    const matches = this.#matches;
    const total = this.#total;
    const truncated = total > matches.length;
    const result: GrepResult = { matches, total, truncated };
    if (truncated)
      result.note = this.#outOfRoom
        ? `showing ${formatCount(matches.length)} of ${formatCount(total)} matching lines: the output reached ${formatCount(GREP_OUTPUT_CHARS)} characters; narrow the pattern or the path, or use fewer context_lines`
        : `showing ${formatCount(matches.length)} of ${formatCount(total)} matching lines (max_matches=${this.#maxMatches}); narrow the pattern or the path, or raise max_matches (up to ${formatCount(GREP_MAX_MATCHES)})`;
    return result;
  }
}

/** The line from `start` to `end`, cut to `GREP_LINE_CHARS` around `at` when longer. */
function cutLine(text: string, start: number, end: number, at: number): string {
  if (end - start <= GREP_LINE_CHARS) return text.slice(start, end).replace(/\r$/, "");
  const from = Math.max(start, Math.min(at - GREP_LINE_CHARS / 4, end - GREP_LINE_CHARS));
  const to = Math.min(end, from + GREP_LINE_CHARS);
  const head = from > start ? "…" : "";
  const tail = to < end ? `…[line of ${formatCount(end - start)} characters]` : "";
  return `${head}${text.slice(from, to)}${tail}`;
}

function shortLine(text: string, start: number, end: number): string {
  const line = text.slice(start, Math.min(end, start + GREP_LINE_CHARS)).replace(/\r$/, "");
  return end - start > GREP_LINE_CHARS ? `${line}…` : line;
}

function linesBefore(text: string, start: number, count: number): string[] {
  const lines: string[] = [];
  let end = start - 1;
  while (lines.length < count && end >= 0) {
    const from = text.lastIndexOf("\n", end - 1) + 1;
    lines.unshift(shortLine(text, from, end));
    end = from - 1;
  }
  return lines;
}

function linesAfter(text: string, end: number, count: number): string[] {
  const lines: string[] = [];
  let from = end + 1;
  while (lines.length < count && from <= text.length && end < text.length) {
    const next = text.indexOf("\n", from);
    const to = next === -1 ? text.length : next;
    lines.push(shortLine(text, from, to));
    if (next === -1) break;
    from = next + 1;
  }
  return lines;
}
