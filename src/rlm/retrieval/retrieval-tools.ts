/**
 * The built-in retrieval tools, `grep` and `search` (option `retrieval`, on by default): tools like
 * the application's (defined in the REPL, served through `tool-calls.ts`, `tool-start`/`tool-end`
 * events, trajectories, the viewer), whose work is done here on the host over the calling run's
 * context. What they return is recorded per tree, so the answer's citations can be checked against it
 * (`citations.ts`). A tool of the application with the same name replaces the built-in one.
 */
import type { RlmContext } from "../../context/context.ts";
import { isLazyContext, type LazyContext } from "../../context/lazy-context.ts";
import type { JsonSchema, Validation, Validator } from "../../schema/schema.ts";
import type { Citation } from "../../trace/trajectory.ts";
import { toolParameters } from "../tool-signature.ts";
import type { ReadyTool } from "../tools.ts";
import { extractCitations, LocationRecord } from "./citations.ts";
import { corpusOf, type CorpusDocument } from "./corpus.ts";
import {
  grep,
  GrepCollector,
  GREP_MAX_CONTEXT_LINES,
  GREP_MAX_MATCHES,
  pathFilter,
  type GrepOptions,
  type GrepResult,
} from "./grep.ts";
import { SEARCH_MAX_K, SearchIndex, type SearchHit } from "./search.ts";

/** What a tree's retrieval keeps: each context's documents and index, and every location returned. */
interface TreeRetrieval {
  corpora: Map<RlmContext, CorpusDocument[]>;
  indexes: Map<RlmContext, Promise<SearchIndex>>;
  record: LocationRecord;
}

/** The calling run's side of the retrieval tools: its context, and its tree's caches and record. */
export class RunRetrieval {
  readonly #context: RlmContext;
  readonly #tree: TreeRetrieval;

  constructor(context: RlmContext, tree: TreeRetrieval) {
    this.#context = context;
    this.#tree = tree;
  }

  /** The citations in `answer` that name locations the tree's `grep`/`search` returned. */
  citations(answer: string): Citation[] {
    return extractCitations(answer, this.#tree.record);
  }

  #docs(): CorpusDocument[] {
    let docs = this.#tree.corpora.get(this.#context);
    if (!docs) this.#tree.corpora.set(this.#context, (docs = corpusOf(this.#context)));
    return docs;
  }

