/**
 * Fan-out benchmarks: a root RLM (maxDepth 2) hands N sub-tasks to child RLMs with
 * `rlm_query_batched`. Each child's REPL is a namespace in the root's interpreter; each child takes
 * three turns against a model that answers after 100 ms. Reports how many children ran at once, the
 * fan-out's wall time against one child alone and against its slowest child, the peak resident memory
 * of the whole process tree (this process and its guest host process), and what each child added.
 *
 *   npm run bench:fanout
 */
import { cpus } from "node:os";
import { RLM } from "../src/rlm/rlm.ts";
import type { RlmEvent } from "../src/trace/events.ts";
import { conversation, startFakeOpenAIServer, type FakeChatRequest } from "../src/testing/index.ts";
import { sampleTreeRss } from "./memory.ts";

const LATENCY_MS = 100;
const repl = (code: string) => "```repl\n" + code + "\n```";
const cacheDir = process.env.RLM_CACHE_DIR ?? "node_modules/.cache/rlm-bench";
const rows: string[] = [];
let baselineRss: number | undefined;
let oneChildMs: number | undefined;
let oneChildRss: number | undefined;

async function fanOut(children: number): Promise<void> {
  const child = conversation([
    repl("n = len(context)\nprint(n)"),
    repl("words = context.split()\nprint(len(words))"),
    repl("answer['content'] = str(n)\nanswer['ready'] = True"),
  ]);
  const server = await startFakeOpenAIServer({
    models: {
      root: conversation([
        repl(
          `out = rlm_query_batched(['Measure it'] * ${children}, contexts=['x' * (i + 1) for i in range(${children})])\nFINAL(','.join(out))`,
        ),
      ]),
      sub: async (request: FakeChatRequest) => {
        await new Promise((resolve) => setTimeout(resolve, LATENCY_MS));
        return child(request);
      },
    },
  });
  const rlm = new RLM({
    model: "openai/root",
    subModel: "openai/sub",
    baseURL: server.baseURL,
    env: {},
    cacheDir,
    maxDepth: 2,
    maxConcurrentChildren: children,
  });
  const spans = new Map<string, { start: number; end: number }>();
  let alive = 0;
  let peakAlive = 0;
  let cellMs = NaN;
  const memory = sampleTreeRss(100);
  await rlm.completion({
    prompt: "q",
    context: "c",
    onEvent: (event: RlmEvent) => {
      if (event.depth === 1 && event.type === "run-start") {
        spans.set(event.runId, { start: performance.now(), end: NaN });
        peakAlive = Math.max(peakAlive, ++alive);
      }
      if (event.depth === 1 && event.type === "run-end") {
        const span = spans.get(event.runId);
        if (span) span.end = performance.now();
        alive--;
      }
      if (event.depth === 0 && event.type === "code-result") cellMs = event.result.durationMs;
    },
  });
  const peakRss = memory.stop();
  await server.close();
  baselineRss ??= memory.baseline;
  const durations = [...spans.values()].map((s) => s.end - s.start);
  const slowest = Math.max(...durations);
  const sum = durations.reduce((a, b) => a + b, 0);
  oneChildMs ??= cellMs;
  oneChildRss ??= peakRss;
  const perChildMb = children > 1 ? (peakRss - oneChildRss) / (children - 1) / 2 ** 20 : NaN;
  rows.push(
    `| ${children} | ${peakAlive} | ${(cellMs / 1000).toFixed(2)} s | ${(cellMs / oneChildMs).toFixed(2)} | ${(slowest / 1000).toFixed(2)} s | ${(sum / 1000).toFixed(2)} s | ${(peakRss / 2 ** 20).toFixed(0)} MB | ${Number.isNaN(perChildMb) ? "" : `${perChildMb.toFixed(1)} MB`} |`,
  );
  console.error(
    `  ${children} children: wall ${cellMs.toFixed(0)} ms, slowest child ${slowest.toFixed(0)} ms, sum ${sum.toFixed(0)} ms`,
  );
}

console.error(`node ${process.version}, ${cpus().length} cores`);
// One warm-up so the snapshot exists and the first figure is not a cold boot.
await fanOut(1);
rows.length = 0;
oneChildMs = undefined;
oneChildRss = undefined;
for (const n of [1, 8, 16, 64]) await fanOut(n);
console.log(`Each child: three turns, the model answering after ${LATENCY_MS} ms each.`);
console.log(`Process tree before the first run: ${((baselineRss ?? 0) / 2 ** 20).toFixed(0)} MB.\n`);
console.log(
  "| children | alive at once | fan-out wall time | wall / one child alone | slowest child | sum of children | peak RSS, process tree | added per child |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const row of rows) console.log(row);
