import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { extractCitations, LocationRecord } from "./citations.ts";
import { citeOf, corpusOf } from "./corpus.ts";
import {
  compilePattern,
  grep,
  GREP_LINE_CHARS,
  GREP_OUTPUT_CHARS,
  GrepPatternError,
  scanLines,
} from "./grep.ts";
import { chunkDocument, CHUNK_CHARS, CHUNK_LINES, SearchIndex } from "./search.ts";

const lines = (n: number, line: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => line(i + 1)).join("\n");

describe("grep", () => {
  test("reports each matching line once, 1-based, with its path; total counts every match", () => {
    const docs = corpusOf({ "a.log": "ok\nERROR one ERROR again\nok\nERROR two", "b.log": "ERROR three\n" });
    const result = grep(docs, "ERROR");
    assert.deepEqual(
      result.matches.map((m) => [m.path, m.line, m.cite]),
      [
        ["a.log", 2, "a.log:2"],
        ["a.log", 4, "a.log:4"],
        ["b.log", 1, "b.log:1"],
      ],
    );
    assert.equal(result.total, 3);
    assert.equal(result.truncated, false);
  });

  test("max_matches bounds the list, with a note; total still counts all", () => {
    const result = grep(corpusOf(lines(500, (i) => `row ${i}`)), "row", { maxMatches: 10 });
    assert.equal(result.matches.length, 10);
    assert.equal(result.total, 500);
    assert.equal(result.truncated, true);
    assert.match(result.note ?? "", /showing 10 of 500 matching lines \(max_matches=10\)/);
  });

  test("a long line is cut around the match; the whole output is bounded", () => {
    const long = `${"x".repeat(10_000)}NEEDLE${"y".repeat(10_000)}`;
    const [match] = grep(corpusOf(long), "NEEDLE").matches;
    assert.ok(match && match.text.includes("NEEDLE"));
    assert.ok(match.text.length < GREP_LINE_CHARS + 60, `${match.text.length}`);
    assert.match(match.text, /^…x+NEEDLEy+…\[line of 20,006 characters\]$/);
    const wide = grep(corpusOf(lines(3000, () => "z".repeat(399))), "z", { maxMatches: 5000 });
    assert.ok(wide.matches.length * 399 <= GREP_OUTPUT_CHARS);
    assert.equal(wide.total, 3000);
    assert.match(wide.note ?? "", /reached 100,000 characters/);
  });

  test("context lines, a path filter (key, folder, glob), a list's index", () => {
    const docs = corpusOf({ "logs/a.log": "1\n2\nhit\n4\n5", "src/x.ts": "hit", "src/y.py": "hit" });
    const [m] = grep(docs, "hit", { contextLines: 2, path: "logs" }).matches;
    assert.deepEqual(
      [m?.before, m?.after],
      [
        ["1", "2"],
        ["4", "5"],
      ],
    );
    assert.deepEqual(
      grep(docs, "hit", { path: "src/*.py" }).matches.map((x) => x.path),
      ["src/y.py"],
    );
    assert.deepEqual(
      grep(docs, "hit", { path: "src/x.ts" }).matches.map((x) => x.path),
      ["src/x.ts"],
    );
    const list = grep(corpusOf(["a", "b\nhit"]), "hit").matches[0];
    assert.deepEqual([list?.index, list?.line, list?.cite], [1, 2, "#1:2"]);
  });

  test("Python re syntax: named groups, back-references, leading inline flags, integer flags", () => {
    assert.equal(compilePattern("(?P<w>ab)(?P=w)", undefined).source, "(?<w>ab)\\k<w>");
    assert.equal(compilePattern("(?i)error", undefined).flags, "gim");
    assert.equal(compilePattern("error", 2 | 16).flags, "gims");
    assert.equal(compilePattern("x", "is").flags, "gims");
    assert.equal(compilePattern("\\Aabc\\Z", undefined).source, "^abc$");
    for (const [pattern, flags] of [
      ["(a+)+$", undefined],
      ["(\\w*)*", undefined],
      ["a(?i)b", undefined],
      ["(?x) a", undefined],
      ["x", 64],
      ["x", "q"],
      ["(", undefined],
    ] as const)
      assert.throws(() => compilePattern(pattern, flags), GrepPatternError, `${pattern} ${String(flags)}`);
  });

  test("scanLines: matches at the start, the end, empty lines", () => {
    const seen: number[] = [];
    const count = scanLines("a\n\nb\n", /^$/gm, (line) => seen.push(line));
    assert.deepEqual(seen, [2, 4]);
    assert.equal(count, 2);
  });

  test("a PDF's page markers give each line its page, and cites name the page", () => {
    const pdf = "--- page 1 of 3 ---\nalpha\n--- page 2 of 3 ---\nbeta\n--- page 3 of 3 ---\ngamma beta\n";
    const found = grep(corpusOf(pdf), "beta").matches;
    assert.deepEqual(
      found.map((m) => [m.line, m.page, m.cite]),
      [
        [4, 2, "page 2"],
        [6, 3, "page 3"],
      ],
    );
    assert.equal(citeOf({ path: "r.pdf", line: 4, page: 2 }), "r.pdf page 2");
  });
});

