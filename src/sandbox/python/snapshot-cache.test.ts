import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { SNAPSHOTS_KEPT, SnapshotCache } from "./snapshot-cache.ts";

test("writing a snapshot keeps only the newest few in the folder, and other files alone", async () => {
  const dir = await mkdtemp(join(tmpdir(), "rlm-snapshots-"));
  try {
    const caches = Array.from({ length: 5 }, (_, i) => new SnapshotCache(dir, [`version ${i}`]));
    for (const [i, cache] of caches.entries()) {
      await cache.write(new Uint8Array([i]));
      // Distinct, increasing times, whatever the file system's timestamp resolution.
      const seconds = 1_700_000_000 + i * 60;
      await utimes(cache.path, seconds, seconds);
    }
    await writeFile(join(dir, "notes.txt"), "mine");
    const latest = new SnapshotCache(dir, ["version 5"]);
    await latest.write(new Uint8Array([5]));

    const left = (await readdir(dir)).sort();
    const expected = [latest, caches[4], caches[3]].map((c) => c?.path.split("/").pop() ?? "");
    assert.equal(left.length, SNAPSHOTS_KEPT + 1);
    assert.deepEqual(left.filter((n) => n.endsWith(".snapshot")).sort(), expected.sort());
    assert.ok(left.includes("notes.txt"), "files that are not snapshots stay");
    assert.deepEqual(await latest.read(), new Uint8Array([5]));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
