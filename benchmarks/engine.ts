/**
 * Engine benchmarks: harness overhead per turn, time to the first root request, batched sub-call
 * throughput, and a 100 MB context reaching the REPL (guest start-up is in guests.ts). Everything runs against the fake
 * OpenAI server on loopback, through the real adapter and the real Pyodide guest.
 *
 *   npm run bench:engine            # all measurements
 *   npm run bench:engine -- --quick # smaller sizes, for a smoke run
 *
 * Prints a markdown table; docs/benchmarks.md records the figures with the machine they came from.
 */
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import type { Model, ModelRequest, CallOptions, ModelResponse } from "../src/models/model.ts";
import { resolveModel } from "../src/models/resolve-model.ts";
import { RLM } from "../src/rlm/rlm.ts";
import { PythonRuntime } from "../src/sandbox/python/python-runtime.ts";
import { GuestSandbox } from "../src/sandbox/guest/guest-sandbox.ts";
import { conversation, startFakeOpenAIServer } from "../src/testing/index.ts";
import { sampleTreeRss } from "./memory.ts";

const { values } = parseArgs({ options: { quick: { type: "boolean" } } });
const quick = values.quick === true;
const repl = (code: string) => "```repl\n" + code + "\n```";
const rows: [string, string, string][] = [];
const report = (name: string, value: string, target: string) => {
  rows.push([name, value, target]);
  console.error(`  ${name}: ${value}`);
};

/**
 * `repeat()` builds a rope, which V8 flattens on first scan (~20 ms per 10 MB); a user's context, read
 * from a file, arrives flat. Flattened here so that cost is not charged to the engine.
 */
function flat(text: string): string {
  /x/.test(text);
  return text;
}

