/// <reference lib="dom" />
/**
 * `rlm view` shows custom tools' calls: a real run whose code calls a tool twice (once with arguments
 * its schema refuses), its trajectory file served by the viewer, and the page in Debian's Chromium. A
 * cell's calls list shows each tool call with its name, arguments, result or error and time, and the
 * turn's summary counts them apart from sub-calls.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { z } from "zod";
import { RLM, tool } from "../src/index.ts";
import { conversation, startFakeOpenAIServer, type FakeOpenAIServer } from "../src/testing/index.ts";
import { startViewerServer, type ViewerServer } from "../src/trace/viewer/server.ts";
import { repl, TEST_CACHE_DIR } from "./support.ts";
import { openPage } from "./browser.ts";

describe("rlm view shows tool calls", () => {
  let server: FakeOpenAIServer;
  let dir: string;
  let viewer: ViewerServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "rlm-view-tools-"));
    server = await startFakeOpenAIServer({
      models: {
        root: conversation([
          repl(
            "hit = lookup(city='Oslo')\ntry:\n    lookup(city=7)\nexcept Exception as e:\n    print(e)\nprint(llm_query('hello'))",
          ),
          repl("answer['content'] = hit['weather']\nanswer['ready'] = True"),
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
      tools: {
        lookup: tool({
          description: "The weather in a city.",
          parameters: z.object({ city: z.string() }),
          execute: ({ city }) => ({ weather: `sunny in ${city}` }),
        }),
      },
    }).completion({ prompt: "Weather?", context: "none" });
    assert.equal(result.answer, "sunny in Oslo");
    viewer = await startViewerServer({ path: dir, port: 0 });
  });
  after(async () => {
    await viewer?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("a cell's calls list each tool call: name, arguments, result or error, time", async (t) => {
    const opened = await openPage(t, viewer.url);
    if (!opened) return;
    const { page, problems } = opened;
    await page.locator('[data-testid="run-view"]').waitFor();

    const turn = page.locator('[data-testid="turn"]').first();
    assert.match(await turn.locator(":scope > summary").innerText(), /1 sub-call\(s\) · 2 tool call\(s\)/);
    const calls = turn.locator('[data-testid="tool-call"]');
    assert.equal(await calls.count(), 2);
    assert.equal(await turn.locator('[data-testid="call"]').count(), 1, "the sub-call is listed apart");

    const ok = calls.nth(0);
    assert.match(await ok.locator(":scope > summary").innerText(), /tool\s+lookup · \d/i);
    await ok.locator(":scope > summary").click();
    const okText = await ok.innerText();
    // Labels are upper case on screen (CSS).
    assert.match(okText, /Arguments\s+\{"city":"Oslo"\}/i);
    assert.match(okText, /Result\s+\{"weather":"sunny in Oslo"\}/i);

    const refused = calls.nth(1);
    assert.match(await refused.locator(":scope > summary").innerText(), /failed/);
    await refused.locator(":scope > summary").click();
    assert.match(await refused.innerText(), /Error\s+lookup\(\) got invalid arguments:\s+- city: /i);
    assert.deepEqual(problems, []);
  });
});
