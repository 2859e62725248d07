/**
 * A context larger than memory (issue 15): a synthetic log folder of 10 GB (100 files of 100 MiB),
 * generated on the fly and deleted after, answered by `rlm ask` as users run it (the built CLI, a fresh
 * process, the default process isolation and the default 1 GiB lazy threshold) against the fake OpenAI
 * server. The scripted root model walks the lazy handle: it greps every file for a needle on the host
 * (counting the matching lines), reads a slice of the file the first match is in and the lines around
 * it, counts one file's ERROR lines, and submits. Measured: wall time and the peak RSS of the CLI's
 * process tree (the CLI and its guest host process), sampled every 50 ms from /proc.
 *
 *   npm run bench:huge                       # 10 GB
 *   npm run bench:huge -- --gb 2 --files 20  # smaller
 *
 * When the temporary folder's disk has less room than the folder and 2 GB to spare, the size is cut
 * to fit and a note says so. Prints a markdown table on stdout, progress on stderr; docs/benchmarks.md
 * records the figures.
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { conversation, startFakeOpenAIServer } from "../src/testing/index.ts";
import { processTreeRss } from "./memory.ts";

const { values } = parseArgs({
  options: {
    gb: { type: "string", default: "10" },
    files: { type: "string", default: "100" },
    "no-build": { type: "boolean" },
  },
});
const GB = 2 ** 30;
const MB = 2 ** 20;
let totalBytes = Number(values.gb) * GB;
const fileCount = Number(values.files);
const work = mkdtempSync(join(tmpdir(), "rlm-bench-huge-"));
const { bavail, bsize } = statfsSync(work);
const free = bavail * bsize;
if (free < totalBytes + 2 * GB) {
  const fits = Math.max(GB, Math.floor((free - 2 * GB) / GB) * GB);
  console.error(
    `note: ${tmpdir()} has ${(free / GB).toFixed(1)} GB free, too little for ${(totalBytes / GB).toFixed(0)} GB and 2 GB to spare; generating ${(fits / GB).toFixed(0)} GB instead.`,
  );
  totalBytes = fits;
}
const fileBytes = Math.floor(totalBytes / fileCount);

const root = fileURLToPath(new URL("..", import.meta.url));
if (!values["no-build"]) {
  console.error("building (npm run -s build)...");
  const build = spawnSync("npm", ["run", "-s", "build"], { cwd: root, stdio: "inherit" });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const bin = join(root, "dist", "cli", "bin.js");

const NEEDLE = "needle-7f3a";
/** One file in ten holds the needle, once, in its middle. */
const needleFiles = Array.from({ length: fileCount }, (_, i) => i).filter((i) => i % 10 === 3);

/** A block of log lines, about 4 MiB, that files repeat; every 50th line is an ERROR. */
function logBlock(day: number): { text: Buffer; errors: number } {
  const lines: string[] = [];
  let bytes = 0;
  let errors = 0;
  for (let i = 0; bytes < 4 * MB; i++) {
    const level = i % 50 === 0 ? "ERROR" : i % 7 === 0 ? "WARN" : "INFO";
    if (level === "ERROR") errors++;
    const line = `2025-03-${String(day).padStart(2, "0")}T${String(i % 24).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}:${String((i * 7) % 60).padStart(2, "0")}.${String(i % 1000).padStart(3, "0")}Z svc-${i % 13} ${level} request id=${(i * 2654435761) % 4294967296} path=/api/v1/items/${i % 997} status=${level === "ERROR" ? 500 : 200} ms=${(i * 31) % 900}\n`;
    lines.push(line);
    bytes += Buffer.byteLength(line);
  }
  return { text: Buffer.from(lines.join("")), errors };
}

