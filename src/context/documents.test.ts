import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import {
  PDF_PAGES,
  pdfWithPages,
  SAMPLE_CSV,
  SAMPLE_HTML,
  writeSampleDocuments,
} from "./document-fixtures.ts";
import { documentKind, LAYOUTS, readTable } from "./documents.ts";
import { documentsSummary, loadContext } from "./load-context.ts";

describe("documents as contexts", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "rlm-documents-"));
    await writeSampleDocuments(dir);
    await writeFile(join(dir, "broken.pdf"), "%PDF-1.7\nthis is not really a PDF\n");
    await writeFile(join(dir, "scan.pdf"), await pdfWithPages(["", ""]));
    await writeFile(join(dir, "no-extension"), await pdfWithPages(["Found by its first bytes."]));
  });
  after(() => rm(dir, { recursive: true, force: true }));
  const size = async (name: string) => (await stat(join(dir, name))).size;

  test("a two-page PDF is its text, each page after a marker line, and its note has the pages", async () => {
    const loaded = await loadContext(["report.pdf"], { cwd: dir });
    assert.equal(
      loaded.context,
      `--- page 1 of 2 ---\n${PDF_PAGES[0]}\n\n--- page 2 of 2 ---\n${PDF_PAGES[1]}\n`,
    );
    assert.deepEqual(loaded.notes.files, {
      "report.pdf": { kind: "PDF", bytes: await size("report.pdf"), pages: 2, layout: LAYOUTS.pdf },
    });
    assert.equal(loaded.notes.source, "the text of report.pdf");
  });

  test("a PDF with no text layer says so instead of looking empty", async () => {
    const loaded = await loadContext(["scan.pdf"], { cwd: dir });
    assert.equal(loaded.context, "--- page 1 of 2 ---\n\n\n--- page 2 of 2 ---\n\n");
    assert.match(loaded.notes.files?.["scan.pdf"]?.layout ?? "", /no text was found in it/);
  });

  test("a file without an extension that starts %PDF- is read as a PDF", async () => {
    const loaded = await loadContext(["no-extension"], { cwd: dir });
    assert.equal(loaded.context, "--- page 1 of 1 ---\nFound by its first bytes.\n");
  });

  test("a DOCX is its text: headings as # lines, paragraphs, the table as aligned columns", async () => {
    const loaded = await loadContext(["report.docx"], { cwd: dir });
    assert.equal(
      loaded.context,
      "# Quarterly report\n\nRevenue grew by 12%.\n\n## Risks\n\nSupply is tight.\n\nregion   sales\nnorth    7\n",
    );
    assert.deepEqual(loaded.notes.files, {
      "report.docx": { kind: "DOCX", bytes: await size("report.docx"), layout: LAYOUTS.docx },
    });
  });

  test("an HTML page is its readable text: title kept, scripts and styles left out", async () => {
    const loaded = await loadContext(["page.html"], { cwd: dir });
    assert.equal(
      loaded.context,
      "Title: Release notes\n\nHome [/]\n\n# Version 2\n\nAdds documents [https://example.org/docs] & tables.\n\n" +
        "## Limits\n\nformat   pages\nPDF      any\n",
    );
    assert.doesNotMatch(loaded.context as string, /script text|color: red/);
  });

  test("--context-format text reads an HTML page as it is", async () => {
    const loaded = await loadContext(["page.html"], { cwd: dir, format: "text" });
    assert.equal(loaded.context, SAMPLE_HTML);
    assert.equal(loaded.notes.files, undefined);
  });

  test("a CSV is a list of dicts; a column stays str unless every value is a number; empty is null", async () => {
    const loaded = await loadContext(["table.csv"], { cwd: dir });
    assert.deepEqual(loaded.context, [
      { id: 1, code: "007", qty: 3, price: 2.5, note: "first, with a comma" },
      { id: 2, code: "A7", qty: 10, price: 3, note: null },
      { id: 3, code: "12", qty: 0, price: 100, note: "last" },
    ]);
    assert.deepEqual(loaded.notes.files, {
      "table.csv": {
        kind: "CSV",
        bytes: 85,
        extent: "3 rows, 5 columns",
        layout:
          "a list of dicts, one per row, keyed by the header row; columns: id (int), code (str), qty (int), price (float), note (str); empty cells are None",
      },
    });
  });

  test("a TSV is a list of dicts too; leading zeros keep a column str", async () => {
    const loaded = await loadContext(["table.tsv"], { cwd: dir });
    assert.deepEqual(loaded.context, [
      { city: "Oslo", zip: "0150", count: 4 },
      { city: "Bergen", zip: "5003", count: 2 },
    ]);
  });

  test("CSV from standard input with --context-format csv", async () => {
    const loaded = await loadContext(["-"], {
      cwd: dir,
      format: "csv",
      stdin: Readable.from([Buffer.from(SAMPLE_CSV)]),
    });
    assert.equal((loaded.context as unknown[]).length, 3);
    assert.equal(loaded.notes.files?.["standard input"]?.kind, "CSV");
  });

  test("a JSONL file is a list of its values, without --context-format", async () => {
    const loaded = await loadContext(["items.jsonl"], { cwd: dir });
    assert.deepEqual(loaded.context, [
      { id: 1, text: "alpha" },
      { id: 2, text: "beta" },
    ]);
    assert.deepEqual(loaded.notes.files, { "items.jsonl": { kind: "JSONL", bytes: 53, extent: "2 items" } });
  });

  test("a notebook is its cells after # [markdown] / # [code] lines, with text outputs and no images", async () => {
    const loaded = await loadContext(["analysis.ipynb"], { cwd: dir });
    assert.equal(
      loaded.context,
      "# [markdown]\n# Analysis\nLoad the data.\n\n# [code]\nprint('hello')\n1 + 1\n\n# [output]\nhello\n\n2\n\n# [code]\nplot()\n",
    );
    assert.deepEqual(loaded.notes.files, {
      "analysis.ipynb": {
        kind: "Jupyter notebook",
        bytes: await size("analysis.ipynb"),
        extent: "3 cells, python",
        layout: LAYOUTS.ipynb,
      },
    });
  });

  test("a corrupt PDF given alone fails with its reason", async () => {
    await assert.rejects(loadContext(["broken.pdf"], { cwd: dir }), {
      code: "RLM_CONTEXT_LOAD_FAILED",
      message: /^broken\.pdf cannot be read as PDF: corrupt or not a PDF: Invalid PDF structure\.$/,
    });
  });

  test("a CSV that cannot be parsed says why and how to read it as text", async () => {
    await writeFile(join(dir, "bad.csv"), 'a,b\n"unclosed,2\n');
    await assert.rejects(loadContext(["bad.csv"], { cwd: dir }), {
      code: "RLM_CONTEXT_LOAD_FAILED",
      message: /bad\.csv cannot be read as CSV: not valid CSV: .*--context-format text/,
    });
    await rm(join(dir, "bad.csv"));
  });

  test("in a directory every document is text, a corrupt one is skipped with its reason, and the rest load", async () => {
    const loaded = await loadContext(["."], { cwd: dir, exclude: ["no-extension", "scan.pdf"] });
    const context = loaded.context as Record<string, string>;
    assert.deepEqual(Object.keys(context), [
      "analysis.ipynb",
      "items.jsonl",
      "page.html",
      "report.docx",
      "report.pdf",
      "table.csv",
      "table.tsv",
    ]);
    assert.ok(Object.values(context).every((value) => typeof value === "string"));
    assert.match(context["report.pdf"] ?? "", /^--- page 1 of 2 ---\nRevenue was 42 million\./);
    assert.match(context["report.docx"] ?? "", /^# Quarterly report\n/);
    assert.equal(context["table.csv"], SAMPLE_CSV, "a CSV inside a directory stays its text");
    assert.deepEqual(loaded.skipped, [
      "broken.pdf (PDF, unreadable: corrupt or not a PDF: Invalid PDF structure)",
    ]);
    assert.equal(documentsSummary(loaded.notes), "1 Jupyter notebook, 1 HTML, 1 DOCX, 1 PDF");

    // Notes for the converted documents only: a CSV in a folder is text, and told as any text file.
    assert.deepEqual(Object.keys(loaded.notes.files ?? {}), [
      "analysis.ipynb",
      "page.html",
      "report.docx",
      "report.pdf",
    ]);
    assert.equal(loaded.notes.files?.["report.pdf"]?.pages, 2);
    assert.deepEqual(loaded.notes.skipped, loaded.skipped);
  });

  test("a directory of only unreadable documents says what was skipped", async () => {
    await assert.rejects(
      loadContext(["broken.pdf", "broken.pdf"], { cwd: dir }),
      /No text files found in broken\.pdf, broken\.pdf \(1 skipped: broken\.pdf \(PDF, unreadable/,
    );
  });
});

describe("readTable typing", () => {
  const table = async (text: string) => (await readTable(Buffer.from(text), "csv")).rows;

  test("whole numbers with a float make a float column; a huge integer or a leading zero keeps str", async () => {
    assert.deepEqual(await table("a,b,c\n1,9007199254740993,01\n2.5,1,1\n"), [
      { a: 1, b: "9007199254740993", c: "01" },
      { a: 2.5, b: "1", c: "1" },
    ]);
  });

  test("NaN, Infinity, thousands separators and spaces-only values are not numbers", async () => {
    assert.deepEqual(await table('a,b,c,d\nNaN,Infinity,"1,000", \n'), [
      { a: "NaN", b: "Infinity", c: "1,000", d: null },
    ]);
  });

  test("blank and repeated header names get names, short rows fill with null, extra cells get columns", async () => {
    assert.deepEqual(await table("x,,x\n1,2,3\n4\n5,6,7,8\n"), [
      { x: 1, column_2: 2, x_2: 3, column_4: null },
      { x: 4, column_2: null, x_2: null, column_4: null },
      { x: 5, column_2: 6, x_2: 7, column_4: 8 },
    ]);
  });

  test("a header alone is an empty list", async () => {
    assert.deepEqual(await table("a,b\n"), []);
  });
});

test("documentKind goes by extension, case-insensitively", () => {
  assert.equal(documentKind("a/B.PDF"), "pdf");
  assert.equal(documentKind("x.htm"), "html");
  assert.equal(documentKind("x.ndjson"), "jsonl");
  assert.equal(documentKind("notes.txt"), undefined);
  assert.equal(documentKind("dir.pdf/readme"), undefined);
});

test("loading plain text imports none of the document libraries", async () => {
  // A fresh process records every module it resolves while it loads a .txt file and a folder of them.
  const loader = fileURLToPath(new URL("./load-context.ts", import.meta.url));
  const script = `
    import { registerHooks } from "node:module";
    const seen = [];
    registerHooks({ resolve(specifier, context, next) { seen.push(specifier); return next(specifier, context); } });
    const { loadContext } = await import(${JSON.stringify(loader)});
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const dir = await mkdtemp(${JSON.stringify(join(tmpdir(), "rlm-lazy-"))});
    await writeFile(dir + "/a.txt", "plain");
    await loadContext(["a.txt"], { cwd: dir });
    await loadContext(["."], { cwd: dir });
    const csv = process.argv.includes("--with-csv");
    if (csv) { await writeFile(dir + "/t.csv", "a\\n1\\n"); await loadContext(["t.csv"], { cwd: dir }); }
    console.log(JSON.stringify(seen));`;
  const run = async (...args: string[]) => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      "--input-type=module",
      "-e",
      script,
      ...args,
    ]);
    return (JSON.parse(stdout) as string[]).filter((s) => /^(unpdf|mammoth|html-to-text|csv-parse)/.test(s));
  };
  assert.deepEqual(await run(), []);
  // The probe sees a library when one is loaded.
  assert.deepEqual(await run("--", "--with-csv"), ["csv-parse/sync"]);
});
