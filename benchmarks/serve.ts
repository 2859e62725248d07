/**
 * `rlm serve` under load, as users run it: the built CLI as its own process (`npm run build` first),
 * N concurrent clients each sending one chat completion over a context of its own, against the fake
 * OpenAI server in this process. Each run's first cell calls `llm_query_batched` with 8 prompts that the
 * sub-model answers after 200 ms, and submits their joined replies; the root model answers at once. So
 * the model time of a request is 200 ms, and everything above it is the server's added latency.
 *
 * Every answer is checked against its own request's context: a lost, failed or mixed-up answer counts.
 * Peak RSS is of the server's process tree (the CLI and its guest host), sampled every 20 ms.
 *
 *   npm run bench:serve                                   # 64 clients, each configuration below
 *   npm run bench:serve -- --clients 16 --mode python-thread
 *   npm run bench:serve -- --mode javascript-thread --spare-guests 64   # a burst that finds guests booted
 *   npm run bench:serve -- --share-interpreters 16   # up to 16 runs per booted interpreter
 *   npm run bench:serve -- --cpu-prof DIR            # also write a V8 CPU profile of the server to DIR
 *
 * Prints a markdown table on stdout, progress on stderr; docs/benchmarks.md records the figures.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { lastUserMessage, startFakeOpenAIServer, type FakeChatRequest } from "../src/testing/index.ts";
import { spawnRlm } from "../test/cli-process.ts";
import { fakeModelFlags } from "../test/support.ts";
import { processTreeCpuTicks, processTreeRss } from "./memory.ts";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "64" },
    batch: { type: "string", default: "8" },
    "sub-latency-ms": { type: "string", default: "200" },
    mode: { type: "string", multiple: true },
    "spare-guests": { type: "string" },
    "share-interpreters": { type: "string" },
    "cpu-prof": { type: "string" },
  },
});
const profileDir = values["cpu-prof"];
const spareGuests = values["spare-guests"];
const shareInterpreters = values["share-interpreters"];
const clients = Number(values.clients);
const batch = Number(values.batch);
const subLatencyMs = Number(values["sub-latency-ms"]);

interface Mode {
  name: string;
  repl: "python" | "javascript";
  isolation: "process" | "thread";
}
const MODES: Mode[] = [
  { name: "python-process", repl: "python", isolation: "process" },
  { name: "python-thread", repl: "python", isolation: "thread" },
  { name: "javascript-thread", repl: "javascript", isolation: "thread" },
];
const modes = values.mode ? MODES.filter((m) => values.mode?.includes(m.name)) : MODES;

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "dist", "cli", "bin.js");
if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build first.`);
const cacheDir = process.env.RLM_CACHE_DIR ?? join(root, "node_modules", ".cache", "rlm-bench");

const CODE: Record<Mode["repl"], string> = {
  python: [
    `replies = llm_query_batched([f"{context} part {i}" for i in range(${batch})])`,
    `answer["content"] = "|".join(replies)`,
    `answer["ready"] = True`,
  ].join("\n"),
  javascript: [
    `const replies = llm_query_batched(Array.from({ length: ${batch} }, (_, i) => \`\${context} part \${i}\`));`,
    `answer.content = replies.join("|");`,
    `answer.ready = true;`,
  ].join("\n"),
};

const expected = (context: string) =>
  Array.from({ length: batch }, (_, i) => `echo ${context} part ${i}`).join("|");

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function startServe(mode: Mode, baseURL: string): Promise<{ child: ChildProcess; url: string }> {
  const { child, ready } = await spawnRlm(
    [
      "serve",
      "--port",
      "0",
      ...fakeModelFlags({ baseURL }),
      "--repl",
      mode.repl,
      "--isolation",
      mode.isolation,
      "--max-runs",
      String(clients),
      ...(spareGuests ? ["--spare-guests", spareGuests] : []),
      ...(shareInterpreters ? ["--share-interpreters", shareInterpreters] : []),
      "--no-log",
      "--quiet",
    ],
    {
      ready: /listening on (\S+)\n/,
      env: { OPENAI_API_KEY: "bench", RLM_CACHE_DIR: cacheDir },
      timeoutMs: 30_000,
      nodeArgs: profileDir ? ["--cpu-prof", `--cpu-prof-dir=${resolve(profileDir)}`] : [],
    },
  );
  return { child, url: ready[1] ?? "" };
}

/** Waits until the server's process tree has used no CPU for half a second: its spares are booted. */
async function waitForIdle(pid: number): Promise<void> {
  const cpu = () => processTreeCpuTicks(pid);
  let last = cpu();
  for (let quiet = 0; quiet < 5;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = cpu();
    quiet = now - last <= 1 ? quiet + 1 : 0;
    last = now;
  }
}

async function measure(mode: Mode): Promise<string> {
  const fake = await startFakeOpenAIServer({
    models: {
      root: () => "```repl\n" + CODE[mode.repl] + "\n```",
      sub: async (request: FakeChatRequest) => {
        await new Promise((resolve) => setTimeout(resolve, subLatencyMs));
        return `echo ${lastUserMessage(request)}`;
      },
    },
  });
  const { child, url } = await startServe(mode, fake.baseURL);
  // Let the server's spare guests finish booting, as they would between bursts.
  await waitForIdle(child.pid ?? 0);
  const pid = child.pid ?? 0;
  let peak = processTreeRss(pid);
  const sampler = setInterval(() => (peak = Math.max(peak, processTreeRss(pid))), 20);
  const started = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const context = `request-${i}-${Math.random().toString(36).slice(2, 8)}`;
      const sent = performance.now();
      try {
        const response = await fetch(`${url}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            model: "rlm",
            messages: [{ role: "user", content: "Join the parts." }],
            context,
          }),
        });
        const body = (await response.json()) as { choices?: { message: { content: string } }[] };
        const ms = performance.now() - sent;
        const ok = response.status === 200 && body.choices?.[0]?.message.content === expected(context);
        return { ms, ok, status: response.status };
      } catch {
        return { ms: performance.now() - sent, ok: false, status: 0 };
      }
    }),
  );
  const wall = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, processTreeRss(pid));
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
  await fake.close();
  const added = outcomes.map((o) => o.ms - subLatencyMs).sort((a, b) => a - b);
  const wrong = outcomes.filter((o) => !o.ok);
  const statuses = [...new Set(wrong.map((o) => o.status))].join(", ");
  process.stderr.write(
    `${mode.name}: ${wall.toFixed(0)} ms, ${wrong.length} wrong${statuses ? ` (status ${statuses})` : ""}\n`,
  );
  return `| ${mode.name} | ${spareGuests ?? "2 (default)"} | ${shareInterpreters ?? "off"} | ${clients} | ${(clients / (wall / 1000)).toFixed(1)} | ${percentile(added, 50).toFixed(0)} ms | ${percentile(added, 99).toFixed(0)} ms | ${(peak / 1024 ** 2).toFixed(0)} MB | ${wrong.length} |`;
}

process.stderr.write(
  `${clients} concurrent clients, ${batch} sub-calls of ${subLatencyMs} ms each; ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(0)} GB\n`,
);
const rows: string[] = [];
for (const mode of modes) rows.push(await measure(mode));
process.stdout.write(
  [
    "| REPL, isolation | spare guests | shared interpreters | clients | requests/s | added latency p50 | added latency p99 | peak RSS (server tree) | wrong or lost |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n") + "\n",
);
