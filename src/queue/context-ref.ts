/**
 * Reads a job's context on the worker: inline as it came, a `{ path }` with the project's loader
 * confined to the worker's `--allow-path` folders (as `rlm serve` reads `context_paths`), or a
 * `{ url }` fetched over http(s) when it starts with one of the worker's `--allow-url` prefixes.
 */
import type { PathConfinement } from "../context/confine.ts";
import { validateContext, type JsonValue, type RlmContext } from "../context/context.ts";
import type { ContextNotes } from "../context/describe-context.ts";
import { MAX_CONTEXT_CHARS, loadContext } from "../context/load-context.ts";
import { ContextLoadError, InvalidOptionError } from "../errors.ts";
import { JobRefusedError } from "./errors.ts";
import type { RlmJob } from "./job.ts";

/** What a worker lets a job read. */
export interface ContextAccess {
  /** Folders `contextRef.path` may name; without them a path is refused. */
  confine?: PathConfinement | undefined;
  /** URL prefixes `contextRef.url` must start with (`https://bucket.example.com/contexts/`); none: URLs refused. */
  allowUrls?: readonly string[];
  /** Replaces `fetch` (tests). */
  fetch?: typeof fetch;
}

export interface ResolvedContext {
  context: RlmContext;
  contextNotes?: ContextNotes;
}

/**
 * The job's context, read. A reference the worker may not read is a `JobRefusedError` (retrying cannot
 * help); a file that cannot be read, or a URL that fails, is a `ContextLoadError`.
 */
export async function resolveJobContext(
  job: RlmJob,
  access: ContextAccess,
  signal?: AbortSignal,
): Promise<ResolvedContext> {
  const ref = job.contextRef;
  if (!ref) return { context: job.context as RlmContext };
  if ("path" in ref) {
    if (!access.confine)
      throw new JobRefusedError(
        "contextRef.path",
        "This worker reads no files: start it with --allow-path DIR (a folder on storage it shares with the submitters), or send the context inline or as a URL.",
      );
    const paths = typeof ref.path === "string" ? [ref.path] : ref.path;
    try {
      const loaded = await loadContext(paths, {
        confine: access.confine,
        ...(ref.include ? { include: ref.include } : {}),
        ...(ref.exclude ? { exclude: ref.exclude } : {}),
        ...(ref.format ? { format: ref.format } : {}),
      });
      return { context: loaded.context, contextNotes: loaded.notes };
    } catch (error) {
      // Outside the allowed folders is a refusal, whatever is there; a missing file may yet appear
      // on shared storage, so it is retried like any other failure.
      if (
        error instanceof ContextLoadError &&
        /outside the allowed|climbs out|cannot be read here/.test(error.message)
      )
        throw new JobRefusedError("contextRef.path", error.message, { cause: error });
      throw error;
    }
  }
  const allowed = access.allowUrls ?? [];
  if (!allowed.some((prefix) => ref.url.startsWith(prefix)))
    throw new JobRefusedError(
      "contextRef.url",
      allowed.length === 0
        ? "This worker fetches no URLs: start it with --allow-url PREFIX (e.g. https://bucket.example.com/contexts/)."
        : `${ref.url} starts with none of this worker's --allow-url prefixes: ${allowed.join(", ")}.`,
    );
  const text = await fetchText(ref.url, access.fetch ?? fetch, signal);
  const source = `the text fetched from ${new URL(ref.url).origin}${new URL(ref.url).pathname}`;
  return { context: parseAs(text, ref.format ?? "text", source), contextNotes: { source } };
}

async function fetchText(
  url: string,
  fetchFn: typeof fetch,
  signal: AbortSignal | undefined,
): Promise<string> {
  let response: Response;
  try {
    response = await fetchFn(url, signal ? { signal } : {});
  } catch (error) {
    throw new ContextLoadError(`Fetching the context failed: ${(error as Error).message}.`, url, {
      cause: error,
    });
  }
  if (!response.ok)
    throw new ContextLoadError(
      `Fetching the context failed: HTTP ${response.status} ${response.statusText}.`,
      url,
    );
  const text = await response.text();
  if (text.length > MAX_CONTEXT_CHARS)
    throw new ContextLoadError(
      `The fetched context is ${text.length} characters, more than one string can hold (${MAX_CONTEXT_CHARS}).`,
      url,
    );
  return text;
}

function parseAs(text: string, format: "text" | "json" | "jsonl", source: string): RlmContext {
  if (format === "text") return text;
  try {
    const value: unknown =
      format === "json"
        ? JSON.parse(text)
        : text
            .split(/\r?\n/)
            .filter((line) => line.trim() !== "")
            .map((line) => JSON.parse(line) as JsonValue);
    return validateContext(value, "contextRef.url");
  } catch (error) {
    if (error instanceof InvalidOptionError) throw new JobRefusedError("contextRef.format", error.message);
    throw new ContextLoadError(
      `${source} is not valid ${format.toUpperCase()}: ${(error as Error).message}.`,
      undefined,
      {
        cause: error,
      },
    );
  }
}
