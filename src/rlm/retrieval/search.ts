/**
 * `search(query, k)` on the host: the context cut into overlapping chunks of lines, indexed with
 * BM25+ by MiniSearch the first time a run of the tree searches that context, and the `k` best chunks
 * returned with their locations and scores. MiniSearch is imported on first use, so a run that never
 * searches loads none of it.
 */
import type MiniSearch from "minisearch";
import { citeOf, locate, type CorpusDocument, type Location } from "./corpus.ts";

/** Lines per chunk at most. */
export const CHUNK_LINES = 40;
/** Characters per chunk at most (a longer line is cut into pieces of this size). */
export const CHUNK_CHARS = 2000;
/** Lines a chunk shares with the one before it, so an answer on a boundary is whole in one of them. */
export const CHUNK_OVERLAP_LINES = 5;
/** The most chunks one `search` returns. */
export const SEARCH_MAX_K = 50;

/** A range of one document: characters `start` to `end`, lines `lineStart` to `lineEnd` (1-based). */
export interface Chunk {
  doc: number;
  start: number;
  end: number;
  lineStart: number;
  lineEnd: number;
}

/** One result of `search`. */
export interface SearchHit extends Omit<Location, "line" | "lineEnd"> {
  line_start: number;
  line_end: number;
  score: number;
  text: string;
  /** How to cite it: `[` + this + `]` in the answer. */
  cite: string;
}

/**
 * The chunks of one document: up to `CHUNK_LINES` lines and `CHUNK_CHARS` characters each, the next
 * starting `CHUNK_OVERLAP_LINES` lines before the end of the last (always at least one line on).
 */
export function chunkDocument(text: string, doc: number): Chunk[] {
  if (text.length === 0) return [{ doc, start: 0, end: 0, lineStart: 1, lineEnd: 1 }];
  const lineEnd = (from: number) => {
    const at = text.indexOf("\n", from);
    return at === -1 ? text.length : at;
  };
  const chunks: Chunk[] = [];
  let pos = 0;
  let line = 1;
  while (pos < text.length) {
    const firstEnd = lineEnd(pos);
    if (firstEnd - pos > CHUNK_CHARS) {
      // One long line: pieces of it, all on that line.
      for (let at = pos; at < firstEnd; at += CHUNK_CHARS)
        chunks.push({
          doc,
          start: at,
          end: Math.min(at + CHUNK_CHARS, firstEnd),
          lineStart: line,
          lineEnd: line,
        });
      pos = firstEnd + 1;
      line++;
      continue;
    }
    const starts: number[] = [];
    let end = pos;
    let next = pos;
    let pageEnds = false;
    while (next < text.length && starts.length < CHUNK_LINES) {
      const e = lineEnd(next);
      if (starts.length > 0 && e - pos > CHUNK_CHARS) break;
      // A PDF's page is cited by its number, so no chunk runs on into the next page.
      if (starts.length > 0 && text.startsWith("--- page ", next) && isPageMarker(text.slice(next, e))) {
        pageEnds = true;
        break;
      }
      starts.push(next);
      end = e;
      next = e + 1;
    }
    chunks.push({ doc, start: pos, end, lineStart: line, lineEnd: line + starts.length - 1 });
    if (next >= text.length) break;
    const step = pageEnds ? starts.length : Math.max(1, starts.length - CHUNK_OVERLAP_LINES);
    pos = starts[step] ?? next;
    line += step;
  }
  return chunks;
}

function isPageMarker(line: string): boolean {
  return /^--- page \d+ of \d+ ---\r?$/.test(line);
}

/** A BM25+ index over a corpus's chunks. */
export class SearchIndex {
  readonly #docs: readonly CorpusDocument[];
  readonly #chunks: Chunk[];
  readonly #index: MiniSearch<{ id: number }>;

  private constructor(docs: readonly CorpusDocument[], chunks: Chunk[], index: MiniSearch<{ id: number }>) {
    this.#docs = docs;
    this.#chunks = chunks;
    this.#index = index;
  }

  /** Chunks `docs` and indexes the chunks (yielding to the event loop as it goes). */
  static async build(docs: readonly CorpusDocument[], signal?: AbortSignal): Promise<SearchIndex> {
    const { default: MiniSearchClass } = await import("minisearch");
    const chunks = docs.flatMap((doc, i) => chunkDocument(doc.text, i));
    const index = new MiniSearchClass<{ id: number }>({
      fields: ["text"],
      extractField: (entry, field) => {
        if (field === "id") return String(entry.id);
        const chunk = chunks[entry.id];
        return chunk ? (docs[chunk.doc]?.text.slice(chunk.start, chunk.end) ?? "") : "";
      },
    });
    const batch = 2000;
    for (let i = 0; i < chunks.length; i += batch) {
      signal?.throwIfAborted();
      index.addAll(chunks.slice(i, i + batch).map((_, j) => ({ id: i + j })));
      if (i + batch < chunks.length) await new Promise((resolve) => setImmediate(resolve));
    }
    return new SearchIndex(docs, chunks, index);
  }

  /** Chunks in the index. */
  get size(): number {
    return this.#chunks.length;
  }

  /** The `k` chunks that score best for `query` (any of its words; exact words, no stemming). */
  search(query: string, k: number, filter?: (doc: CorpusDocument) => boolean): SearchHit[] {
    const found = this.#index.search(query, {
      combineWith: "OR",
      ...(filter
        ? {
            filter: (result) => {
              const doc = this.#docs[this.#chunks[Number(result.id)]?.doc ?? -1];
              return doc !== undefined && filter(doc);
            },
          }
        : {}),
    });
    return found.slice(0, Math.min(k, SEARCH_MAX_K)).map((result) => {
      const chunk = this.#chunks[Number(result.id)] as Chunk;
      const doc = this.#docs[chunk.doc] as CorpusDocument;
      const location = locate(doc, chunk.lineStart, chunk.lineEnd);
      const { line: _line, lineEnd: _lineEnd, ...where } = location;
      return {
        ...where,
        line_start: chunk.lineStart,
        line_end: chunk.lineEnd,
        score: Math.round(result.score * 1000) / 1000,
        text: doc.text.slice(chunk.start, chunk.end),
        cite: citeOf(location),
      };
    });
  }
}
