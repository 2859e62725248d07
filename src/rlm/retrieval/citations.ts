/**
 * Citations: an answer cites a location by writing the `cite` of a `grep` or `search` result in
 * square brackets (`[src/auth.ts:42]`, `[page 3]`, several as `[a.ts:3; b.ts:9]`). The tree keeps
 * every location its helpers returned; after the run, the markers in the answer that name one of them
 * (or a line inside a returned `search` chunk) become `result.citations`. Anything else in brackets
 * (a Markdown link, a made-up location) is left alone.
 */
import type { Citation } from "../../trace/trajectory.ts";
import type { Location } from "./corpus.ts";

/** Locations kept per tree at most; later results are still returned but cannot be cited. */
export const MAX_RECORDED_LOCATIONS = 50_000;

interface Returned {
  location: Location;
  text: string;
  callId: string;
}

/** The locations a tree's `grep` and `search` calls returned, by `cite`. */
export class LocationRecord {
  readonly #byCite = new Map<string, Returned>();
  /** `search` chunks by document (`path`, `#index` or ""), for a cite of one line inside one. */
  readonly #ranges = new Map<string, Returned[]>();
  #size = 0;

  /** Keeps a returned location (`cite` as the result carried it). */
  add(cite: string, location: Location, text: string, callId: string): void {
    if (this.#size >= MAX_RECORDED_LOCATIONS || this.#byCite.has(cite)) return;
    const entry = { location, text, callId };
    this.#byCite.set(cite, entry);
    this.#size++;
    if (location.lineEnd !== undefined) {
      const key = documentKey(location);
      const list = this.#ranges.get(key) ?? [];
      list.push(entry);
      this.#ranges.set(key, list);
    }
  }

  get size(): number {
    return this.#size;
  }

  /** The citation `cite` names, if a result returned it or a returned chunk holds its line. */
  resolve(cite: string): Citation | undefined {
    const exact = this.#byCite.get(cite);
    if (exact) return citation(cite, exact.location, exact.text, exact.callId);
    const line = parseLineCite(cite);
    if (!line) return undefined;
    for (const range of this.#ranges.get(line.key) ?? []) {
      const { location } = range;
      const end = location.lineEnd ?? location.line;
      if (line.line < location.line || line.line > end) continue;
      const text = range.text.split("\n")[line.line - location.line];
      const { lineEnd: _end, ...at } = location;
      return citation(cite, { ...at, line: line.line }, text ?? "", range.callId);
    }
    return undefined;
  }
}

/**
 * The citations in `answer`: each bracketed marker (or `;`-separated part of one) that `record`
 * resolves, once each, in the order they first appear.
 */
export function extractCitations(answer: string, record: LocationRecord): Citation[] {
  if (record.size === 0) return [];
  const found: Citation[] = [];
  const seen = new Set<string>();
  for (const match of answer.matchAll(/\[([^[\]\n]{1,500})\]/g)) {
    const inner = (match[1] ?? "").trim();
    const parts = record.resolve(inner) ? [inner] : inner.split(/\s*;\s*/);
    for (const part of parts) {
      const cite = part.trim();
      if (seen.has(cite)) continue;
      const resolved = record.resolve(cite);
      if (!resolved) continue;
      seen.add(cite);
      found.push(resolved);
    }
  }
  return found;
}

function citation(cite: string, location: Location, text: string, callId: string): Citation {
  return {
    cite,
    ...(location.path !== undefined ? { path: location.path } : {}),
    ...(location.index !== undefined ? { index: location.index } : {}),
    line: location.line,
    ...(location.lineEnd !== undefined ? { lineEnd: location.lineEnd } : {}),
    ...(location.page !== undefined ? { page: location.page } : {}),
    text,
    callId,
  };
}

function documentKey(location: Location): string {
  return location.path ?? (location.index !== undefined ? `#${location.index}` : "");
}

/** `src/a.ts:42`, `#3:42`, `line 42` as a document and a line; `undefined` for anything else. */
function parseLineCite(cite: string): { key: string; line: number } | undefined {
  const single = /^line (\d+)$/.exec(cite);
  if (single) return { key: "", line: Number(single[1]) };
  const keyed = /^(.+):(\d+)$/.exec(cite);
  if (keyed) return { key: keyed[1] ?? "", line: Number(keyed[2]) };
  return undefined;
}
