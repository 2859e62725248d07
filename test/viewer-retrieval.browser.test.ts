/// <reference lib="dom" />
/**
 * `rlm view` shows an answer's citations (issue 15): a real run whose code greps a dict context and
 * cites the match, its trajectory file served by the viewer, and the page in Debian's Chromium. The
 * final answer lists its sources with the cited text, and a source's link opens the `grep` call that
 * returned it.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { RLM } from "../src/index.ts";
import { conversation, startFakeOpenAIServer, type FakeOpenAIServer } from "../src/testing/index.ts";
import { startViewerServer, type ViewerServer } from "../src/trace/viewer/server.ts";
import { repl, TEST_CACHE_DIR } from "./support.ts";
import { openPage } from "./browser.ts";

describe("rlm view shows an answer's citations", () => {
  let server: FakeOpenAIServer;
  let dir: string;
  let viewer: ViewerServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "rlm-view-citations-"));
    server = await startFakeOpenAIServer({
      models: {
        root: conversation([
          repl('m = grep("expire")["matches"][0]\nprint(m)'),
          repl("answer['content'] = f\"Tokens expire after an hour [{m['cite']}].\"\nanswer['ready'] = True"),
        ]),
        sub: () => "hi",
      },
    });
    const result = await new RLM({
      model: "openai/root",
      subModel: "openai/sub",
      baseURL: server.baseURL,
      apiKey: "test",
      env: {},
      isolation: "thread",
      cacheDir: TEST_CACHE_DIR,
      logDir: dir,
    }).completion({
      prompt: "When do tokens expire?",
      context: { "src/auth.py": "import time\nTTL = 3600  # tokens expire after an hour\n" },
    });
    assert.equal(result.citations.length, 1);
    viewer = await startViewerServer({ path: dir, port: 0 });
  });
  after(async () => {
    await viewer?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("the final answer lists its sources, each linked to the grep call that returned it", async (t) => {
    const opened = await openPage(t, viewer.url);
    if (!opened) return;
    const { page, problems } = opened;
    await page.locator('[data-testid="run-view"]').waitFor();

    const sources = page.locator('[data-testid="citation"]');
    assert.equal(await sources.count(), 1);
    assert.equal(
      await sources.first().innerText(),
      "[src/auth.py:2] TTL = 3600 # tokens expire after an hour",
    );
    const call = page.locator('[data-testid="tool-call"]').first();
    assert.equal(await call.evaluate((el) => (el as HTMLDetailsElement).open), false);
    const hash = await page.evaluate(() => location.hash);
    await sources.first().locator("a").click();
    assert.equal(await call.evaluate((el) => (el as HTMLDetailsElement).open), true);
    assert.match(await call.innerText(), /"cite": ?"src\/auth\.py:2"/);
    assert.equal(await page.evaluate(() => location.hash), hash, "the route stays");
    assert.deepEqual(problems, []);
  });
});
