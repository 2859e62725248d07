/**
 * Loads what the CLI's `--context` names: a file (its text, or for a document its text or rows), a
 * directory or a glob (an object of path to text, `.gitignore` respected, documents converted to text,
 * binary and unreadable files skipped and reported), or `-` for standard input. See docs/contexts.md.
 */
import { lstat, open, readdir, readFile, stat } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import picomatch from "picomatch";
import { ContextLoadError } from "../errors.ts";
import type { JsonValue, RlmContext } from "./context.ts";
import { formatCount } from "../format-count.ts";
import { isInside, type PathConfinement } from "./confine.ts";
import type { ContextNotes } from "./describe-context.ts";
import {
  documentKind,
  documentText,
  KIND_NAMES,
  readTable,
  type DocumentKind,
  type DocumentNotes,
  type FileNote,
} from "./documents.ts";
import { DEFAULT_LAZY_ABOVE_BYTES, LazyContext, type LazyFile } from "./lazy-context.ts";

/**
 * How to read a single file or stdin. `auto`: by the file's extension (PDF, DOCX, HTML, notebooks to
 * text; CSV/TSV to a list of dicts; JSONL to a list), else as text. `text`: as it is (a binary file is
 * refused). `json`, `jsonl`, `csv`, `tsv`: parsed as that. A directory's files are read the same way
 * whatever the format: documents converted to text, everything else as it is.
 */
export type ContextFormat = "auto" | "text" | "json" | "jsonl" | "csv" | "tsv";
/** Every `ContextFormat`, for flags and checks. */
export const CONTEXT_FORMATS: readonly ContextFormat[] = ["auto", "text", "json", "jsonl", "csv", "tsv"];
/** True for a `ContextFormat` name, e.g. a `--context-format` value. */
export function isContextFormat(value: string): value is ContextFormat {
  return (CONTEXT_FORMATS as readonly string[]).includes(value);
}
/** The document formats read, as users name them. */
const SUPPORTED = "PDF, DOCX, HTML, CSV, TSV, JSONL, .ipynb";
/** Documents a directory's files are converted from; any other file is read as its text. */
const CONVERTED_IN_DIRECTORIES: ReadonlySet<DocumentKind> = new Set(["pdf", "docx", "html", "ipynb"]);
/** Kinds whose file is text: one that cannot be parsed can still be read with `format: "text"`. */
const TEXT_KINDS: ReadonlySet<DocumentKind> = new Set(["html", "csv", "tsv", "jsonl", "ipynb"]);

export interface LoadContextOptions {
  /** Glob patterns a file under a directory must match, relative to that directory. */
  include?: readonly string[];
  /** Glob patterns that drop files, relative to the directory (or to `cwd` for globs). */
  exclude?: readonly string[];
  /** How to read a single file or stdin. @default "auto" */
  format?: ContextFormat;
  cwd?: string;
  /** Standard input, for `-`. */
  stdin?: NodeJS.ReadableStream;
  /**
   * Read only inside these folders: each spec is named from inside one (or absolute within one), `-` is
   * refused, and a file whose real path is outside them is skipped. Keys are relative to the folder of
   * the first spec.
   */
  confine?: PathConfinement;
  /**
   * A single file, or the files of directories and globs together, larger than this are not loaded:
   * the context is a `LazyContext` the REPL reads in pieces (text files only; documents and binary
   * files in such a folder are skipped and listed). `Infinity` always loads.
   * @default 1 GiB (2^30)
   * @unit bytes
   */
  lazyAboveBytes?: number;
}

export interface LoadedContext {
  context: RlmContext;
  /** What the model is told besides the context's shape: its source, what was skipped, each document. */
  notes: ContextNotes & DocumentNotes;
  /** Files read (1 for a single file or stdin). */
  files: number;
  /** Characters loaded (bytes, for a lazy context). */
  chars: number;
  /** Files left out, with the reason. */
  skipped: string[];
}

