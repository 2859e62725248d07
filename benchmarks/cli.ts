/**
 * The CLI as users run it: `rlm ask` from the built package (`npm run build` first), a fresh process
 * per run, a 10 MB text file as context, against the fake OpenAI server on loopback whose root model
 * answers at once with a trivial ```repl block for N turns, then submits. Times are taken on the
 * server's side: when each request arrives and when each reply's last byte is sent.
 *
 * Three rows: process isolation with no standby guest host (`RLM_KEEP_WARM=0`, each run boots its own),
 * process isolation adopting the standby the previous run left (the CLI's default), and thread isolation.
 *
 *   npm run bench:cli                          # 5 runs per row, 10 turns each
 *   npm run bench:cli -- --reps 3 --turns 20   # other sizes
 *   npm run bench:cli -- --cpu-prof DIR        # also write V8 CPU profiles of each CLI process to DIR
 *   npm run bench:cli -- --provider anthropic  # the same runs through the Anthropic (or gemini) adapter
 *
 * Prints a markdown table on stdout, progress on stderr; docs/benchmarks.md records the figures.
 */
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { conversation, startFakeOpenAIServer, type FakeCall } from "../src/testing/index.ts";
import { processTreeRss } from "./memory.ts";

const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "5" },
    turns: { type: "string", default: "10" },
    "size-mb": { type: "string", default: "10" },
    mode: { type: "string", multiple: true },
    "cpu-prof": { type: "string" },
    provider: { type: "string", default: "openai" },
  },
});
/** The adapter under test: `openai` (no SDK), or `anthropic` / `gemini` (their SDKs, loaded lazily). */
const provider = values.provider;
if (provider !== "openai" && provider !== "anthropic" && provider !== "gemini")
  throw new Error(`--provider must be openai, anthropic or gemini, got ${provider}`);
const reps = Number(values.reps);
const turns = Number(values.turns);
const sizeMb = Number(values["size-mb"]);

interface Mode {
  name: "cold" | "standby" | "thread";
  isolation: "process" | "thread";
  /** `RLM_KEEP_WARM` for the run. */
  keepWarm: number;
}
const MODES: Mode[] = [
  { name: "cold", isolation: "process", keepWarm: 0 },
  { name: "standby", isolation: "process", keepWarm: 60 },
  { name: "thread", isolation: "thread", keepWarm: 0 },
];
const modes = values.mode ? MODES.filter((m) => values.mode?.includes(m.name)) : MODES;
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
/** Where the CLI leaves its standby guest hosts (see src/sandbox/guest/standby.ts). */
const standbyDir = join(cacheDir, "standby");
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

/** The standby guest hosts waiting in `standbyDir` (their command line names their folder there). */
function standbyPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const at = argv.indexOf("--standby");
      if (at !== -1 && argv[at + 1]?.startsWith(join(standbyDir, "host-"))) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

function stopStandbys(): void {
  for (const pid of standbyPids()) process.kill(pid, "SIGKILL");
}

/**
 * Waits (up to 10 s) for the standby the previous run left to listen and finish booting its guest (its
 * CPU time stops growing), as it has when a user types the next command.
 */
async function standbyReady(): Promise<number> {
  const end = Date.now() + 10_000;
  let last = { pid: 0, cpu: -1, since: 0 };
  for (;;) {
    if (Date.now() > end) throw new Error("the previous run left no booted standby guest host within 10 s");
    await sleep(20);
    const listening = existsSync(standbyDir) && readdirSync(standbyDir).some((f) => f.endsWith(".sock"));
    const [pid] = standbyPids();
    if (!listening || !pid) continue;
    const cpu = cpuTicks(pid);
    if (pid !== last.pid || cpu !== last.cpu) last = { pid, cpu, since: Date.now() };
    else if (Date.now() - last.since >= 200) return pid;
  }
}

/** User plus system CPU time of a process, in clock ticks (`/proc/PID/stat` fields 14 and 15). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * One `rlm ask` in a fresh process; `sampleMemory` samples its process tree's RSS every 10 ms, and the
 * standby host's it adopts (not in its tree: the previous run started it).
 */
async function runOnce(
  mode: Mode,
  {
    adopt = mode.keepWarm > 0,
    sampleMemory = false,
    profile,
  }: { adopt?: boolean; sampleMemory?: boolean; profile?: string },
): Promise<RunFigures> {
  const { isolation } = mode;
  const adopted = adopt ? await standbyReady() : undefined;
  const before = server.calls.length;
  const args = [
    ...(profile ? ["--cpu-prof", "--cpu-prof-dir", profileDir ?? ".", "--cpu-prof-name", profile] : []),
    bin,
    "ask",
    "How long is the context?",
    "--context",
    contextFile,
    "--model",
    `${provider}/${MODEL}`,
    "--base-url",
    provider === "openai" ? server.baseURL : server.url,
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
    env: {
      ...env,
      ANTHROPIC_API_KEY: "bench",
      GOOGLE_API_KEY: "bench",
      RLM_CACHE_DIR: cacheDir,
      RLM_LOG_DIR: logDir,
      RLM_KEEP_WARM: String(mode.keepWarm),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  let peak = 0;
  const sampler = sampleMemory
    ? setInterval(() => {
        if (child.pid)
          peak = Math.max(peak, processTreeRss(child.pid) + (adopted ? processTreeRss(adopted) : 0));
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
  stopStandbys();
  for (const mode of modes) {
    // The first run makes the snapshot if there is none, warms the file cache and, with a standby,
    // leaves the first one; not counted.
    console.error(`${mode.name}: warm-up run`);
    await runOnce(mode, { adopt: false });
    const runs: RunFigures[] = [];
    for (let rep = 1; rep <= reps; rep++) {
      const profile = profileDir ? `cli-${mode.name}-${rep}.cpuprofile` : undefined;
      const run = await runOnce(mode, profile ? { profile } : {});
      runs.push(run);
      console.error(
        `${mode.name} #${rep}: first request ${ms(run.firstRequestMs)}, first gap ${ms(run.gapsMs[0] ?? NaN)}, ` +
          `turn p50 ${ms(median(run.gapsMs.slice(1)))}, wall ${ms(run.wallMs)}`,
      );
    }
    // Memory in a run of its own: scanning /proc every 10 ms would stall the server's clock above.
    const memory = await runOnce(mode, { sampleMemory: true });
    stopStandbys();
    const peakMb = (memory.peakRssBytes ?? NaN) / 2 ** 20;
    console.error(`${mode.name}: peak RSS of the process tree ${peakMb.toFixed(0)} MB`);
    const later = runs.flatMap((run) => run.gapsMs.slice(1));
    rows.push([
      `${mode.isolation}${mode.isolation === "process" ? (mode.keepWarm > 0 ? ", standby adopted" : ", no standby") : ""}`,
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
  stopStandbys();
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
