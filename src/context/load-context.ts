/**
 * Loads what the CLI's `--context` names: a file (its text), a directory or a glob (an object of path to
 * text, `.gitignore` respected, binary files skipped and reported), or `-` for standard input.
 */
import { lstat, readdir, readFile, stat } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import picomatch from "picomatch";
import { ContextLoadError } from "../errors.ts";
import type { JsonValue, RlmContext } from "./context.ts";
import { formatCount } from "../format-count.ts";
import { isInside, type PathConfinement } from "./confine.ts";
import type { ContextNotes } from "./describe-context.ts";

export interface LoadContextOptions {
  /** Glob patterns a file under a directory must match, relative to that directory. */
  include?: readonly string[];
  /** Glob patterns that drop files, relative to the directory (or to `cwd` for globs). */
  exclude?: readonly string[];
  /** How to read a single file or stdin: as text, as one JSON value, or as JSON lines. @default "text" */
  format?: "text" | "json" | "jsonl";
  cwd?: string;
  /** Standard input, for `-`. */
  stdin?: NodeJS.ReadableStream;
  /**
   * Read only inside these folders: each spec is named from inside one (or absolute within one), `-` is
   * refused, and a file whose real path is outside them is skipped. Keys are relative to the folder of
   * the first spec.
   */
  confine?: PathConfinement;
}

export interface LoadedContext {
  context: RlmContext;
  notes: ContextNotes;
  /** Files read (1 for a single file or stdin). */
  files: number;
  /** Characters loaded. */
  chars: number;
  /** Files left out, with the reason. */
  skipped: string[];
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
    const bytes = await readOrFail(path);
    if (isBinary(bytes))
      throw new ContextLoadError(
        `${shown[0]} is a binary file; pass a text file, a directory or a glob.`,
        path,
      );
    return fromText(bytes.toString("utf8"), `the text of ${shown[0] ?? ""}`, options);
  }
  const files = new Map<string, string>();
  const skipped: string[] = [];
  const sources: string[] = [];
  for (const [i, spec] of specs.entries()) {
    if (spec === "-")
      throw new ContextLoadError("`-` (stdin) cannot be combined with other --context values.");
    await collect(spec, cwd, options, files, skipped);
    sources.push(shown[i] ?? spec);
  }
  if (files.size === 0) {
    throw new ContextLoadError(
      `No text files found in ${sources.join(", ")}${skipped.length ? ` (${skipped.length} skipped: ${skipped.slice(0, 3).join("; ")})` : ""}. ` +
        "Check the path, the --include patterns and .gitignore.",
    );
  }
  const context = Object.fromEntries([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const chars = [...files.values()].reduce((sum, text) => sum + text.length, 0);
  checkSize(chars, sources.join(", "));
  return {
    context,
    notes: { source: `${files.size} files from ${sources.join(", ")}, keyed by path`, skipped },
    files: files.size,
    chars,
    skipped,
  };
}

function fromText(text: string, source: string, options: LoadContextOptions): LoadedContext {
  checkSize(text.length, source);
  const format = options.format ?? "text";
  let context: RlmContext = text;
  if (format === "json") context = parseJson(text, source);
  if (format === "jsonl") context = parseJsonLines(text, source);
  return { context, notes: { source }, files: 1, chars: text.length, skipped: [] };
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

async function collect(
  spec: string,
  cwd: string,
  options: LoadContextOptions,
  files: Map<string, string>,
  skipped: string[],
): Promise<void> {
  const isGlob = picomatch.scan(spec).isGlob;
  const base = isGlob ? resolve(cwd, picomatch.scan(spec).base || ".") : resolve(cwd, spec);
  const info = await statOrUndefined(base);
  if (!info) throw new ContextLoadError(`${spec} does not exist (looked in ${cwd}).`, base);
  if (info.isFile()) {
    await addFile(base, cwd, options, files, skipped);
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
      await addFile(path, cwd, options, files, skipped);
    }
  };
  await walk(base);
}

async function addFile(
  path: string,
  cwd: string,
  options: LoadContextOptions,
  files: Map<string, string>,
  skipped: string[],
): Promise<void> {
  const key = toPosix(relative(cwd, path)) || path;
  if (options.confine && !(await options.confine.allows(path))) {
    skipped.push(`${key} (outside the allowed folders)`);
    return;
  }
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    skipped.push(`${key} (unreadable: ${error.code ?? error.message})`);
    return undefined;
  });
  if (!bytes) return;
  if (isBinary(bytes)) {
    skipped.push(`${key} (binary)`);
    return;
  }
  files.set(key, bytes.toString("utf8"));
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
