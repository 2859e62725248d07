/**
 * Pyodide memory snapshots on disk. A cold boot takes seconds; restoring a snapshot takes a fraction of
 * that. Snapshots are keyed by everything that shapes them (Pyodide version, prelude, worker), written
 * atomically, and deleted when they fail to load. Each is ~30 MB and every engine version makes its
 * own, so writing one deletes all but the newest few. The cache is an optimisation: every failure to read or
 * write it is swallowed and the guest boots cold instead.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Snapshots kept in a cache folder: this version's and those of a couple of others in use alongside. */
export const SNAPSHOTS_KEPT = 3;
const SNAPSHOT_FILE = /^pyodide-[0-9a-f]{16}\.snapshot$/;

export class SnapshotCache {
  readonly #file: string;
  readonly #dir: string;

  /** `key` parts are hashed into the file name. */
  constructor(dir: string, keyParts: readonly string[]) {
    const hash = createHash("sha256");
    for (const part of keyParts) hash.update(part).update("\0");
    this.#dir = dir;
    this.#file = join(dir, `pyodide-${hash.digest("hex").slice(0, 16)}.snapshot`);
  }

  get path(): string {
    return this.#file;
  }

  async read(): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.#file));
    } catch {
      return undefined;
    }
  }

  async write(bytes: Uint8Array): Promise<void> {
    const temp = `${this.#file}.${process.pid}.${Date.now()}.tmp`;
    try {
      await mkdir(this.#dir, { recursive: true });
      await writeFile(temp, bytes);
      await rename(temp, this.#file);
      await this.#prune();
    } catch {
      await rm(temp, { force: true }).catch(() => {});
    }
  }

  /** Deletes all but the `SNAPSHOTS_KEPT` most recently written snapshots (this one among them). */
  async #prune(): Promise<void> {
    const names = (await readdir(this.#dir)).filter((name) => SNAPSHOT_FILE.test(name));
    const dated = await Promise.all(
      names.map(async (name) => ({
        path: join(this.#dir, name),
        mtime: await stat(join(this.#dir, name)).then(
          (s) => s.mtimeMs,
          () => 0,
        ),
      })),
    );
    dated.sort((a, b) => b.mtime - a.mtime);
    const stale = dated.slice(SNAPSHOTS_KEPT).filter((s) => s.path !== this.#file);
    await Promise.all(stale.map((s) => rm(s.path, { force: true }).catch(() => {})));
  }

  async remove(): Promise<void> {
    await rm(this.#file, { force: true }).catch(() => {});
  }
}