/** "1 PDF, 2 DOCX" for the documents a load converted or parsed, or "" for none. */
export function documentsSummary(notes: DocumentNotes): string {
  const counts = new Map<string, number>();
  for (const file of Object.values(notes.files ?? {}))
    counts.set(file.kind, (counts.get(file.kind) ?? 0) + 1);
  return [...counts].map(([kind, count]) => `${formatCount(count)} ${kind}`).join(", ");
}

/** V8 cannot hold one string much longer than this; a larger context must be split by the caller. */
export const MAX_CONTEXT_CHARS = 500_000_000;
const BINARY_SNIFF_BYTES = 8000;

/** Loads one or more `--context` values; several are merged into one object of path to text. */
export async function loadContext(
  specs: readonly string[],
  options: LoadContextOptions = {},
): Promise<LoadedContext> {
  let cwd = options.cwd ?? process.cwd();
  if (specs.length === 0)
    throw new ContextLoadError("No context given: pass --context FILE, DIR, GLOB or - for stdin.");
  const shown = specs;
  if (options.confine) {
    if (specs.includes("-"))
      throw new ContextLoadError(
        "`-` (standard input) cannot be read here; name files inside the allowed folders.",
      );
    const located = await Promise.all(specs.map((spec) => options.confine?.locate(spec)));
    specs = located.map((where) => where?.path ?? "");
    cwd = located[0]?.root ?? cwd;
  }
  if (specs.length === 1 && specs[0] === "-")
    return fromText(
      await readStream(options.stdin ?? process.stdin),
      "standard input",
      "the text read from standard input",
      options,
    );
  const single = specs.length === 1 ? await statOrUndefined(resolve(cwd, specs[0] ?? "")) : undefined;
  if (single?.isFile()) {
    const path = resolve(cwd, specs[0] ?? "");
    if (options.confine && !(await options.confine.allows(path)))
      throw new ContextLoadError(
        `${shown[0]} is a link that leads outside the allowed folders: ${options.confine.roots.join(", ")}.`,
        path,
      );
    const lazy = await lazySingleFile(path, single.size, shown[0] ?? path, options);
    if (lazy) return lazy;
    const bytes = await readOrFail(path);
    const kind = (options.format ?? "auto") === "auto" ? documentKind(path, bytes) : undefined;
    if (kind) return fromDocument(kind, bytes, shown[0] ?? path, path);
    if (isBinary(bytes))
      throw new ContextLoadError(
        `${shown[0]} is a binary file; pass a text file, a document (${SUPPORTED}), a directory or a glob.`,
        path,
      );
    return fromText(bytes.toString("utf8"), shown[0] ?? path, `the text of ${shown[0] ?? ""}`, options);
  }
  const found: Found = { files: new Map(), notes: {}, skipped: [], paths: new Map() };
  const { files, skipped } = found;
  const sources: string[] = [];
  for (const [i, spec] of specs.entries()) {
    if (spec === "-")
      throw new ContextLoadError("`-` (stdin) cannot be combined with other --context values.");
    await collect(spec, cwd, options, found);
    sources.push(shown[i] ?? spec);
  }
  const lazy = await lazyFolder(found, sources, options);
  if (lazy) return lazy;
  for (const [key, path] of found.paths) await addFile(path, key, options, found);
  if (files.size === 0) {
    throw new ContextLoadError(
      `No text files found in ${sources.join(", ")}${skipped.length ? ` (${skipped.length} skipped: ${skipped.slice(0, 3).join("; ")})` : ""}. ` +
        "Check the path, the --include patterns and .gitignore.",
    );
  }
  const byKey = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);
  const context = Object.fromEntries([...files].sort(byKey));
  const notes = Object.fromEntries(Object.entries(found.notes).sort(byKey));
  const chars = [...files.values()].reduce((sum, text) => sum + text.length, 0);
  checkSize(chars, sources.join(", "));
  return {
    context,
    notes: {
      source: `${files.size} files from ${sources.join(", ")}, keyed by path`,
      skipped,
      ...(Object.keys(notes).length > 0 ? { files: notes } : {}),
    },
    files: files.size,
    chars,
    skipped,
  };
}