  async grep(args: GrepArgs, callId: string, signal: AbortSignal): Promise<GrepResult> {
    const options = {
      flags: args.flags,
      maxMatches: args.max_matches,
      contextLines: args.context_lines,
      path: args.path,
    };
    const result = isLazyContext(this.#context)
      ? await grepLazy(this.#context, args.pattern, options, signal)
      : grep(this.#docs(), args.pattern, options);
    for (const match of result.matches) {
      const { text, cite, before: _b, after: _a, ...location } = match;
      this.#tree.record.add(cite, location, text, callId);
    }
    return result;
  }

  async search(args: SearchArgs, callId: string, signal: AbortSignal): Promise<SearchHit[]> {
    if (isLazyContext(this.#context))
      throw new Error(
        "search() is not available over a context too large to load (a lazy context): use grep(), which streams it from disk",
      );
    let index = this.#tree.indexes.get(this.#context);
    if (!index) {
      index = SearchIndex.build(this.#docs(), signal);
      this.#tree.indexes.set(this.#context, index);
      // A build stopped by its cell's interruption is made again by the next search.
      index.catch(() => this.#tree.indexes.delete(this.#context));
    }
    const hits = (await index).search(
      args.query,
      args.k ?? 5,
      args.path === undefined ? undefined : pathFilter(args.path),
    );
    for (const hit of hits) {
      const { text, cite, score: _s, line_start, line_end, ...where } = hit;
      this.#tree.record.add(
        cite,
        { ...where, line: line_start, ...(line_end !== line_start ? { lineEnd: line_end } : {}) },
        text,
        callId,
      );
    }
    return hits;
  }
}

/** A grep over a lazy context: its files streamed from disk in chunks of whole lines, each scanned as text is. */
async function grepLazy(
  context: LazyContext,
  pattern: string,
  options: GrepOptions,
  signal: AbortSignal,
): Promise<GrepResult> {
  const collector = new GrepCollector(pattern, options);
  const selected = pathFilter(options.path);
  const single = context.shape === "file";
  for (const file of context.files) {
    const doc: CorpusDocument = single ? { text: "" } : { path: file.key, text: "" };
    if (!selected(doc)) continue;
    for await (const chunk of context.chunks({ path: file.key, signal }))
      collector.scan(doc, chunk.text, chunk.firstLine - 1);
  }
  return collector.result();
}

const trees = new WeakMap<object, TreeRetrieval>();

/** The retrieval side of a run over `context` in the tree `tree` (any object one tree shares). */
export function runRetrieval(tree: object, context: RlmContext): RunRetrieval {
  let state = trees.get(tree);
  if (!state)
    trees.set(tree, (state = { corpora: new Map(), indexes: new Map(), record: new LocationRecord() }));
  return new RunRetrieval(context, state);
}

export interface GrepArgs {
  pattern: string;
  flags?: string | number;
  max_matches?: number;
  context_lines?: number;
  path?: string;
}

export interface SearchArgs {
  query: string;
  k?: number;
  path?: string;
}

const GREP_SCHEMA: JsonSchema = {
  type: "object",
  properties: {
    pattern: { type: "string", description: "a regular expression (Python `re` syntax)" },
    flags: { type: ["string", "integer", "null"], description: '"i", "s", or re.I | re.S' },
    max_matches: { type: "integer", minimum: 1, maximum: GREP_MAX_MATCHES, default: 100 },
    context_lines: { type: "integer", minimum: 0, maximum: GREP_MAX_CONTEXT_LINES, default: 0 },
    path: { type: ["string", "null"], description: "a key, a folder (`logs/`) or a glob" },
  },
  required: ["pattern"],
  additionalProperties: false,
};

const SEARCH_SCHEMA: JsonSchema = {
  type: "object",
  properties: {
    query: { type: "string", description: "words to look for" },
    k: { type: "integer", minimum: 1, maximum: SEARCH_MAX_K, default: 5 },
    path: { type: ["string", "null"], description: "a key, a folder (`logs/`) or a glob" },
  },
  required: ["query"],
  additionalProperties: false,
};

/** A hand-written check of an object of arguments (no schema library to load for the built-ins). */
function validator<T>(
  schema: JsonSchema,
  check: (args: Record<string, unknown>, issues: string[]) => T,
): Validator<T> {
  const known = Object.keys(schema.properties as object);
  return {
    jsonSchema: schema,
    validate(value: unknown): Promise<Validation<T>> {
      const issues: string[] = [];
      if (typeof value !== "object" || value === null || Array.isArray(value))
        return Promise.resolve({ ok: false, issues: ["expected an object of arguments"] });
      const args = value as Record<string, unknown>;
      for (const key of Object.keys(args))
        if (!known.includes(key)) issues.push(`${key}: unknown argument (arguments: ${known.join(", ")})`);
      const checked = check(args, issues);
      return Promise.resolve(issues.length > 0 ? { ok: false, issues } : { ok: true, value: checked });
    },
  };
}

function text(
  args: Record<string, unknown>,
  key: string,
  issues: string[],
  required: boolean,
): string | undefined {
  const value = args[key];
  if (value === undefined || value === null) {
    if (required) issues.push(`${key}: required, a string`);
    return undefined;
  }
  if (typeof value !== "string" || (required && value === "")) {
    issues.push(`${key}: expected a ${required ? "non-empty " : ""}string, got ${JSON.stringify(value)}`);
    return undefined;
  }
  return value;
}

function integer(
  args: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
  issues: string[],
): number | undefined {
  const value = args[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    issues.push(`${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    return undefined;
  }
  return value;
}

const grepValidator = validator<GrepArgs>(GREP_SCHEMA, (args, issues) => {
  const flags = args.flags;
  if (flags !== undefined && flags !== null && typeof flags !== "string" && !Number.isInteger(flags))
    issues.push(`flags: expected a string like "i" or an integer like re.I, got ${JSON.stringify(flags)}`);
  const result: GrepArgs = { pattern: text(args, "pattern", issues, true) ?? "" };
  if (typeof flags === "string" || typeof flags === "number") result.flags = flags;
  const maxMatches = integer(args, "max_matches", 1, GREP_MAX_MATCHES, issues);
  if (maxMatches !== undefined) result.max_matches = maxMatches;
  const contextLines = integer(args, "context_lines", 0, GREP_MAX_CONTEXT_LINES, issues);
  if (contextLines !== undefined) result.context_lines = contextLines;
  const path = text(args, "path", issues, false);
  if (path !== undefined) result.path = path;
  return result;
});

const searchValidator = validator<SearchArgs>(SEARCH_SCHEMA, (args, issues) => {
  const result: SearchArgs = { query: text(args, "query", issues, true) ?? "" };
  const k = integer(args, "k", 1, SEARCH_MAX_K, issues);
  if (k !== undefined) result.k = k;
  const path = text(args, "path", issues, false);
  if (path !== undefined) result.path = path;
  return result;
});

const unusedExecute = () => {
  throw new Error("a built-in retrieval tool runs through serveRetrieval");
};

/** `grep` and `search`, as tools ready to serve (their work is `serveRetrieval`). */
export const RETRIEVAL_TOOLS: readonly ReadyTool[] = [
  {
    name: "grep",
    description:
      "Finds the lines of `context` a regular expression matches, on the host at native speed. Returns {matches: [{path, line, text, cite, ...}], total, truncated, note}.",
    execute: unusedExecute,
    validator: grepValidator as Validator,
    parameters: toolParameters(GREP_SCHEMA),
    builtin: true,
  },
  {
    name: "search",
    description:
      "Ranks chunks of `context` (about 40 lines each) by BM25 for the words of `query`. Returns [{path, line_start, line_end, score, text, cite}], best first.",
    execute: unusedExecute,
    validator: searchValidator as Validator,
    parameters: toolParameters(SEARCH_SCHEMA),
    builtin: true,
  },
];

/** The tools of a tree: the application's, then the built-in ones it does not replace by name. */
export function withRetrievalTools(tools: readonly ReadyTool[], retrieval: boolean): ReadyTool[] {
  if (!retrieval) return [...tools];
  const taken = new Set(tools.map((t) => t.name));
  return [...tools, ...RETRIEVAL_TOOLS.filter((t) => !taken.has(t.name))];
}

/** Serves a built-in tool's call with checked arguments, for the calling run. */
export async function serveRetrieval(
  name: string,
  args: unknown,
  run: RunRetrieval | undefined,
  callId: string,
  signal: AbortSignal,
): Promise<unknown> {
  if (!run) throw new Error("retrieval is not available in this run");
  if (name === "grep") return run.grep(args as GrepArgs, callId, signal);
  return run.search(args as SearchArgs, callId, signal);
}
