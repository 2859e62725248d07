/// <reference lib="dom" />
/**
 * `rlm view` end to end: a real depth-2 run (the engine against the fake model server, with prices so
 * every cost is known), the viewer's server on port 0, and Debian's Chromium driven by playwright-core.
 * The child's subtree cost the page shows must equal the sum computed here from the file.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { RLM, parseTrajectory, type IterationLine } from "../src/index.ts";
import {
  conversation,
  lastUserMessage,
  startFakeOpenAIServer,
  type FakeOpenAIServer,
} from "../src/testing/index.ts";
import { loadRun } from "../src/trace/viewer/load-run.ts";
import { startViewerServer, type ViewerServer } from "../src/trace/viewer/server.ts";
import { TEST_CACHE_DIR } from "./support.ts";
import { openPage } from "./browser.ts";

const SCREENSHOT = fileURLToPath(new URL("../test-results/viewer.png", import.meta.url));
/** Written only by the children's code, so a search for it must find text inside a child run. */
const CHILD_MARKER = "okapi-marker";

const repl = (code: string) => "```repl\n" + code + "\n```";

/** Cost of a run's subtree from the file alone: each turn's call, each sub-call, each child, recursively. */
function subtreeCost(iterations: IterationLine[]): number {
  let cost = 0;
  for (const iteration of iterations) {
    assert.notEqual(iteration.usage.cost_usd, null, "every turn is priced");
    cost += iteration.usage.cost_usd ?? 0;
    for (const block of iteration.code_blocks) {
      for (const call of block.result.rlm_calls) {
        if (call.child) cost += subtreeCost(call.child.iterations);
        else {
          assert.notEqual(call.cost_usd, null, "every sub-call is priced");
          cost += call.cost_usd ?? 0;
        }
      }
    }
  }
  return cost;
}

/** The number in "$0.00312" and how many decimals were shown. */
function shownUsd(text: string): { value: number; decimals: number } {
  const match = /^\$(\d+)(?:\.(\d+))?$/.exec(text.trim());
  assert.ok(match, `a plain dollar figure, got "${text}"`);
  return { value: Number(text.trim().slice(1)), decimals: match[2]?.length ?? 0 };
}

function assertShownCost(text: string, expected: number): void {
  const { value, decimals } = shownUsd(text);
  assert.ok(expected > 0, "the cost is known and not zero");
  assert.ok(
    Math.abs(value - expected) <= 0.5 * 10 ** -decimals + 1e-12,
    `shown ${text}, computed $${expected} (to ${decimals} decimals)`,
  );
}

