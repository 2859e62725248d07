/**
 * Fan-out benchmarks: a root RLM (maxDepth 2) hands N sub-tasks to child RLMs with
 * `rlm_query_batched`. Each child has its own Python guest and takes two turns against a model that
 * answers after 500 ms. Reports how many children ran at once, the fan-out's wall time against its
 * slowest child and against the sum of all children, and the memory each live child costs.
 *
 *   npm run bench:fanout
 */
import { cpus } from "node:os";
import { RLM } from "../src/rlm/rlm.ts";
import type { RlmEvent } from "../src/trace/events.ts";
import { conversation, startFakeOpenAIServer, type FakeChatRequest } from "../src/testing/index.ts";
import { sampleTreeRss } from "./memory.ts";

const LATENCY_MS = 500;
const repl = (code: string) => "```repl\n" + code + "\n```";
const cacheDir = process.env.RLM_CACHE_DIR ?? "node_modules/.cache/rlm-bench";
const rows: string[] = [];

async function fanOut(children: number): Promise<void> {
  const child = conversation([
    repl("n = len(context)\nprint(n)"),
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
  const durations = [...spans.values()].map((s) => s.end - s.start);
  const slowest = Math.max(...durations);
  const sum = durations.reduce((a, b) => a + b, 0);
  const perChildMb = (peakRss - memory.baseline) / children / 2 ** 20;
  rows.push(
    `| ${children} | ${peakAlive} | ${(cellMs / 1000).toFixed(2)} s | ${(slowest / 1000).toFixed(2)} s | ${(sum / 1000).toFixed(2)} s | ${(cellMs / slowest).toFixed(2)} | ${perChildMb.toFixed(0)} MB |`,
  );
  console.error(
    `  ${children} children: wall ${cellMs.toFixed(0)} ms, slowest child ${slowest.toFixed(0)} ms, sum ${sum.toFixed(0)} ms`,
  );
}

console.error(`node ${process.version}, ${cpus().length} cores`);
// One warm-up so the snapshot exists and the first figure is not a cold boot.
await fanOut(1);
rows.length = 0;
for (const n of [1, 4, 8, 16]) await fanOut(n);
console.log(`Each child: two turns, the model answering after ${LATENCY_MS} ms each.\n`);
console.log(
  "| children | alive at once | fan-out wall time | slowest child | sum of children | wall / slowest | memory per live child |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const row of rows) console.log(row);
