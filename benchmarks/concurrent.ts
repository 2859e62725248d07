/**
 * Concurrent top-level runs: N `completion()` calls of one RLM at once in one process, each with a REPL
 * (an interpreter) of its own, against a model that answers after 100 ms. Reports the wall time, the
 * time from each call to its first cell's result (how long it waited for its guest), and the peak
 * resident memory of the whole process tree (this process and its guest host process).
 *
 *   npm run bench:concurrent
 *   npm run bench:concurrent -- --share-interpreters 32   # runs as namespaces of shared interpreters
 */
import { cpus } from "node:os";
import { RLM } from "../src/rlm/rlm.ts";
import type { RlmEvent } from "../src/trace/events.ts";
import { conversation, startFakeOpenAIServer, type FakeChatRequest } from "../src/testing/index.ts";
import { sampleTreeRss } from "./memory.ts";

const LATENCY_MS = 100;
/** `--share-interpreters N`: the runs share booted interpreters, N per interpreter (one caller's runs). */
const shareArg = process.argv.indexOf("--share-interpreters");
const shareInterpreters = shareArg === -1 ? 0 : Number(process.argv[shareArg + 1]);
const repl = (code: string) => "```repl\n" + code + "\n```";
const cacheDir = process.env.RLM_CACHE_DIR ?? "node_modules/.cache/rlm-bench";
const rows: string[] = [];
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ??
  NaN;

async function concurrent(runs: number): Promise<void> {
  const root = conversation([
    repl("n = len(context)\nprint(n)"),
    repl("answer['content'] = str(n)\nanswer['ready'] = True"),
  ]);
  const server = await startFakeOpenAIServer({
    models: {
      root: async (request: FakeChatRequest) => {
        await new Promise((resolve) => setTimeout(resolve, LATENCY_MS));
        return root(request);
      },
    },
  });
  const rlm = new RLM({
    model: "openai/root",
    baseURL: server.baseURL,
    env: {},
    cacheDir,
    shareInterpreters,
  });
  const memory = sampleTreeRss(50);
  const started = performance.now();
  const firstCell: number[] = [];
  const answers = await Promise.all(
    Array.from({ length: runs }, async (_, i) => {
      const called = performance.now();
      let seen = false;
      const result = await rlm.completion({
        prompt: "How long is the context?",
        context: "x".repeat(1000 + i),
        onEvent: (event: RlmEvent) => {
          if (event.type === "code-result" && event.depth === 0 && !seen) {
            seen = true;
            firstCell.push(performance.now() - called);
          }
        },
      });
      return result.answer === String(1000 + i);
    }),
  );
  const wall = performance.now() - started;
  const peakRss = memory.stop();
  await server.close();
  const right = answers.filter(Boolean).length;
  rows.push(
    `| ${runs} | ${right}/${runs} | ${(wall / 1000).toFixed(2)} s | ${percentile(firstCell, 50).toFixed(0)} ms | ${Math.max(...firstCell).toFixed(0)} ms | ${(peakRss / 2 ** 20).toFixed(0)} MB | ${((peakRss - memory.baseline) / runs / 2 ** 20).toFixed(0)} MB |`,
  );
  console.error(
    `  ${runs} runs: wall ${wall.toFixed(0)} ms, ${right} right, peak ${(peakRss / 2 ** 20).toFixed(0)} MB`,
  );
}

console.error(`node ${process.version}, ${cpus().length} cores`);
await concurrent(1); // warm-up: the snapshot exists, the guest host process runs
rows.length = 0;
for (const n of [1, 8, 32]) await concurrent(n);
console.log(
  `Each run: two turns, the model answering after ${LATENCY_MS} ms each; shared interpreters: ${shareInterpreters || "off"}.\n`,
);
console.log(
  "| runs at once | right answers | wall time | first cell, p50 | first cell, slowest | peak RSS, process tree | added per run |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const row of rows) console.log(row);