/** Text read as `options.format` says; `name` is what the user called it (a file, or standard input). */
async function fromText(
  text: string,
  name: string,
  source: string,
  options: LoadContextOptions,
): Promise<LoadedContext> {
  checkSize(text.length, source);
  const format = options.format ?? "auto";
  let context: RlmContext = text;
  if (format === "json") context = parseJson(text, source);
  if (format === "jsonl") context = parseJsonLines(text, source);
  if (format === "csv" || format === "tsv") return fromDocument(format, Buffer.from(text), name);
  return { context, notes: { source }, files: 1, chars: text.length, skipped: [] };
}

/**
 * One document as the whole context: a CSV/TSV as its rows, JSONL as its items, anything else as its
 * text. `name` is what the user called it (the key of its note).
 */
async function fromDocument(
  kind: DocumentKind,
  bytes: Buffer,
  name: string,
  path?: string,
): Promise<LoadedContext> {
  const loaded = (context: RlmContext, note: FileNote, chars: number, source: string): LoadedContext => {
    checkSize(chars, name);
    return { context, notes: { source, files: { [name]: note } }, files: 1, chars, skipped: [] };
  };
  try {
    if (kind === "csv" || kind === "tsv") {
      const { rows, note } = await readTable(bytes, kind);
      return loaded(rows, note, bytes.toString("utf8").length, `the rows of ${name}`);
    }
    if (kind === "jsonl") {
      const text = bytes.toString("utf8");
      const items = parseJsonLines(text, name) as readonly unknown[];
      const note = {
        kind: KIND_NAMES.jsonl,
        bytes: bytes.byteLength,
        extent: `${formatCount(items.length)} items`,
      };
      return loaded(items as RlmContext, note, text.length, `the items of ${name}, one per line`);
    }
    const { text, note } = await documentText(kind, bytes);
    return loaded(text, note, text.length, `the text of ${name}`);
  } catch (error) {
    if (error instanceof ContextLoadError) throw error;
    const hint = TEXT_KINDS.has(kind) ? " Pass --context-format text to read it as plain text." : "";
    throw new ContextLoadError(
      `${name} cannot be read as ${KIND_NAMES[kind]}: ${(error as Error).message}.${hint}`,
      path,
      { cause: error },
    );
  }
}

function parseJson(text: string, source: string): RlmContext {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ContextLoadError(
      `${source} is not valid JSON (${(error as Error).message}); use --context-format text to load it as text.`,
      undefined,
      { cause: error },
    );
  }
  if (typeof value === "string" || (typeof value === "object" && value !== null)) return value as RlmContext;
  throw new ContextLoadError(
    `${source} holds a JSON ${typeof value}; a context must be a string, an array or an object.`,
  );
}

function parseJsonLines(text: string, source: string): RlmContext {
  const items: JsonValue[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    try {
      items.push(JSON.parse(line) as JsonValue);
    } catch (error) {
      throw new ContextLoadError(
        `Line ${i + 1} of ${source} is not valid JSON (${(error as Error).message}).`,
        undefined,
        { cause: error },
      );
    }
  }
  const allStrings = items.every((item) => typeof item === "string");
  const allObjects = items.every((item) => typeof item === "object" && item !== null && !Array.isArray(item));
  if (!allStrings && !allObjects) {
    throw new ContextLoadError(
      `${source}: every JSON line must be a string, or every line an object, to form a context.`,
    );
  }
  return items as RlmContext;
}

/** What a directory walk gathers: the files by key, then each one's text and note, and what was left out. */
interface Found {
  /** Every file the walk found, by key, in the order found. */
  paths: Map<string, string>;
  files: Map<string, string>;
  notes: { [key: string]: FileNote };
  skipped: string[];
}

