/**
 * Documents as contexts through `rlm ask` (issue 15): a folder holding a two-page PDF, a CSV and a
 * corrupt PDF (the model is told what each file is, kind and pages, the corrupt one is reported and
 * left out, and the model's code reads a page by its marker), and a CSV alone (a list of typed
 * rows). Real Pyodide, the fake OpenAI server.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { PDF_PAGES, pdfWithPages, SAMPLE_CSV } from "../src/context/document-fixtures.ts";
import { conversation, startFakeOpenAIServer, type FakeOpenAIServer } from "../src/testing/index.ts";
import { runRlmCommand } from "./run-cli.ts";
import { TEST_CACHE_DIR, repl } from "./support.ts";

let server: FakeOpenAIServer;
let dir: string;

before(async () => {
  server = await startFakeOpenAIServer({
    models: {
      reader: conversation([
        repl(
          "page = context['docs/report.pdf'].split('--- page 2 of 2 ---')[1].strip()\n" +
            "rows = len(context['docs/table.csv'].splitlines()) - 1\n" +
            "FINAL(f'{page} ({rows} rows)')",
        ),
      ]),
      rows: conversation([
        repl(
          "FINAL(f\"{len(context)} rows, codes {[row['code'] for row in context]}, {context[1]['note']}\")",
        ),
      ]),
    },
  });
  dir = await mkdtemp(join(tmpdir(), "rlm-cli-documents-"));
  await mkdir(join(dir, "docs"));
  await writeFile(join(dir, "docs", "report.pdf"), await pdfWithPages(PDF_PAGES));
  await writeFile(join(dir, "docs", "table.csv"), SAMPLE_CSV);
  await writeFile(join(dir, "docs", "broken.pdf"), "%PDF-1.7\nnot a PDF after all\n");
});
after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const ask = (question: string, context: string, model: string) =>
  runRlmCommand(["ask", question, "--context", context, "--model", `openai/${model}`], {
    env: {
      RLM_BASE_URL: server.baseURL,
      RLM_SUB_MODEL: `openai/${model}`,
      RLM_CACHE_DIR: TEST_CACHE_DIR,
      RLM_LOG_DIR: join(dir, "runs"),
    },
    cwd: dir,
  });

/** What the model was told first: the user messages of its first request. */
const firstMessage = (model: string) =>
  (server.requests.find((request) => request.model === model)?.messages ?? [])
    .filter((message) => message.role === "user")
    .map((message) => message.content)
    .join("\n");

test("rlm ask over a folder of documents: the model is told each file's kind and pages, and a corrupt PDF is reported", async () => {
  const ran = await ask("What were the costs?", "docs", "reader");
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout, `${PDF_PAGES[1]} (3 rows)\n`);
  assert.match(ran.stderr, /\[rlm\] context: [\d,]+ chars from 2 file\(s\) \(documents: 1 PDF\), 1 skipped;/);
  assert.match(
    ran.stderr,
    /skipped docs\/broken\.pdf \(PDF, unreadable: corrupt or not a PDF: Invalid PDF structure\)/,
  );

  const told = firstMessage("reader");
  assert.match(told, /docs\/report\.pdf \(\d+ chars; PDF, 2 pages, 1\.\d KB\)/);
  assert.match(told, /docs\/table\.csv \(85 chars\)/);
  assert.match(
    told,
    /Documents converted to text: 1 PDF \(each page begins with a line "--- page N of M ---"\)/,
  );
  assert.match(told, /Left out when loading: docs\/broken\.pdf \(PDF, unreadable: corrupt or not a PDF/);
  assert.doesNotMatch(told, /Costs were 17 million/, "the description never holds the content");
});

test("rlm ask over a CSV alone: the REPL holds its rows, typed, and the model is told the columns", async () => {
  const ran = await ask("Which codes?", "docs/table.csv", "rows");
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout, "3 rows, codes ['007', 'A7', '12'], None\n");
  assert.match(ran.stderr, /\[rlm\] context: [\d,]+ chars from 1 file\(s\) \(documents: 1 CSV\);/);
  assert.match(
    firstMessage("rows"),
    /docs\/table\.csv: CSV, 3 rows, 5 columns, 85 bytes; .*columns: id \(int\), code \(str\), qty \(int\), price \(float\), note \(str\)/,
  );
});