describe("chunks and the BM25 index", () => {
  test("chunks are at most CHUNK_LINES lines, overlap by a few lines, and cover every line", () => {
    const text = lines(100, (i) => `line ${i}`);
    const chunks = chunkDocument(text, 0);
    assert.deepEqual(
      chunks.map((c) => [c.lineStart, c.lineEnd]),
      [
        [1, 40],
        [36, 75],
        [71, 100],
      ],
    );
    for (const c of chunks) assert.ok(c.lineEnd - c.lineStart + 1 <= CHUNK_LINES);
    assert.equal(text.slice(chunks[1]?.start, chunks[1]?.end).split("\n")[0], "line 36");
  });

  test("chunks stay under CHUNK_CHARS; a longer line becomes pieces on its line; pages are not crossed", () => {
    const text = `${lines(30, () => "w".repeat(300))}\n${"q".repeat(5000)}\nend`;
    const chunks = chunkDocument(text, 0);
    for (const c of chunks) assert.ok(c.end - c.start <= CHUNK_CHARS, `${c.end - c.start}`);
    const pieces = chunks.filter((c) => c.lineStart === 31);
    assert.equal(pieces.length, 3);
    assert.equal(chunks.at(-1)?.lineEnd, 32);
    const pdf = chunkDocument("--- page 1 of 2 ---\na\n--- page 2 of 2 ---\nb", 0);
    assert.deepEqual(
      pdf.map((c) => [c.lineStart, c.lineEnd]),
      [
        [1, 2],
        [3, 4],
      ],
    );
  });

  test("search ranks the chunk holding the query's words first, with its location", async () => {
    const docs = corpusOf({
      "notes/a.md": lines(200, (i) =>
        i === 150 ? "the warranty covers water damage for two years" : `filler ${i}`,
      ),
      "notes/b.md": "shipping is free over fifty dollars",
    });
    const index = await SearchIndex.build(docs);
    const [best] = index.search("warranty water damage", 3);
    assert.equal(best?.path, "notes/a.md");
    assert.ok(best && best.line_start <= 150 && best.line_end >= 150);
    assert.match(best?.text ?? "", /warranty covers water damage/);
    assert.equal(best?.cite, `notes/a.md:${best?.line_start}-${best?.line_end}`);
    assert.deepEqual(
      index.search("shipping", 5, (d) => d.path === "notes/a.md"),
      [],
    );
  });
});

describe("citations", () => {
  test("markers that name returned locations become citations, once each, in order; others are ignored", () => {
    const record = new LocationRecord();
    record.add("a.ts:3", { path: "a.ts", line: 3 }, "const x = 1;", "tool_1");
    record.add(
      "b.md:10-20",
      { path: "b.md", line: 10, lineEnd: 20 },
      lines(11, (i) => `b line ${i + 9}`),
      "tool_2",
    );
    record.add("page 4", { line: 80, page: 4 }, "total 42", "tool_3");
    const answer =
      "x is 1 [a.ts:3]; see [b.md:12; a.ts:3] and [page 4], not [a.ts:4] nor [link](http://x) [b.md:25].";
    assert.deepEqual(extractCitations(answer, record), [
      { cite: "a.ts:3", path: "a.ts", line: 3, text: "const x = 1;", callId: "tool_1" },
      { cite: "b.md:12", path: "b.md", line: 12, text: "b line 12", callId: "tool_2" },
      { cite: "page 4", line: 80, page: 4, text: "total 42", callId: "tool_3" },
    ]);
    assert.deepEqual(extractCitations("nothing [a.ts:3]", new LocationRecord()), []);
  });
});

describe("a lazy context (too large to load)", () => {
  test("grep streams its files from disk with the same scan; search refuses, naming grep", async () => {
    const { mkdtemp, writeFile, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { LazyContext } = await import("../../context/lazy-context.ts");
    const { runRetrieval } = await import("./retrieval-tools.ts");
    const dir = await mkdtemp(join(tmpdir(), "rlm-lazy-grep-"));
    try {
      const a = join(dir, "a.log");
      const body = lines(50_000, (i) => (i % 10_000 === 0 ? `ERROR at ${i}` : `INFO ${i}`));
      await writeFile(a, body);
      const lazy = new LazyContext("folder", [
        { key: "logs/a.log", path: a, bytes: Buffer.byteLength(body) },
      ]);
      const run = runRetrieval({}, lazy);
      const signal = new AbortController().signal;
      const found = await run.grep({ pattern: "ERROR", max_matches: 3 }, "tool_1", signal);
      assert.deepEqual(
        found.matches.map((m) => [m.cite, m.text]),
        [
          ["logs/a.log:10000", "ERROR at 10000"],
          ["logs/a.log:20000", "ERROR at 20000"],
          ["logs/a.log:30000", "ERROR at 30000"],
        ],
      );
      assert.equal(found.total, 5);
      assert.equal(run.citations("see [logs/a.log:20000]")[0]?.line, 20000);
      await assert.rejects(run.search({ query: "error" }, "tool_2", signal), /use grep\(\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
