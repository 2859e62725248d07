/**
 * The REPL's `grep` over about 1 GB, against Python's `re` on the same files (issue 15).
 *
 *   npm run bench:grep              # 1,024 MB of synthetic logs in 16 files
 *   npm run bench:grep -- --mb 256  # a smaller run
 *
 * The logs are written to a temporary folder (streamed, never held whole) and deleted at the end. The
 * host side is the tool's own code path for a context that large: a `LazyContext` of the files (chunks
 * of whole lines streamed from disk) scanned by `RunRetrieval.grep` with `max_matches=100`, counting
 * every matching line. Python reads the same files line by line (`for line in f`) and counts the lines
 * `re.search` matches. Both counts must agree. Figures are MB/s of file bytes, the best of 3 runs.
 */
import { execFileSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { parseArgs } from "node:util";
import { LazyContext } from "../src/context/lazy-context.ts";
import { runRetrieval } from "../src/rlm/retrieval/retrieval-tools.ts";

const { values } = parseArgs({ options: { mb: { type: "string", default: "1024" } } });
const totalMb = Number(values.mb);
const FILES = 16;
const RUNS = 3;

const PATTERNS: { name: string; pattern: string }[] = [
  { name: "literal", pattern: "gateway refused" },
  { name: "alternation", pattern: "timeout|refused|denied" },
  { name: "class", pattern: "user=[a-z]+[0-9]{3}\\b" },
];

/** A deterministic log line generator (xorshift), about 90 bytes a line. */
function* logLines(seed: number): Generator<string> {
  let x = seed || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const levels = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];
  const services = ["auth", "cart", "payments", "search", "gateway", "mailer"];
  const words = ["request ok", "cache hit", "retrying", "connection timeout", "access denied", "slow query"];
  const names = ["alice", "bob", "carol", "dave", "erin", "frank"];
  for (let i = 0; ; i++) {
    const level = levels[Math.floor(next() * levels.length)];
    const service = services[Math.floor(next() * services.length)];
    const rare = next() < 0.0005 ? " payment gateway refused card" : "";
    const what = words[Math.floor(next() * words.length)];
    const user = `${names[Math.floor(next() * names.length)]}${String(Math.floor(next() * 1000)).padStart(3, "0")}`;
    yield `2026-03-${String((i % 28) + 1).padStart(2, "0")}T12:${String(i % 60).padStart(2, "0")}:00Z ${level} ${service} user=${user} ${what}${rare} id=${i}\n`;
  }
}

async function writeLogs(dir: string): Promise<{ key: string; path: string; bytes: number }[]> {
  const perFile = Math.round((totalMb * 2 ** 20) / FILES);
  const files = [];
  for (let f = 0; f < FILES; f++) {
    const path = join(dir, `app-${String(f).padStart(2, "0")}.log`);
    const out = createWriteStream(path);
    let written = 0;
    let batch = "";
    for (const line of logLines(f + 1)) {
      batch += line;
      if (batch.length >= 1 << 20) {
        written += batch.length;
        if (!out.write(batch)) await once(out, "drain");
        batch = "";
        if (written >= perFile) break;
      }
    }
    out.end(batch);
    await once(out, "finish");
    files.push({ key: `logs/app-${String(f).padStart(2, "0")}.log`, path, bytes: (await stat(path)).size });
  }
  return files;
}

const PYTHON = `
import re, sys, time
rx = re.compile(sys.argv[1])
start = time.perf_counter()
count = 0
for path in sys.argv[2:]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if rx.search(line):
                count += 1
print(count, time.perf_counter() - start)
`;

const dir = await mkdtemp(join(tmpdir(), "rlm-bench-grep-"));
try {
  const started = performance.now();
  const files = await writeLogs(dir);
  const bytes = files.reduce((n, f) => n + f.bytes, 0);
  const mb = bytes / 2 ** 20;
  console.log(
    `${files.length} files, ${mb.toFixed(0)} MB written in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const python = execFileSync("python3", ["--version"]).toString().trim();
  console.log(`Node ${process.version}, ${python}\n`);
  console.log("| pattern | matching lines | host grep | Python re | host / Python |");
  console.log("| ------- | -------------- | --------- | --------- | ------------- |");
  const lazy = new LazyContext("folder", files);
  for (const { name, pattern } of PATTERNS) {
    let host = Infinity;
    let hostCount = 0;
    for (let r = 0; r < RUNS; r++) {
      const run = runRetrieval({}, lazy);
      const t0 = performance.now();
      const result = await run.grep({ pattern, max_matches: 100 }, "bench", new AbortController().signal);
      host = Math.min(host, (performance.now() - t0) / 1000);
      hostCount = result.total;
    }
    let py = Infinity;
    let pyCount = 0;
    for (let r = 0; r < RUNS; r++) {
      const out = execFileSync("python3", ["-c", PYTHON, pattern, ...files.map((f) => f.path)], {
        maxBuffer: 1 << 20,
      })
        .toString()
        .trim()
        .split(" ");
      pyCount = Number(out[0]);
      py = Math.min(py, Number(out[1]));
    }
    if (pyCount !== hostCount) throw new Error(`${name}: host counted ${hostCount}, Python ${pyCount}`);
    console.log(
      `| ${name} \`${pattern.replace(/\|/g, "\\|")}\` | ${hostCount.toLocaleString("en")} | ${(mb / host).toFixed(0)} MB/s (${host.toFixed(2)} s) | ${(mb / py).toFixed(0)} MB/s (${py.toFixed(2)} s) | ${(py / host).toFixed(1)}× |`,
    );
  }
  const rss = process.memoryUsage().rss / 2 ** 20;
  console.log(`\nPeak host RSS at the end: ${rss.toFixed(0)} MB`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
