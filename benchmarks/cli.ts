/**
 * The CLI as users run it: `rlm ask` from the built package (`npm run build` first), a fresh process
 * per run, a 10 MB text file as context, against the fake OpenAI server on loopback whose root model
 * answers at once with a trivial ```repl block for N turns, then submits. Times are taken on the
 * server's side: when each request arrives and when each reply's last byte is sent.
 *
 *   npm run bench:cli                          # 5 runs per isolation mode, 10 turns each
 *   npm run bench:cli -- --reps 3 --turns 20   # other sizes
 *   npm run bench:cli -- --cpu-prof DIR        # also write V8 CPU profiles of each CLI process to DIR
 *
 * Prints a markdown table on stdout, progress on stderr; docs/benchmarks.md records the figures.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { conversation, startFakeOpenAIServer, type FakeCall } from "../src/testing/index.ts";
import { processTreeRss } from "./memory.ts";

const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "5" },
    turns: { type: "string", default: "10" },
    "size-mb": { type: "string", default: "10" },
    isolation: { type: "string", multiple: true },
    "cpu-prof": { type: "string" },
  },
});
const reps = Number(values.reps);
const turns = Number(values.turns);
const sizeMb = Number(values["size-mb"]);
const isolations = (values.isolation ?? ["process", "thread"]) as ("process" | "thread")[];
const profileDir = values["cpu-prof"] ? resolve(values["cpu-prof"]) : undefined;

const bin = fileURLToPath(new URL("../dist/cli/bin.js", import.meta.url));
if (!existsSync(bin)) {
  console.error(`bench:cli runs the built CLI, and ${bin} is missing: run npm run build first.`);
  process.exit(2);
}

const MODEL = "bench-root";
const repl = (code: string) => "```repl\n" + code + "\n```";
const script = [
  ...Array.from({ length: turns }, () => repl("x = len(context)\nprint(x)")),
  repl("answer['content'] = str(x)\nanswer['ready'] = True"),
];

const work = mkdtempSync(join(tmpdir(), "rlm-bench-cli-"));
const contextFile = join(work, "context.txt");
writeFileSync(contextFile, contextText(sizeMb * 2 ** 20));
const logDir = join(work, "runs");
const cacheDir = resolve(process.env.RLM_CACHE_DIR ?? "node_modules/.cache/rlm-bench");
if (profileDir) mkdirSync(profileDir, { recursive: true });

const server = await startFakeOpenAIServer({ models: { [MODEL]: conversation(script) } });

interface RunFigures {
  /** Spawn → first request arrived. */
  firstRequestMs: number;
  /** Reply k sent → request k+1 arrived, for every turn. */
  gapsMs: number[];
  /** Last reply sent → process exited. */
  exitMs: number;
  wallMs: number;
  peakRssBytes: number | undefined;
}

/** One `rlm ask` in a fresh process; `sampleMemory` samples its process tree's RSS every 10 ms. */
async function runOnce(
  isolation: "process" | "thread",
  sampleMemory: boolean,
  profile: string | undefined,
): Promise<RunFigures> {
  const before = server.calls.length;
  const args = [
    ...(profile ? ["--cpu-prof", "--cpu-prof-dir", profileDir ?? ".", "--cpu-prof-name", profile] : []),
    bin,
    "ask",
    "How long is the context?",
    "--context",
    contextFile,
    "--model",
    `openai/${MODEL}`,
    "--base-url",
    server.baseURL,
    "--max-turns",
    String(turns + 5),
    "--quiet",
    ...(isolation === "process" ? [] : ["--isolation", isolation]),
  ];
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("RLM_") && name !== "NODE_OPTIONS"),
  );
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    env: { ...env, RLM_CACHE_DIR: cacheDir, RLM_LOG_DIR: logDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  let peak = 0;
  const sampler = sampleMemory
    ? setInterval(() => {
        if (child.pid) peak = Math.max(peak, processTreeRss(child.pid));
      }, 10)
    : undefined;
  const code = await new Promise<number | null>((done) => child.on("exit", (exitCode) => done(exitCode)));
  const ended = performance.now();
  clearInterval(sampler);
  const calls: FakeCall[] = server.calls.slice(before);
  if (code !== 0 || stdout.trim() !== String(sizeMb * 2 ** 20) || calls.length !== turns + 1) {
    throw new Error(
      `rlm ask exited with ${code} after ${calls.length} of ${turns + 1} requests; stdout ${JSON.stringify(stdout)}, stderr:\n${stderr}`,
    );
  }
  const gapsMs = calls.slice(1).map((call, i) => call.request.arrivedAt - (calls[i]?.sentAt ?? NaN));
  return {
    firstRequestMs: (calls[0]?.request.arrivedAt ?? NaN) - started,
    gapsMs,
    exitMs: ended - (calls.at(-1)?.sentAt ?? NaN),
    wallMs: ended - started,
    peakRssBytes: sampleMemory ? peak : undefined,
  };
}

const median = (values: number[]) => percentile(values, 50);
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)} ms`;

console.error(
  `node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(0)} GB; ` +
    `${sizeMb} MB context, ${turns} turns + submit, ${reps} runs per row`,
);
const rows: string[][] = [];
try {
  for (const isolation of isolations) {
    // The first run makes the snapshot if there is none and warms the file cache; not counted.
    console.error(`${isolation}: warm-up run`);
    await runOnce(isolation, false, undefined);
    const runs: RunFigures[] = [];
    for (let rep = 1; rep <= reps; rep++) {
      const run = await runOnce(
        isolation,
        false,
        profileDir ? `cli-${isolation}-${rep}.cpuprofile` : undefined,
      );
      runs.push(run);
      console.error(
        `${isolation} #${rep}: first request ${ms(run.firstRequestMs)}, first gap ${ms(run.gapsMs[0] ?? NaN)}, ` +
          `turn p50 ${ms(median(run.gapsMs.slice(1)))}, wall ${ms(run.wallMs)}`,
      );
    }
    // Memory in a run of its own: scanning /proc every 10 ms would stall the server's clock above.
    const memory = await runOnce(isolation, true, undefined);
    const peakMb = (memory.peakRssBytes ?? NaN) / 2 ** 20;
    console.error(`${isolation}: peak RSS of the process tree ${peakMb.toFixed(0)} MB`);
    const later = runs.flatMap((run) => run.gapsMs.slice(1));
    rows.push([
      isolation,
      ms(median(runs.map((run) => run.firstRequestMs))),
      ms(percentile(later, 50)),
      ms(percentile(later, 95)),
      ms(median(runs.map((run) => run.gapsMs[0] ?? NaN))),
      ms(median(runs.map((run) => run.exitMs))),
      ms(median(runs.map((run) => run.wallMs))),
      `${peakMb.toFixed(0)} MB`,
    ]);
  }
} finally {
  await server.close();
  rmSync(work, { recursive: true, force: true });
}

console.log(
  "| isolation | spawn → first request | turn p50 | turn p95 | first reply → second request | last reply → exit | wall | peak RSS (tree) |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
if (profileDir) console.error(`CPU profiles in ${profileDir}`);

/** About `bytes` of log-like ASCII lines, the same every run. */
function contextText(bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `2026-12-01T10:${String(i % 60).padStart(2, "0")}:00Z INFO request ${i} served in ${i % 997} ms\n`;
    lines.push(line);
    size += line.length;
  }
  return lines.join("").slice(0, bytes);
}