async function collect(spec: string, cwd: string, options: LoadContextOptions, found: Found): Promise<void> {
  const isGlob = picomatch.scan(spec).isGlob;
  const base = isGlob ? resolve(cwd, picomatch.scan(spec).base || ".") : resolve(cwd, spec);
  const info = await statOrUndefined(base);
  if (!info) throw new ContextLoadError(`${spec} does not exist (looked in ${cwd}).`, base);
  if (info.isFile()) {
    found.paths.set(keyOf(base, cwd), base);
    return;
  }
  const matchesGlob = isGlob
    ? picomatch(toPosix(relative(cwd, resolve(cwd, spec))), { dot: true })
    : undefined;
  const include = options.include?.length ? picomatch([...options.include], { dot: true }) : undefined;
  const exclude = options.exclude?.length ? picomatch([...options.exclude], { dot: true }) : undefined;
  const gitignore = new GitignoreRules(await findGitRoot(base));
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.name === ".git") continue;
      if (entry.isSymbolicLink()) {
        const target = await statOrUndefined(path);
        if (!target?.isFile()) continue; // linked folders are not followed: no cycles, no escaping the tree
      } else if (!entry.isDirectory() && !entry.isFile()) continue;
      const isDir = entry.isDirectory();
      if (await gitignore.ignores(path, isDir)) continue;
      if (isDir) {
        await walk(path);
        continue;
      }
      const fromBase = toPosix(relative(base, path));
      if (matchesGlob && !matchesGlob(toPosix(relative(cwd, path)))) continue;
      if (include && !include(fromBase)) continue;
      if (exclude && (exclude(fromBase) || exclude(toPosix(relative(cwd, path))))) continue;
      found.paths.set(keyOf(path, cwd), path);
    }
  };
  await walk(base);
}

function keyOf(path: string, cwd: string): string {
  return toPosix(relative(cwd, path)) || path;
}

async function addFile(path: string, key: string, options: LoadContextOptions, found: Found): Promise<void> {
  const { files, skipped } = found;
  if (options.confine && !(await options.confine.allows(path))) {
    skipped.push(`${key} (outside the allowed folders)`);
    return;
  }
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    skipped.push(`${key} (unreadable: ${error.code ?? error.message})`);
    return undefined;
  });
  if (!bytes) return;
  const kind = documentKind(path, bytes);
  if (kind && CONVERTED_IN_DIRECTORIES.has(kind)) {
    try {
      const { text, note } = await documentText(kind, bytes);
      files.set(key, text);
      found.notes[key] = note;
    } catch (error) {
      skipped.push(`${key} (${KIND_NAMES[kind]}, unreadable: ${(error as Error).message})`);
    }
    return;
  }
  if (isBinary(bytes)) {
    skipped.push(`${key} (binary)`);
    return;
  }
  files.set(key, bytes.toString("utf8"));
}

/**
 * A single file over `lazyAboveBytes` as a `LazyContext`, or `undefined` to load it. Documents that are
 * converted (PDF, DOCX, HTML, notebooks) load as usual; a CSV or JSONL file is served as its text.
 */
async function lazySingleFile(
  path: string,
  size: number,
  name: string,
  options: LoadContextOptions,
): Promise<LoadedContext | undefined> {
  if (size <= (options.lazyAboveBytes ?? DEFAULT_LAZY_ABOVE_BYTES)) return undefined;
  const head = await readHead(path);
  const format = options.format ?? "auto";
  const kind = format === "auto" ? documentKind(path, head) : undefined;
  if (kind && CONVERTED_IN_DIRECTORIES.has(kind)) return undefined;
  if (format === "json")
    throw new ContextLoadError(
      `${name} holds ${formatCount(size)} bytes, too many to parse as JSON; pass --context-format text to read it lazily as text.`,
      path,
    );
  if (isBinary(head))
    throw new ContextLoadError(
      `${name} is a binary file; pass a text file, a document (${SUPPORTED}), a directory or a glob.`,
      path,
    );
  const context = new LazyContext("file", [{ key: name, path, bytes: size }]);
  const source = `the text of ${name}, served lazily (${formatCount(size)} bytes: too large to load)`;
  return { context, notes: { source }, files: 1, chars: size, skipped: [] };
}

/**
 * The walk's files as a `LazyContext` when together they hold more than `lazyAboveBytes`, or
 * `undefined` to load them. Only text files are served: documents and binary files are skipped.
 */
