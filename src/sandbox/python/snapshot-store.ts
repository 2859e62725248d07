/**
 * Where Python guests get their memory snapshot from, and who makes it. The first guest to find none
 * claims the job, boots cold and hands its snapshot back; guests that ask meanwhile wait for it instead
 * of booting cold too. Guests on threads get the bytes (in shared memory, never copied); guests in
 * child processes get a file they are allowed to read.
 */
import { access } from "node:fs/promises";
import type { SnapshotCache } from "./snapshot-cache.ts";

export class SnapshotStore {
  readonly #cache: SnapshotCache | undefined;
  #bytes: Promise<Uint8Array | undefined> | undefined;
  #making: Promise<void> | undefined;
  #settle: () => void = () => {};

  constructor(cache: SnapshotCache | undefined) {
    this.#cache = cache;
  }

  /** The snapshot's bytes, or `undefined` when the caller must boot cold and call `made` or `failed`. */
  async bytesOrClaim(): Promise<Uint8Array | undefined> {
    for (;;) {
      this.#bytes ??=
        this.#cache?.read().then((bytes) => bytes && shareable(bytes)) ?? Promise.resolve(undefined);
      const bytes = await this.#bytes;
      if (bytes) return bytes;
      if (!(await this.#waitOrClaim())) return undefined;
    }
  }

  /** A snapshot file, or `undefined` when the caller must boot cold and call `made` or `failed`. */
  async fileOrClaim(): Promise<string | undefined> {
    for (;;) {
      const path = this.#cache?.path;
      if (path && (await exists(path))) return path;
      if (!(await this.#waitOrClaim())) return undefined;
    }
  }

  /** The snapshot file once a cold boot in progress has written it; `undefined` when there is none. */
  async file(): Promise<string | undefined> {
    await this.#making;
    const path = this.#cache?.path;
    return path && (await exists(path)) ? path : undefined;
  }

  /** A cold boot made the snapshot: keep it, and let the guests waiting for it go. */
  async made(bytes: Uint8Array): Promise<void> {
    this.#bytes = Promise.resolve(shareable(bytes));
    await this.#cache?.write(bytes);
    this.#release();
  }

  /** A cold boot failed: the next guest to ask claims the job. */
  failed(): void {
    this.#release();
  }

  /** The snapshot would not restore (corrupt, or from another runtime): forget it everywhere. */
  async drop(): Promise<void> {
    this.#bytes = Promise.resolve(undefined);
    await this.#cache?.remove();
  }

  /** Waits for a cold boot in progress (true: look again), or claims one (false: boot cold). */
  async #waitOrClaim(): Promise<boolean> {
    if (this.#making) {
      await this.#making;
      return true;
    }
    // Taken synchronously after the check, so concurrent callers never boot cold twice.
    this.#making = new Promise((resolve) => (this.#settle = resolve));
    return false;
  }

  #release(): void {
    this.#making = undefined;
    this.#settle();
  }
}

/** The snapshot in shared memory, so each new worker thread gets it without a 30 MB copy. */
function shareable(bytes: Uint8Array): Uint8Array {
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  shared.set(bytes);
  return shared;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