const logs = join(work, "logs");
const errorsInFirstFile = { count: 0 };
let generatedBytes = 0;
function generate(): void {
  mkdirSync(logs);
  const started = performance.now();
  for (let f = 0; f < fileCount; f++) {
    const { text: block, errors } = logBlock((f % 28) + 1);
    const fd = openSync(join(logs, `app-${String(f).padStart(3, "0")}.log`), "w");
    let written = 0;
    let fileErrors = 0;
    const needleAt = needleFiles.includes(f) ? Math.floor(fileBytes / 2 / block.length) : -1;
    for (let b = 0; written + block.length <= fileBytes; b++) {
      if (b === needleAt) {
        const line = Buffer.from(
          `2025-03-01T12:00:00.000Z svc-7 ERROR ${NEEDLE} checksum mismatch in shard ${f}\n`,
        );
        writeSync(fd, line);
        written += line.length;
        fileErrors++;
      }
      writeSync(fd, block);
      written += block.length;
      fileErrors += errors;
    }
    closeSync(fd);
    generatedBytes += written;
    if (f === 0) errorsInFirstFile.count = fileErrors;
    if (f % 10 === 9) console.error(`  generated ${f + 1} of ${fileCount} files`);
  }
  console.error(`generated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

const repl = (code: string) => "```repl\n" + code + "\n```";
const script = [
  repl(
    [
      `hits = context.grep(${JSON.stringify(NEEDLE)}, limit=20, fixed=True)`,
      "print(len(context), 'files,', context.total_bytes, 'bytes;', hits.count, 'needle lines')",
      "first = hits[0]",
      "f = context[first.path]",
      "print(f[0:300])",
      "print(list(f.lines(first.line - 2, first.line + 1)))",
    ].join("\n"),
  ),
  repl(
    [
      "errors = context['logs/app-000.log'].grep(' ERROR ', limit=0, fixed=True).count",
      "answer['content'] = f'{hits.count} {first.path}:{first.line} {errors}'",
      "answer['ready'] = True",
    ].join("\n"),
  ),
];

console.error(
  `node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${(totalmem() / GB).toFixed(0)} GB RAM; ` +
    `${fileCount} files of ${(fileBytes / MB).toFixed(0)} MiB (${(totalBytes / GB).toFixed(1)} GiB) in ${work}`,
);
process.once("SIGINT", () => {
  rmSync(work, { recursive: true, force: true });
  process.exit(130);
});
const server = await startFakeOpenAIServer({ models: { "bench-root": conversation(script) } });
try {
  generate();
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("RLM_") && name !== "NODE_OPTIONS"),
  );
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [bin, "ask", "How many lines hold the needle?", "--context", logs].concat([
      "--model",
      "openai/bench-root",
      "--base-url",
      server.baseURL,
      "--quiet",
    ]),
    {
      cwd: work,
      env: { ...env, OPENAI_API_KEY: "bench", RLM_KEEP_WARM: "0", RLM_LOG_DIR: join(work, "runs") },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  let peak = 0;
  const sampler = setInterval(() => {
    if (child.pid) peak = Math.max(peak, processTreeRss(child.pid));
  }, 50);
  const code = await new Promise<number | null>((done) => child.on("exit", (exitCode) => done(exitCode)));
  clearInterval(sampler);
  const wallS = (performance.now() - started) / 1000;
  const [count, where, errors] = stdout.trim().split(" ");
  const expectedLine = Math.floor(fileBytes / 2 / (4 * MB)); // about where the needle went
  if (code !== 0 || Number(count) !== needleFiles.length || Number(errors) !== errorsInFirstFile.count) {
    throw new Error(
      `rlm ask exited with ${code}; stdout ${JSON.stringify(stdout)} (expected ${needleFiles.length} needles, ${errorsInFirstFile.count} errors); stderr:\n${stderr}`,
    );
  }
  console.error(`answer: ${stdout.trim()} (needle near block ${expectedLine} of its file, at ${where})`);
  const row = [
    `${fileCount} files, ${(generatedBytes / GB).toFixed(2)} GiB`,
    `${wallS.toFixed(1)} s`,
    `${(peak / MB).toFixed(0)} MB`,
    `${(generatedBytes / GB / wallS).toFixed(2)} GiB/s`,
  ];
  console.log(
    "| context | wall time of `rlm ask` | peak RSS, CLI process tree | context bytes / wall time |",
  );
  console.log("| --- | --- | --- | --- |");
  console.log(`| ${row.join(" | ")} |`);
} finally {
  await server.close();
  rmSync(work, { recursive: true, force: true });
  console.error(`deleted ${work}`);
}
