/**
 * What an RLM job is, as it travels through Redis: the question, the context (inline when small, else a
 * reference the worker reads) and the few options a submitter may choose. It is checked twice: by
 * `RlmQueue.enqueue` before it is sent, and by the worker that takes it, since anyone who can write to
 * the queue can put anything in it.
 */
import * as v from "valibot";
import { validateContext, type RlmContext } from "../context/context.ts";
import { describeIssue } from "../describe-issue.ts";
import { InvalidOptionError } from "../errors.ts";
import { formatCount } from "../format-count.ts";
import type { RunLimits } from "../rlm/options.ts";
import { JobRefusedError } from "./errors.ts";

/**
 * Inline contexts larger than this (as JSON, in UTF-8) are refused at enqueue: pass a `contextRef`.
 * @unit bytes
 */
export const DEFAULT_MAX_INLINE_CONTEXT_BYTES = 1024 * 1024;

/** The BullMQ job name of an RLM job. */
export const RLM_JOB = "rlm";

/** A context the worker reads itself: files on storage it shares with the submitter, or a URL. */
export type ContextRef =
  | {
      /** A file, folder or glob, or several; read like `rlm ask --context`, inside the worker's `--allow-path` folders. */
      path: string | string[];
      include?: string[];
      exclude?: string[];
      /** How to read a single file. @default "text" */
      format?: "text" | "json" | "jsonl";
    }
  | {
      /** An `http(s)` URL the worker fetches (an object store's presigned URL...); only prefixes the worker allows. */
      url: string;
      /** How to read the body. @default "text" */
      format?: "text" | "json" | "jsonl";
    };

/** What a job may choose about its run. The worker's own settings cover the rest, and cap these limits. */
export interface JobRunOptions extends RunLimits {
  /** The root model (`provider/model`); the worker's key for that provider is used. @default the worker's */
  model?: string;
  /** @default the worker's */
  subModel?: string;
  /** Only a base URL the worker allows (its own `--base-url`, or one of `--allow-base-url`). */
  baseURL?: string;
  /** `false`: the REPL without sub-models (the paper's ablation). @default true */
  subcalls?: boolean;
  /** Seeds the REPL's random generators. */
  seed?: number;
}

/** An RLM job: a question over a context, inline or by reference (exactly one of the two). */
export interface RlmJob {
  prompt: string;
  context?: RlmContext;
  contextRef?: ContextRef;
  options?: JobRunOptions;
  /** Free text for the submitter's bookkeeping (a row key, a request id); workers ignore it. */
  label?: string;
  /** Who submitted it (`rlm serve` puts the API key's name here, and only that key may read the job). */
  owner?: string;
}

const positiveInteger = v.pipe(v.number(), v.integer(), v.minValue(1));
const format = v.optional(v.picklist(["text", "json", "jsonl"]));

const PathRef = v.strictObject({
  path: v.union([v.pipe(v.string(), v.minLength(1)), v.pipe(v.array(v.string()), v.minLength(1))]),
  include: v.optional(v.array(v.string())),
  exclude: v.optional(v.array(v.string())),
  format,
});
const UrlRef = v.strictObject({ url: v.pipe(v.string(), v.url()), format });

const Options = v.strictObject({
  model: v.optional(v.pipe(v.string(), v.minLength(1))),
  subModel: v.optional(v.pipe(v.string(), v.minLength(1))),
  baseURL: v.optional(v.pipe(v.string(), v.url())),
  subcalls: v.optional(v.boolean()),
  seed: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(2 ** 32 - 1))),
  maxTurns: v.optional(positiveInteger),
  maxDepth: v.optional(positiveInteger),
  maxTokens: v.optional(positiveInteger),
  maxCostUsd: v.optional(v.pipe(v.number(), v.gtValue(0))),
  maxSubcalls: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  maxTimeMs: v.optional(positiveInteger),
  cellTimeoutMs: v.optional(positiveInteger),
});

const Job = v.strictObject({
  prompt: v.pipe(
    v.string(),
    v.check((text) => text.trim() !== "", "a non-empty question"),
  ),
  context: v.optional(v.unknown()),
  contextRef: v.optional(v.union([PathRef, UrlRef])),
  options: v.optional(Options),
  label: v.optional(v.string()),
  owner: v.optional(v.string()),
});

/**
 * `data` as an `RlmJob`, checked: known fields only, exactly one of `context` and `contextRef`, a
 * context of a shape the REPL takes.
 * @throws JobRefusedError naming the field
 */
export function parseRlmJob(data: unknown): RlmJob {
  const parsed = v.safeParse(Job, data);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const where = issue ? describeIssue(issue) : "the job";
    const field = where.split(":")[0] ?? "job";
    throw new JobRefusedError(
      field,
      `The job is not an RLM job: ${where}. A job is { prompt, context | contextRef, options?, label? }.`,
    );
  }
  const job = parsed.output as RlmJob & { context?: unknown };
  const inline = job.context !== undefined;
  if (inline === (job.contextRef !== undefined))
    throw new JobRefusedError(
      "context",
      "A job needs exactly one of `context` (inline) and `contextRef` ({ path } or { url } the worker reads).",
    );
  if (inline) {
    try {
      job.context = validateContext(job.context, "context");
    } catch (error) {
      if (error instanceof InvalidOptionError)
        throw new JobRefusedError(error.option, error.message, { cause: error });
      throw error;
    }
  }
  return job;
}

/**
 * `value` as a job's run options, checked (for job kinds other than `rlm` that carry them).
 * @throws JobRefusedError naming the field
 */
export function parseJobRunOptions(value: unknown, field = "options"): JobRunOptions {
  const parsed = v.safeParse(Options, value);
  if (parsed.success) return parsed.output;
  const issue = parsed.issues[0];
  const where = issue ? describeIssue(issue) : field;
  throw new JobRefusedError(field, `The job's ${field} are not run options: ${where}.`);
}

/** Bytes `context` takes in a job, as Redis stores it (JSON in UTF-8). */
export function inlineContextBytes(context: unknown): number {
  return Buffer.byteLength(typeof context === "string" ? context : JSON.stringify(context), "utf8");
}

/**
 * Refuses an inline context over `maxBytes`: contexts that large travel by reference.
 * @throws JobRefusedError
 */
export function checkInlineContext(context: unknown, maxBytes: number): void {
  if (context === undefined) return;
  const bytes = inlineContextBytes(context);
  if (bytes <= maxBytes) return;
  throw new JobRefusedError(
    "context",
    `The inline context is ${formatCount(bytes)} bytes, over the queue's limit of ${formatCount(maxBytes)} bytes ` +
      "(maxInlineContextBytes). Large contexts do not travel through Redis: put the context on storage the workers " +
      "can read and pass contextRef: { path } (a file or folder under the workers' --allow-path) or { url }.",
  );
}
