/**
 * The sub-call cache of one run tree (`cacheSubcalls`, issue 13): identical plain sub-calls (same model,
 * same messages, same output cap) are sent once. A duplicate that comes while the first is in flight
 * waits for it; one that comes later gets the kept reply. Only successful replies are kept. A failure is
 * shared with the duplicates waiting on it (they asked the same thing at the same time) unless it was the
 * first caller's own cancellation, and the next identical call after it is sent again.
 *
 * With a folder (`cacheSubcalls: "disk"`), replies are also kept across runs, one JSON file per key
 * (`<sha256>.json`), written atomically. The disk is an optimisation: an entry that cannot be read or
 * parsed is a miss, and a failed write is ignored.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { raceAbort } from "../abort.ts";
import { CancelledError } from "../errors.ts";
import type { ChatMessage, Usage } from "../models/model.ts";

/** Bumped when the key or the entry format changes, so old disk entries are never read as new ones. */
const FORMAT = 1;

/** Everything that shapes a sub-call's reply. */
export interface SubcallKeyParts {
  /** `provider/model`. */
  model: string;
  /** The endpoint the model is reached at, when one is configured. */
  baseURL: string | undefined;
  messages: readonly ChatMessage[];
  /** The output cap the call asks for (before the budget lowers it). */
  maxOutputTokens: number | undefined;
  /** Any other settings that shape the reply (the reasoning table), as JSON. */
  settings?: unknown;
}

/** The cache key of a sub-call: SHA-256 (hex) of a JSON of its parts. */
export function subcallKey(parts: SubcallKeyParts): string {
  const json = JSON.stringify([
    FORMAT,
    parts.model,
    parts.baseURL ?? null,
    parts.messages.map((m) => [m.role, m.content]),
    parts.maxOutputTokens ?? null,
    parts.settings ?? null,
  ]);
  return createHash("sha256").update(json).digest("hex");
}

/** A reply as the cache keeps it. */
export interface CachedReply {
  text: string;
  finishReason: string | undefined;
}

/** What a sender returns: the reply, its usage (written to disk for reference), and whether to keep it. */
export interface SentReply extends CachedReply {
  usage: Usage;
  /** False for a reply that another identical call should not get (cut short by a lowered cap). */
  keep: boolean;
}

/** A sub-call's reply, and whether it came from the cache (then nothing was sent for it). */
export interface CacheAnswer {
  reply: CachedReply;
  cached: boolean;
}

/** One entry of a disk cache folder. */
interface DiskEntry {
  format: number;
  key: string;
  model: string;
  text: string;
  finishReason: string | null;
  usage: Usage;
  /** ISO 8601. */
  createdAt: string;
}

interface Entry {
  promise: Promise<{ reply: CachedReply; fromDisk: boolean }>;
  /** The signal of the call that sent it: its abort is that caller's, not the waiters'. */
  signal: AbortSignal;
}

export class SubcallCache {
  readonly #dir: string | undefined;
  readonly #entries = new Map<string, Entry>();

  /** `dir`: the folder replies are also kept in across runs; none keeps them in memory only. */
  constructor(options: { dir?: string | undefined } = {}) {
    this.#dir = options.dir;
  }

  /**
   * The reply for `key`: kept, in flight, on disk, or else from `send` (sent once however many identical
   * calls come meanwhile). Rejects with `send`'s error, or with `CancelledError` when `signal` aborts
   * while this call waits on another's request.
   */
  async answer(
    key: string,
    model: string,
    send: () => Promise<SentReply>,
    signal: AbortSignal,
  ): Promise<CacheAnswer> {
    for (;;) {
      if (signal.aborted) throw new CancelledError(undefined, { cause: signal.reason });
      const entry = this.#entries.get(key);
      if (!entry) return this.#lead(key, model, send, signal);
      try {
        const { reply } = await raceAbort(
          entry.promise,
          signal,
          () => new CancelledError(undefined, { cause: signal.reason }),
        );
        return { reply, cached: true };
      } catch (error) {
        // The request was stopped by its own caller's signal, not ours: send it again.
        if (!signal.aborted && entry.signal.aborted) continue;
        throw error;
      }
    }
  }

  async #lead(
    key: string,
    model: string,
    send: () => Promise<SentReply>,
    signal: AbortSignal,
  ): Promise<CacheAnswer> {
    const promise = this.#fetch(key, model, send);
    const entry: Entry = { promise, signal };
    this.#entries.set(key, entry);
    // Registered before any waiter's, so an entry that is not kept is gone when waiters look again.
    const forget = () => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    };
    promise.then((result) => {
      if (!result.keep) forget();
    }, forget);
    const { reply, fromDisk } = await promise;
    return { reply, cached: fromDisk };
  }

  async #fetch(
    key: string,
    model: string,
    send: () => Promise<SentReply>,
  ): Promise<{ reply: CachedReply; fromDisk: boolean; keep: boolean }> {
    const stored = await this.#read(key, model);
    if (stored) return { reply: stored, fromDisk: true, keep: true };
    const sent = await send();
    const reply = { text: sent.text, finishReason: sent.finishReason };
    if (sent.keep) await this.#write(key, model, sent);
    return { reply, fromDisk: false, keep: sent.keep };
  }

  async #read(key: string, model: string): Promise<CachedReply | undefined> {
    if (!this.#dir) return undefined;
    try {
      const entry = JSON.parse(await readFile(join(this.#dir, `${key}.json`), "utf8")) as Partial<DiskEntry>;
      if (entry.format !== FORMAT || entry.key !== key || entry.model !== model) return undefined;
      if (typeof entry.text !== "string") return undefined;
      return {
        text: entry.text,
        finishReason: typeof entry.finishReason === "string" ? entry.finishReason : undefined,
      };
    } catch {
      return undefined;
    }
  }

  async #write(key: string, model: string, sent: SentReply): Promise<void> {
    if (!this.#dir) return;
    const file = join(this.#dir, `${key}.json`);
    const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    const entry: DiskEntry = {
      format: FORMAT,
      key,
      model,
      text: sent.text,
      finishReason: sent.finishReason ?? null,
      usage: sent.usage,
      createdAt: new Date().toISOString(),
    };
    try {
      await mkdir(this.#dir, { recursive: true });
      await writeFile(temp, JSON.stringify(entry));
      await rename(temp, file);
    } catch {
      await rm(temp, { force: true }).catch(() => {});
    }
  }
}