/** Wraps a model to time each call as the loop sees it. */
class TimedModel implements Model {
  readonly name: string;
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  readonly #inner: Model;
  constructor(inner: Model) {
    this.#inner = inner;
    this.name = inner.name;
  }
  async complete(request: ModelRequest, options?: CallOptions): Promise<ModelResponse> {
    this.starts.push(performance.now());
    try {
      return await this.#inner.complete(request, options);
    } finally {
      this.ends.push(performance.now());
    }
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 0)} ms`;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

const cacheDir = process.env.RLM_CACHE_DIR ?? "node_modules/.cache/rlm-bench";

async function withScript(
  name: string,
  root: Parameters<typeof conversation>[0],
  sub: (() => string) | undefined,
  subLatencyMs: number,
): Promise<{ close: () => Promise<void>; baseURL: string }> {
  const s = await startFakeOpenAIServer({
    models: {
      [`${name}-root`]: conversation(root),
      [`${name}-sub`]: async () => {
        if (subLatencyMs) await new Promise((r) => setTimeout(r, subLatencyMs));
        return sub ? sub() : "sub";
      },
    },
  });
  return s;
}

async function harnessOverhead(): Promise<void> {
  console.error("harness overhead per turn (10 MB context)");
  const turns = quick ? 10 : 50;
  const script = [
    ...Array.from({ length: turns }, (_, i) => repl(`n${i} = len(context)\nprint(n${i})`)),
    repl("answer['content'] = 'done'\nanswer['ready'] = True"),
  ];
  const s = await withScript("overhead", script, undefined, 0);
  const inner = resolveModel("openai/overhead-root", { baseURL: s.baseURL, env: {} });
  const timed = new TimedModel(inner);
  const rlm = new RLM({
    model: timed,
    subModel: `openai/overhead-sub`,
    baseURL: s.baseURL,
    env: {},
    cacheDir,
    maxTurns: turns + 5,
  });
  const context = flat("0123456789abcdef\n".repeat((10 * 2 ** 20) / 17));
  const called = performance.now();
  const result = await rlm.completion({ prompt: "q", context });
  if (!result.submitted) throw new Error("the overhead run did not finish");
  // Between a reply arriving and the next request leaving: parsing, running the cell, formatting.
  const gaps = timed.starts.slice(2).map((start, i) => start - (timed.ends[i + 1] ?? start));
  report("time to first root request after completion()", ms((timed.starts[0] ?? NaN) - called), "≤ 50 ms");
  report("harness overhead per turn, p50", ms(percentile(gaps, 50)), "≤ 5 ms");
  report("harness overhead per turn, p95", ms(percentile(gaps, 95)), "");
  await s.close();
}

async function firstRequestWarm(): Promise<void> {
  console.error("time to first root request, warm process, 10 MB context");
  const s = await withScript("first", [repl("FINAL('x')")], undefined, 0);
  const inner = resolveModel("openai/first-root", { baseURL: s.baseURL, env: {} });
  const samples: number[] = [];
  const context = flat("x".repeat(10 * 2 ** 20));
  for (let i = 0; i < (quick ? 3 : 10); i++) {
    const timed = new TimedModel(inner);
    const rlm = new RLM({
      model: timed,
      subModel: "openai/first-sub",
      baseURL: s.baseURL,
      env: {},
      cacheDir,
    });
    const called = performance.now();
    await rlm.completion({ prompt: "q", context });
    samples.push((timed.starts[0] ?? NaN) - called);
  }
  report("time to first root request, warm, p50", ms(percentile(samples, 50)), "≤ 50 ms");
  await s.close();
}

async function batchedSubcalls(): Promise<void> {
  console.error("100 batched sub-calls at 200 ms latency");
  const s = await withScript(
    "batch",
    [repl("r = llm_query_batched([f'item {i}' for i in range(100)])\nprint(len(r))"), repl("FINAL('ok')")],
    () => "reply",
    200,
  );
  let cellMs = NaN;
  const rlm = new RLM({
    model: "openai/batch-root",
    subModel: "openai/batch-sub",
    baseURL: s.baseURL,
    env: {},
    cacheDir,
  });
  await rlm.completion({
    prompt: "q",
    context: "c",
    onEvent: (event) => {
      if (event.type === "code-result" && event.turn === 1) cellMs = event.result.durationMs;
    },
  });
  report(
    "100 batched sub-calls at 200 ms each (concurrency 16)",
    `${(cellMs / 1000).toFixed(2)} s`,
    "≤ 2.5 s (ideal 1.4 s)",
  );
  await s.close();
}

async function bigContext(isolation: "process" | "thread"): Promise<void> {
  const sizeMb = quick ? 20 : 100;
  console.error(`${sizeMb} MB context into the REPL (${isolation})`);
  const runtime = new PythonRuntime({ cacheDir, isolation });
  const newSandbox = () =>
    new GuestSandbox({
      language: "python",
      acquire: (signal) => runtime.acquire(signal),
      encodeWhileBooting: isolation === "thread",
    });
  // Boot once so the snapshot exists, as it does for every run after a machine's first.
  const warm = newSandbox();
  await warm.start();
  await warm.close();
  const context = "The quick brown fox jumps over the lazy dog. 0123456789\n".repeat(
    Math.ceil((sizeMb * 2 ** 20) / 56),
  );
  // repeat() builds a rope; flatten it now, since a user's context (read from a file) arrives flat.
  flat(context);
  const check = (stdout: string) => {
    if (Number(stdout.trim()) !== context.length) throw new Error(`context arrived with length ${stdout}`);
  };
  const cell = {
    timeoutMs: 60_000,
    maxOutputChars: 100,
    onHostCall: async () => ({ ok: true as const, value: null }),
  };

  // Time: from the call to a cell that reads the context, the guest's boot included.
  const timed = newSandbox();
  const started = performance.now();
  await timed.load(context);
  check((await timed.execute("print(len(context))", cell)).stdout);
  const usable = performance.now() - started;
  await timed.close();

  // Memory: what loading adds to a booted guest (its own idle memory is in bench:guests).
  const measured = newSandbox();
  await measured.start();
  const memory = sampleTreeRss();
  const baseline = memory.baseline;
  await measured.load(context);
  check((await measured.execute("print(len(context))", cell)).stdout);
  const peak = memory.stop();
  await measured.close();
  await runtime.close();

  report(
    `${sizeMb} MB context usable in the REPL, ${isolation} (guest boot + load + first cell)`,
    ms(usable),
    "≤ 1.5 s",
  );
  report(
    `peak memory growth while loading ${sizeMb} MB, ${isolation}`,
    `${mb(peak - baseline)} (${((peak - baseline) / context.length).toFixed(1)}× the context)`,
    "≤ 4×",
  );
}

console.error(
  `node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${mb(totalmem())} memory`,
);
await harnessOverhead();
await firstRequestWarm();
await batchedSubcalls();
await bigContext("process");
await bigContext("thread");

console.log("| measurement | result | target |");
console.log("| --- | --- | --- |");
for (const [name, value, target] of rows) console.log(`| ${name} | ${value} | ${target} |`);