async function lazyFolder(
  found: Found,
  sources: readonly string[],
  options: LoadContextOptions,
): Promise<LoadedContext | undefined> {
  const sized: { key: string; path: string; bytes: number }[] = [];
  let total = 0;
  for (const [key, path] of found.paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) continue;
    sized.push({ key, path, bytes: info.size });
    total += info.size;
  }
  if (total <= (options.lazyAboveBytes ?? DEFAULT_LAZY_ABOVE_BYTES)) return undefined;
  const { skipped } = found;
  const files: LazyFile[] = [];
  for (const file of sized) {
    if (options.confine && !(await options.confine.allows(file.path))) {
      skipped.push(`${file.key} (outside the allowed folders)`);
      continue;
    }
    const head = await readHead(file.path).catch(() => undefined);
    if (!head) {
      skipped.push(`${file.key} (unreadable)`);
      continue;
    }
    const kind = documentKind(file.path, head);
    if (kind && CONVERTED_IN_DIRECTORIES.has(kind)) {
      skipped.push(`${file.key} (${KIND_NAMES[kind]}: a folder served lazily holds text files only)`);
      continue;
    }
    if (isBinary(head)) {
      skipped.push(`${file.key} (binary)`);
      continue;
    }
    files.push(file);
  }
  if (files.length === 0) return undefined;
  const context = new LazyContext("folder", files);
  return {
    context,
    notes: {
      source: `${formatCount(files.length)} files from ${sources.join(", ")}, keyed by path, served lazily (${formatCount(context.totalBytes)} bytes: too large to load)`,
      skipped,
    },
    files: files.length,
    chars: context.totalBytes,
    skipped,
  };
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(BINARY_SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, BINARY_SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** A NUL byte early in the file marks it binary, as git decides. */
function isBinary(bytes: Buffer): boolean {
  return bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0);
}

function checkSize(chars: number, source: string): void {
  if (chars > MAX_CONTEXT_CHARS) {
    throw new ContextLoadError(
      `${source} holds ${formatCount(chars)} characters; a context can hold at most ${formatCount(MAX_CONTEXT_CHARS)}. ` +
        "Narrow it with --include/--exclude or a more specific path.",
    );
  }
}

/** `.gitignore` files from the repository root (or the loaded folder) down, read lazily and cached. */
class GitignoreRules {
  readonly #root: string;
  readonly #byDir = new Map<string, Promise<Ignore | undefined>>();

  constructor(root: string) {
    this.#root = root;
  }

  async ignores(path: string, isDir: boolean): Promise<boolean> {
    const dirs: string[] = [];
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      dirs.unshift(dir);
      if (dir === this.#root || dirname(dir) === dir || !isInside(this.#root, dir)) break;
    }
    for (const dir of dirs) {
      const rules = await this.#rules(dir);
      if (!rules) continue;
      const rel = toPosix(relative(dir, path)) + (isDir ? "/" : "");
      if (rel && !rel.startsWith("..") && rules.ignores(rel)) return true;
    }
    return false;
  }

  #rules(dir: string): Promise<Ignore | undefined> {
    let rules = this.#byDir.get(dir);
    if (!rules) {
      rules = readFile(join(dir, ".gitignore"), "utf8").then(
        (text) => ignore().add(text),
        () => undefined,
      );
      this.#byDir.set(dir, rules);
    }
    return rules;
  }
}

async function findGitRoot(start: string): Promise<string> {
  for (let dir = start; ; dir = dirname(dir)) {
    if (await statOrUndefined(join(dir, ".git"))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

async function statOrUndefined(path: string) {
  return stat(path).catch(() => lstat(path).catch(() => undefined));
}

async function readOrFail(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ContextLoadError(`Cannot read ${path}: ${(error as Error).message}`, path, { cause: error });
  }
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  if ((stream as NodeJS.ReadStream).isTTY) {
    throw new ContextLoadError(
      '--context - reads standard input, but nothing is piped in. Try: cat file.txt | rlm ask "..." --context -',
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function toPosix(path: string): string {
  return sep === "/" ? path : path.split(sep).join("/");
}
