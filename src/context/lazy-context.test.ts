import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { describeContext } from "./describe-context.ts";
import { isLazyContext, MAX_READ_BYTES, type LazyContext } from "./lazy-context.ts";
import { loadContext } from "./load-context.ts";

const dir = mkdtempSync(join(tmpdir(), "rlm-lazy-"));
after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, "logs"));
const lines = Array.from({ length: 20_000 }, (_, i) => `${i} ${i % 1000 === 7 ? "needle" : "hay"} ünïcode`);
const text = lines.join("\n") + "\n";
writeFileSync(join(dir, "logs", "one.log"), text);
writeFileSync(join(dir, "logs", "two.log"), "first\r\nsecond needle\r\nthird");
writeFileSync(join(dir, "logs", "page.pdf"), "%PDF-1.4 not really");
// A needle across the 4 MiB boundary of a streaming read, on a line of its own and in a long line.
const boundary = 4 * 2 ** 20 - 3;
const filler = "a".repeat(99) + "\n";
const head = filler.repeat(Math.floor(boundary / 100)) + "a".repeat(boundary % 100);
writeFileSync(join(dir, "wide.txt"), head + "NEEDLE" + "b".repeat(100) + "\n");

test("over the threshold a folder is a LazyContext of its text files; documents are listed as skipped", async () => {
  const loaded = await loadContext(["logs"], { cwd: dir, lazyAboveBytes: 100_000 });
  assert.ok(isLazyContext(loaded.context));
  const context = loaded.context as LazyContext;
  assert.deepEqual(
    context.files.map((f) => f.key),
    ["logs/one.log", "logs/two.log"],
  );
  assert.equal(loaded.chars, context.totalBytes);
  assert.match(loaded.skipped[0] ?? "", /page\.pdf \(PDF: a folder served lazily holds text files only\)/);
  const small = await loadContext(["logs"], { cwd: dir });
  assert.equal(typeof small.context, "object");
  assert.ok(!isLazyContext(small.context), "under the default 1 GiB a folder loads as a dict");
});

test("reads, chunks, numbered lines, counts, find and grep", async () => {
  const { context } = await loadContext(["logs"], { cwd: dir, lazyAboveBytes: 100_000 });
  assert.ok(isLazyContext(context));
  const bytes = Buffer.from(text);
  assert.equal(await context.read("logs/one.log", 0, 20), bytes.subarray(0, 20).toString("utf8"));
  const chunk = await context.chunk("logs/one.log", 0);
  assert.equal(chunk.end, bytes.length, "a small file is one chunk");
  assert.deepEqual(await context.lines("logs/one.log", 8190, 8194), lines.slice(8190, 8194));
  assert.deepEqual(await context.lines("logs/two.log", 0, 9), ["first", "second needle", "third"]);
  assert.equal(await context.lineCount("logs/one.log"), 20_000);
  assert.equal(await context.lineCount("logs/two.log"), 3);
  assert.equal(await context.find("logs/one.log", "7 needle"), bytes.indexOf("7 needle"));
  assert.equal(await context.find(undefined, "second needle"), 0, "in a folder: whether any file holds it");
  assert.equal(await context.find(undefined, "absent"), -1);
  const found = await context.grep("needle", { limit: 2 });
  assert.equal(found.count, 21);
  assert.deepEqual(found.matches, [
    { path: "logs/one.log", line: 8, text: "7 needle ünïcode" },
    { path: "logs/one.log", line: 1008, text: "1007 needle ünïcode" },
  ]);
  const last = await context.grep("(?i)^SECOND", { path: "logs/two.log" });
  assert.deepEqual(last.matches, [{ path: "logs/two.log", line: 2, text: "second needle" }]);
  await assert.rejects(context.read("logs/one.log", 0, MAX_READ_BYTES + 1), /at most 8,388,608 bytes/);
  await assert.rejects(context.read("nope", 0, 1), /No file "nope"/);
});

test("find and grep see a match across the boundary of a streaming read", async () => {
  const { context } = await loadContext(["wide.txt"], { cwd: dir, lazyAboveBytes: 1000 });
  assert.ok(isLazyContext(context));
  assert.equal(await context.find(undefined, "NEEDLE"), boundary);
  assert.equal((await context.grep("NEEDLE", { fixed: true })).count, 1);
});

test("the description says it is a lazy handle, its sizes and files, and what it supports", async () => {
  const { context, notes } = await loadContext(["logs"], { cwd: dir, lazyAboveBytes: 100_000 });
  const python = describeContext(context, notes);
  assert.match(python, /^`context` is a lazy, read-only handle to a folder of 2 files, [\d,]+ bytes/);
  assert.match(python, /logs\/one\.log \([\d,]+ bytes\)/);
  assert.match(python, /count UTF-8 bytes/);
  assert.match(python, /context\.grep\(pattern, limit=100/);
  assert.match(python, /\.splitlines\(\).*raise an error/);
  assert.match(python, /Left out when loading: logs\/page\.pdf/);
  const javascript = describeContext(context, notes, "context", "javascript");
  assert.match(javascript, /Object\.keys\(context\)/);
  assert.match(javascript, /\.slice\(a, b\)/);
});
