import assert from "node:assert/strict";
import { test } from "node:test";
import { describeContext } from "./describe-context.ts";

test("a string is described by characters and lines", () => {
  assert.equal(describeContext("ab\ncd\n"), "`context` is a str of 6 characters (2 lines).");
});

test("a list gives its count, total and the first item lengths", () => {
  const text = describeContext(["aaa", "b", "cc"]);
  assert.match(text, /list of 3 str items, 6 characters in total/);
  assert.match(text, /first 3 items: 3, 1, 2\./);
});

test("a long list adds the longest and shortest item", () => {
  const items = Array.from({ length: 12 }, (_, i) => "x".repeat(i + 1));
  assert.match(describeContext(items), /\(max 12, min 1\)/);
});

test("a list of objects names the keys of the first", () => {
  assert.match(
    describeContext([{ id: 1, text: "hi" }]),
    /list of 1 dict items[\s\S]*Keys of the first item: id, text\./,
  );
});

test("a dict lists its keys with sizes, and where it came from", () => {
  const text = describeContext(
    { "src/a.ts": "12345", "src/b.ts": "1" },
    { source: "2 files from src", skipped: ["logo.png (binary)"] },
  );
  assert.match(text, /dict with 2 keys, 6 characters/);
  assert.match(text, /src\/a\.ts \(5 chars\)/);
  assert.match(text, /It holds 2 files from src\./);
  assert.match(text, /Left out when loading: logo\.png \(binary\)\./);
});

test("a big dict lists the first keys and says how to see all", () => {
  const big = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`k${i}`, "v"]));
  const text = describeContext(big);
  assert.match(text, /first 100; print\(list\(context\)\) for all/);
  assert.doesNotMatch(text, /k120/);
});

test("a huge string's line count is estimated from samples across it, and says so", () => {
  const text = "0123456789\n".repeat(1_000_000); // 11M characters, 1M lines
  assert.equal(describeContext(text), "`context` is a str of 11,000,000 characters (about 1,000,000 lines).");
  // Long lines up front, short ones after: a prefix alone would be far off.
  const mixed = "x".repeat(999).concat("\n").repeat(2_000) + "0123456789\n".repeat(500_000); // 2M + 5.5M chars
  const estimate = Number(/about ([\d,]+) lines/.exec(describeContext(mixed))?.[1]?.replaceAll(",", ""));
  assert.ok(Math.abs(estimate - 502_000) / 502_000 < 0.1, `estimated ${estimate} lines of 502,000`);
});

test("a string up to a million characters has its lines counted exactly", () => {
  const text = "a\n".repeat(499_998) + "end"; // 999,999 characters
  assert.equal(describeContext(text), "`context` is a str of 999,999 characters (499,999 lines).");
});

test("a single document is described by its kind, pages, size and layout", () => {
  const text = describeContext("--- page 1 of 2 ---\nA\n\n--- page 2 of 2 ---\nB\n", {
    source: "the text of report.pdf",
    files: {
      "report.pdf": {
        kind: "PDF",
        bytes: 1_126,
        pages: 2,
        layout: 'each page begins with a line "--- page N of M ---"',
      },
    },
  });
  assert.equal(
    text,
    "`context` is a str of 45 characters (5 lines).\nIt holds the text of report.pdf.\n" +
      'report.pdf: PDF, 2 pages, 1.1 KB; each page begins with a line "--- page N of M ---".',
  );
});

test("a table's note gives rows, columns and their types beside the list's shape", () => {
  const text = describeContext([{ id: 1, name: "a" }], {
    files: {
      "t.csv": {
        kind: "CSV",
        bytes: 12,
        extent: "1 rows, 2 columns",
        layout: "columns: id (int), name (str)",
      },
    },
  });
  assert.match(
    text,
    /list of 1 dict items[\s\S]*\nt\.csv: CSV, 1 rows, 2 columns, 12 bytes; columns: id \(int\), name \(str\)\.$/,
  );
});

test("in a dict, each document's key shows its kind, pages and size, and each kind's layout is said once", () => {
  const pdf = { kind: "PDF", bytes: 2_400_000, pages: 7, layout: "pages marked" };
  const text = describeContext(
    { "a.pdf": "x".repeat(10), "b.pdf": "y", "c.txt": "z", "d.docx": "w" },
    {
      files: {
        "a.pdf": pdf,
        "b.pdf": { ...pdf, pages: 1, bytes: 900 },
        "d.docx": { kind: "DOCX", bytes: 5_000 },
      },
    },
  );
  assert.match(
    text,
    /\n {2}a\.pdf \(10 chars; PDF, 7 pages, 2\.3 MB\)\n {2}b\.pdf \(1 chars; PDF, 1 page, 900 bytes\)\n {2}c\.txt \(1 chars\)\n {2}d\.docx \(1 chars; DOCX, 4\.9 KB\)\n/,
  );
  assert.match(text, /\nDocuments converted to text: 2 PDF \(pages marked\); 1 DOCX\.$/);
});

test("a dict too large to list says how to list it by its variable, in the REPL's language", () => {
  const dict = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, "v"]));
  assert.match(describeContext(dict), /first 100; print\(list\(context\)\) for all/);
  assert.match(describeContext(dict, {}, "context_1"), /first 100; print\(list\(context_1\)\) for all/);
  assert.match(
    describeContext(dict, {}, "context_2", "javascript"),
    /first 100; print\(Object\.keys\(context_2\)\) for all/,
  );
});
