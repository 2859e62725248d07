/**
 * Throughput of the job queue on this machine: the same 200 scripted jobs through a real redis-server
 * and 1, 2 and 4 `rlm worker` processes of the built CLI (`npm run build` first). Each job is a real
 * RLM: the root model (answering after --latency-ms) writes one cell that makes one sub-call (also
 * after --latency-ms) over the job's own context and submits an answer made from both, which is checked.
 * The workers are started and idle before the jobs are enqueued, so their start-up is not measured.
 *
 *   npm run build && npm run bench:queue
 *   npm run bench:queue -- --workers 1,2 --jobs 100 --concurrency 8 --repl python
 *
 * Prints a markdown table on stdout and progress on stderr; docs/benchmarks.md records the figures.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { RlmQueue, type JobStatus, type RlmJobResult } from "../src/queue/index.ts";
import { lastUserMessage, startFakeOpenAIServer } from "../src/testing/index.ts";
import { spawnRlm } from "../test/cli-process.ts";
import { startRedis } from "../test/redis-server.ts";
import { fakeModelFlags } from "../test/support.ts";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "200" },
    workers: { type: "string", default: "1,2,4" },
    concurrency: { type: "string", default: "4" },
    "latency-ms": { type: "string", default: "100" },
    repl: { type: "string", default: "javascript" },
  },
});
const jobs = Number(values.jobs);
const workerCounts = values.workers.split(",").map(Number);
const concurrency = Number(values.concurrency);
const latencyMs = Number(values["latency-ms"]);
const language = values.repl === "python" ? "python" : "javascript";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "dist", "cli", "bin.js");
if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build first.`);
const cacheDir = process.env.RLM_CACHE_DIR ?? join(root, "node_modules", ".cache", "rlm-bench");

const CELL = {
  javascript: [
    "const reply = llm_query(`double ${context}`);",
    "answer.content = `${context.length}:${reply}`;",
    "answer.ready = true;",
  ].join("\n"),
  python: [
    'reply = llm_query(f"double {context}")',
    'answer["content"] = f"{len(context)}:{reply}"',
    'answer["ready"] = True',
  ].join("\n"),
}[language];
const expected = (context: string) => `${context.length}:${context}${context}`;

const redis = await startRedis();
if (!redis) throw new Error("redis-server is not installed: apt-get install redis-server");
const fake = await startFakeOpenAIServer({
  latencyMs,
  models: {
    root: () => "```repl\n" + CELL + "\n```",
    sub: (request) =>
      lastUserMessage(request)
        .replace(/^double /, "")
        .repeat(2),
  },
});

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function startWorkers(queue: string, count: number): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const worker = await spawnRlm(
        [
          "worker",
          "--redis",
          (redis as { url: string }).url,
          "--queue",
          queue,
          "--name",
          `bench-${i + 1}`,
          "--concurrency",
          String(concurrency),
          ...fakeModelFlags(fake),
          "--repl",
          language,
          "--isolation",
          "thread",
          "--no-log",
          "--quiet",
        ],
        {
          ready: /taking jobs/,
          env: { OPENAI_API_KEY: "bench", RLM_CACHE_DIR: cacheDir },
          timeoutMs: 60_000,
        },
      );
      return worker.child;
    }),
  );
}

interface Row {
  workers: number;
  seconds: number;
  right: number;
  reported: number;
  p50: number;
  p95: number;
}

const rows: Row[] = [];
for (const count of workerCounts) {
  const name = `bench-queue-${count}-${Date.now()}`;
  const children = await startWorkers(name, count);
  // Let the workers' spare guests finish booting, so the jobs find them ready.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const queue = await RlmQueue.connect({ redis: redis.url, name });
  const contexts = Array.from({ length: jobs }, (_, i) => `job-${i}-${"x".repeat(i % 23)}`);
  const started = performance.now();
  const ids = await Promise.all(contexts.map((context) => queue.enqueue({ prompt: "Measure it.", context })));
  const byId = new Map(ids.map((id, i) => [id, contexts[i] as string]));
  const seen = new Map<string, number>();
  const latencies: number[] = [];
  let right = 0;
  await queue.collect<RlmJobResult>(ids, (status: JobStatus<RlmJobResult>) => {
    seen.set(status.id, (seen.get(status.id) ?? 0) + 1);
    if (status.result?.answer === expected(byId.get(status.id) ?? "")) right += 1;
    latencies.push((status.finishedAt ?? Date.now()) - status.enqueuedAt);
    if (seen.size % 50 === 0) process.stderr.write(`[${count} worker(s)] ${seen.size}/${jobs}\n`);
  });
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  rows.push({
    workers: count,
    seconds,
    right,
    reported: [...seen.values()].filter((n) => n === 1).length,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
  });
  await queue.close();
  await Promise.all(
    children.map((child) => new Promise((resolve) => (child.once("exit", resolve), child.kill("SIGTERM")))),
  );
}
await fake.close();
await redis.stop();

console.log(
  `${jobs} jobs, ${language} REPL on threads, ${concurrency} jobs at once per worker, model latency ${latencyMs} ms per call (root + one sub-call per job); ${cpus().length} CPU(s)\n`,
);
console.log(
  "| workers | jobs/s | wall time | right answers | reported once | job latency p50 | job latency p95 |",
);
console.log(
  "| ------- | ------ | --------- | ------------- | ------------- | --------------- | --------------- |",
);
for (const r of rows)
  console.log(
    `| ${r.workers} | ${(jobs / r.seconds).toFixed(1)} | ${r.seconds.toFixed(1)} s | ${r.right}/${jobs} | ${r.reported}/${jobs} | ${Math.round(r.p50)} ms | ${Math.round(r.p95)} ms |`,
  );
