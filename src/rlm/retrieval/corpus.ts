/**
 * A run's context as the retrieval helpers (`grep`, `search`) read it: a list of documents, each a
 * text with a location (its path for a dict, its index for a list, nothing for a single string), the
 * lines of its PDF pages when it has `--- page N of M ---` markers, and how a result in it is cited.
 */
import type { RlmContext } from "../../context/context.ts";

/** One text of the context. */
export interface CorpusDocument {
  /** Its key, for a dict context. */
  path?: string;
  /** Its position, for a list context. */
  index?: number;
  text: string;
  /** The first line of each PDF page, in order (`undefined`: not read yet; `null`: none). */
  pageStarts?: { line: number; page: number }[] | null;
}

/** Where a result is: what `grep` and `search` return beside the text, and what a citation names. */
export interface Location {
  path?: string;
  index?: number;
  /** 1-based. */
  line: number;
  /** The last line of a range (a `search` chunk), when it is not `line`. */
  lineEnd?: number;
  /** The PDF page `line` is on, when the text has page markers. */
  page?: number;
}

/** The marker line a PDF's text carries before each page (`context/documents.ts` writes it). */
const PAGE_MARKER = /^--- page (\d+) of \d+ ---$/gm;

/**
 * The documents of `context`: a string is one, a list of strings one per item, a dict one per key
 * (a value that is not a string as its JSON), a list of dicts one per row (as one line of JSON). A
 * context of another kind (a lazy one, held on the host) has none.
 */
export function corpusOf(context: RlmContext): CorpusDocument[] {
  const value: unknown = context;
  if (typeof value === "string") return [{ text: value }];
  if (Array.isArray(value))
    return value.map((item: unknown, index) => ({
      index,
      text: typeof item === "string" ? item : JSON.stringify(item),
    }));
  if (typeof value === "object" && value !== null && isPlain(value))
    return Object.entries(value).map(([path, item]) => ({
      path,
      text: typeof item === "string" ? item : JSON.stringify(item, null, 1),
    }));
  return [];
}

/** The PDF page `line` of `doc` is on, when its text has page markers. */
export function pageOf(doc: CorpusDocument, line: number): number | undefined {
  if (doc.pageStarts === undefined) doc.pageStarts = readPageStarts(doc.text);
  const starts = doc.pageStarts;
  if (!starts || starts.length === 0 || line < (starts[0]?.line ?? 0)) return undefined;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid]?.line ?? 0) <= line) lo = mid;
    else hi = mid - 1;
  }
  return starts[lo]?.page;
}

function readPageStarts(text: string): { line: number; page: number }[] | null {
  if (!text.includes("--- page ")) return null;
  const starts: { line: number; page: number }[] = [];
  let line = 1;
  let counted = 0;
  for (const m of text.matchAll(PAGE_MARKER)) {
    line += countNewlines(text, counted, m.index);
    counted = m.index;
    starts.push({ line, page: Number(m[1]) });
  }
  return starts.length > 0 ? starts : null;
}

/** Newlines in `text` from `from` (inclusive) to `to` (exclusive). */
export function countNewlines(text: string, from: number, to: number): number {
  let count = 0;
  let at = text.indexOf("\n", from);
  while (at !== -1 && at < to) {
    count++;
    at = text.indexOf("\n", at + 1);
  }
  return count;
}

/** A document's location at `line` (to `lineEnd`), with its page when it has pages. */
export function locate(doc: CorpusDocument, line: number, lineEnd?: number): Location {
  const location: Location = {
    ...(doc.path !== undefined ? { path: doc.path } : {}),
    ...(doc.index !== undefined ? { index: doc.index } : {}),
    line,
    ...(lineEnd !== undefined && lineEnd !== line ? { lineEnd } : {}),
  };
  const page = pageOf(doc, line);
  if (page !== undefined) location.page = page;
  return location;
}

/**
 * How an answer cites a location, without the brackets: `src/auth.ts:42`, `src/auth.ts:40-79`,
 * `#3:12` (item 3 of a list), `line 42` or `lines 40-79` (a single text); a location on a PDF page is
 * cited by its page, `page 3` or `report.pdf page 3`.
 */
export function citeOf(location: Location): string {
  const where =
    location.path !== undefined ? location.path : location.index !== undefined ? `#${location.index}` : "";
  if (location.page !== undefined) return where ? `${where} page ${location.page}` : `page ${location.page}`;
  const lines = location.lineEnd === undefined ? `${location.line}` : `${location.line}-${location.lineEnd}`;
  if (where) return `${where}:${lines}`;
  return location.lineEnd === undefined ? `line ${lines}` : `lines ${lines}`;
}

function isPlain(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