describe("rlm view in a browser", () => {
  let server: FakeOpenAIServer;
  let dir: string;
  let logDir: string;
  let trajectoryFile: string;
  let viewer: ViewerServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "rlm-view-browser-"));
    logDir = join(dir, "runs");
    const child = conversation([
      repl(`words = context.split()\ntag = '${CHILD_MARKER}'\nprint(len(words), tag)`),
      repl("note = llm_query('Say something about ' + context)\nFINAL(f'{len(words)} words')"),
    ]);
    server = await startFakeOpenAIServer({
      models: {
        root: conversation([
          "Let me split the work.\n" +
            repl(
              "# one child per part\nparts = ['alpha beta', 'gamma delta epsilon']\nout = rlm_query_batched(['Count the words'] * 2, contexts=parts)\nprint(out, 42)",
            ),
          repl("summary = llm_query('Summarise: ' + ' | '.join(out))\nFINAL(' | '.join(out))"),
        ]),
        sub: (request) =>
          request.messages[0]?.role === "system"
            ? child(request)
            : `sub says: ${lastUserMessage(request).slice(0, 40)}`,
      },
    });
    const result = await new RLM({
      model: "openai/root",
      subModel: "openai/sub",
      baseURL: server.baseURL,
      env: {},
      cacheDir: TEST_CACHE_DIR,
      maxDepth: 2,
      logDir,
      pricing: {
        "openai/root": { inputPerMTok: 3, outputPerMTok: 15 },
        "openai/sub": { inputPerMTok: 1, outputPerMTok: 4 },
      },
    }).completion({ prompt: "How many words are in each part?", context: "alpha beta gamma delta epsilon" });
    assert.equal(result.answer, "2 words | 3 words");
    assert.ok(result.trajectoryFile);
    trajectoryFile = result.trajectoryFile;
    viewer = await startViewerServer({ path: logDir, port: 0 });
  });
  after(async () => {
    await viewer?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("the viewer's tree totals equal the engine's own run_end figures", async () => {
    const file = parseTrajectory(readFileSync(trajectoryFile, "utf8"));
    const end = file.iterations.at(-1)?.run_end;
    assert.ok(end);
    const { run } = await loadRun(await realpath(logDir), basename(trajectoryFile));
    assert.equal(run.totals.calls, end.usage.calls);
    assert.equal(run.totals.inputTokens, end.usage.input_tokens);
    assert.equal(run.totals.outputTokens, end.usage.output_tokens);
    assert.equal(run.totals.unpricedCalls, 0);
    assert.ok(Math.abs(run.totals.costUsd - end.usage.cost_usd) < 1e-12);
    assert.ok(Math.abs(run.totals.costUsd - subtreeCost(file.iterations)) < 1e-12);
  });

  test("shows the run, a child's subtree cost, highlighted code, and finds text inside a child", async (t) => {
    const opened = await openPage(t, viewer.url);
    if (!opened) return;
    const { page, problems } = opened;
    // One run in the folder: the page opens it by itself.
    await page.locator('[data-testid="run-item"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="run-item"]').count(), 1);
    await page.locator('[data-testid="run-view"]').waitFor();

    const file = parseTrajectory(readFileSync(trajectoryFile, "utf8"));
    const end = file.iterations.at(-1)?.run_end;
    assert.ok(end);
    assertShownCost(await page.locator('[data-testid="run-cost"]').innerText(), end.usage.cost_usd);
    assertShownCost(await page.locator('[data-testid="run-cost"]').innerText(), subtreeCost(file.iterations));
    const rootTimeline = page.locator('[data-testid="run-view"] > .run-body > [data-testid="timeline"]');
    assert.equal(await rootTimeline.locator('[data-testid="timeline-turn"]').count(), file.iterations.length);

    // Expand the first child and read the cost of its subtree.
    const spawned = file.iterations
      .flatMap((i) => i.code_blocks.flatMap((b) => b.result.rlm_calls))
      .find((c) => c.child);
    assert.ok(spawned?.child, "the root spawned a child run");
    const childRun = page.locator(`[data-testid="child-run"][data-run-id="${spawned.child.run_id}"]`);
    assert.equal(await childRun.getAttribute("data-depth"), "1");
    await childRun.locator(":scope > summary").click();
    assert.equal(await childRun.evaluate((element) => (element as HTMLDetailsElement).open), true);
    await childRun.locator('[data-testid="turn"]').first().waitFor({ state: "visible" });
    const childCost = await childRun.locator(':scope > summary [data-testid="child-cost"]').innerText();
    assertShownCost(childCost, subtreeCost(spawned.child.iterations));

    // Code is highlighted: the REPL's functions, strings, comments and numbers get their own spans.
    const code = page.locator('[data-testid="code"]').first();
    assert.ok((await code.locator(".tok-rlm").allInnerTexts()).includes("rlm_query_batched"));
    assert.ok((await code.locator(".tok-string").count()) > 0);
    assert.deepEqual(await code.locator(".tok-comment").allInnerTexts(), ["# one child per part"]);
    const colours = await code.evaluate((element) => {
      const colourOf = (selector: string) =>
        getComputedStyle(element.querySelector(selector) ?? element).color;
      return {
        rlm: colourOf(".tok-rlm"),
        string: colourOf(".tok-string"),
        plain: getComputedStyle(element).color,
      };
    });
    assert.notEqual(colours.rlm, colours.plain);
    assert.notEqual(colours.string, colours.plain);

    // Search: collapse every child, then look for text only the children's code holds.
    await page.evaluate(() => {
      for (const element of document.querySelectorAll('[data-testid="child-run"]'))
        (element as HTMLDetailsElement).open = false;
    });
    await page.locator('[data-testid="run-search"]').fill(CHILD_MARKER);
    await page.locator('[data-testid="search-count"]').filter({ hasText: "match" }).waitFor();
    const found = await page.evaluate(() =>
      [...document.querySelectorAll("mark.hit")].map((mark) => {
        const closed: string[] = [];
        for (let d = mark.closest("details"); d; d = d.parentElement?.closest("details") ?? null)
          if (!(d as HTMLDetailsElement).open) closed.push(d.className);
        return {
          text: mark.textContent,
          inChild: mark.closest('[data-testid="child-run"]') !== null,
          closed,
        };
      }),
    );
    assert.ok(found.length >= 2, `the marker is in both children's code, found ${found.length}`);
    for (const mark of found) {
      assert.equal(mark.text, CHILD_MARKER);
      assert.equal(mark.inChild, true, "only the children hold the marker");
      assert.deepEqual(mark.closed, [], "every section holding a match was opened");
    }
    assert.match(
      await page.locator('[data-testid="search-count"]').innerText(),
      new RegExp(`^${found.length} match`),
    );
    await page.locator('[data-testid="run-search"]').press("Enter");
    assert.equal(await page.locator("mark.hit.current").count(), 1);

    await page.evaluate(() => window.scrollTo(0, 0));
    await mkdir(join(SCREENSHOT, ".."), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`viewer screenshot: ${SCREENSHOT}`);
    assert.deepEqual(problems, [], "no errors in the page");
  });
});
