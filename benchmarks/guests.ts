/**
 * Guest benchmarks, for both REPL languages and both isolation modes: start-up (cold, warm, and handed
 * over from a spare), per-cell overhead, and memory per guest.
 *
 *   npm run bench:guests            # from the TypeScript sources, as tests run
 *   npm run bench:guests -- --dist  # from the built package (npm run build first), as users run
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Guest } from "../src/sandbox/guest/guest.ts";
import type * as SandboxModule from "../src/sandbox/guest/guest-sandbox.ts";
import type { GuestRuntime, GuestRuntimeOptions } from "../src/sandbox/guest/guest-runtime.ts";
import type * as JavascriptModule from "../src/sandbox/javascript/javascript-runtime.ts";
import type * as PythonModule from "../src/sandbox/python/python-runtime.ts";
import { treeRss } from "./memory.ts";

const { values } = parseArgs({ options: { dist: { type: "boolean" } } });
const root = values.dist ? "../dist" : "../src";
const ext = values.dist ? ".js" : ".ts";
const load = <T>(path: string) =>
  import(new URL(`${root}/${path}${ext}`, import.meta.url).href) as Promise<T>;
const { GuestSandbox } = await load<typeof SandboxModule>("sandbox/guest/guest-sandbox");
const { JavascriptRuntime } = await load<typeof JavascriptModule>("sandbox/javascript/javascript-runtime");
const { PythonRuntime } = await load<typeof PythonModule>("sandbox/python/python-runtime");

const CELLS = 200;
const GUESTS_FOR_MEMORY = 4;
const rows: string[] = [];
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(0));
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.floor((p / 100) * values.length)] ?? NaN;

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await work();
  return [value, performance.now() - started];
}

async function measure(language: "python" | "javascript", isolation: "process" | "thread"): Promise<void> {
  const cacheDir = mkdtempSync(join(tmpdir(), "rlm-bench-guests-"));
  const make = (options: GuestRuntimeOptions): GuestRuntime =>
    language === "python" ? new PythonRuntime(options) : new JavascriptRuntime(options);
  try {
    // Cold: a fresh runtime and an empty cache. Warm: the runtime's next guest.
    const runtime = make({ cacheDir, isolation });
    const [first, cold] = await timed(() => runtime.acquire());
    await first.terminate();
    const warm: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [guest, time] = await timed(() => runtime.acquire());
      warm.push(time);
      await guest.terminate();
    }
    // A spare booted ahead of need.
    runtime.prewarm(1);
    await runtime.warm();
    const [spare, handOver] = await timed(() => runtime.acquire());
    await spare.terminate();
    await runtime.close();

    // Per-cell overhead: a trivial cell, through the sandbox as the loop uses it.
    const cellRuntime = make({ cacheDir, isolation });
    const sandbox = new GuestSandbox({ language, acquire: () => cellRuntime.acquire() });
    await sandbox.load("context");
    const code = language === "python" ? "x = 1" : "x = 1";
    const cells: number[] = [];
    for (let i = 0; i < CELLS; i++) {
      const [, time] = await timed(() =>
        sandbox.execute(code, {
          timeoutMs: 10_000,
          maxOutputChars: 1000,
          onHostCall: async () => ({ ok: true, value: null }),
        }),
      );
      cells.push(time);
    }
    await sandbox.close();

    // Memory: the growth of this process and its guest host process with guests held at once (the
    // host process itself is already running: the cell benchmark used it).
    const before = treeRss() / 2 ** 20;
    const guests: Guest[] = [];
    for (let i = 0; i < GUESTS_FOR_MEMORY; i++) guests.push(await cellRuntime.acquire());
    const perGuest = (treeRss() / 2 ** 20 - before) / guests.length;
    await Promise.all(guests.map((g) => g.terminate()));
    await cellRuntime.close();

    rows.push(
      `| ${language} | ${isolation} | ${ms(cold)} ms | ${ms(percentile(warm, 50))} ms | ${ms(handOver)} ms | ${ms(percentile(cells, 50))} ms | ${ms(percentile(cells, 95))} ms | ${perGuest.toFixed(0)} MB |`,
    );
    console.error(
      `  ${language} ${isolation}: cold ${ms(cold)} ms, warm ${ms(percentile(warm, 50))} ms, cell p50 ${ms(percentile(cells, 50))} ms, ${perGuest.toFixed(0)} MB`,
    );
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

console.error(`node ${process.version}, ${cpus().length} cores, code from ${values.dist ? "dist/" : "src/"}`);
for (const language of ["python", "javascript"] as const) {
  for (const isolation of ["process", "thread"] as const) await measure(language, isolation);
}
console.log(
  "| REPL | isolation | start-up, cold | start-up, warm (p50) | from a spare | cell overhead p50 | cell overhead p95 | memory per guest |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const row of rows) console.log(row);
