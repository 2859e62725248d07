/**
 * `rlm serve`: an OpenAI-compatible HTTP API over an RLM, until SIGTERM or Ctrl-C (then a graceful
 * drain: see server/serve.ts).
 */
import { RLM } from "../rlm/rlm.ts";
import { ApiKeys } from "../server/api-keys.ts";
import { ServerConfigError, startServer } from "../server/serve.ts";
import { commandArgs, positiveFlag, wholeFlag } from "./command-args.ts";
import { UsageError, untilAborted, type CommandIO } from "./command.ts";
import { EXIT } from "./exit-codes.ts";
import {
  LIMIT_FLAGS_HELP,
  LOG_FLAGS_HELP,
  MODEL_FLAGS_HELP,
  REPL_FLAGS_HELP,
  RUN_OPTIONS,
  grantedFolders,
  runOptionsFrom,
} from "./run-flags.ts";

const DEFAULT_PORT = 8787;
const DEFAULT_MAX_RUNS = 16;
const DEFAULT_MAX_BODY_MB = 50;
const DEFAULT_DRAIN_SECONDS = 30;
const DEFAULT_SPARE_GUESTS = 2;

export const SERVE_HELP = `Usage: rlm serve [options]

Serves an OpenAI-compatible API: POST /v1/chat/completions runs an RLM (the last user message is the
question; the context is the request's "context" field, else the earlier messages), streamed with
"stream": true. Also GET /v1/models and GET /healthz. See docs/server.md.

Server:
      --host HOST          address to listen on (default 127.0.0.1; anything else needs API keys)
  -p, --port N             port (default ${DEFAULT_PORT}; 0 picks a free one)
      --allow-path DIR     let requests read files under DIR as context ("context_paths"); repeatable;
                           off by default
      --max-runs N         runs at once across all clients (default ${DEFAULT_MAX_RUNS}); more get 429
      --max-runs-per-key N runs at once for one API key (default: --max-runs)
      --max-body-mb N      largest request body in megabytes (default ${DEFAULT_MAX_BODY_MB}); larger get 413
      --spare-guests N     REPL guests kept booted for the next requests (default ${DEFAULT_SPARE_GUESTS}), so no
                           request waits for a boot; each costs a guest's memory while it waits
      --share-interpreters N
                           let up to N runs of one API key share a booted Python interpreter, each in a
                           namespace of its own, so a request does not boot one (off by default;
                           see docs/security.md for what runs in one interpreter share)
      --drain-timeout S    on SIGTERM or Ctrl-C, seconds to let runs finish before cancelling them
                           (default ${DEFAULT_DRAIN_SECONDS})
      --redis URL          also take asynchronous jobs: POST /v1/rlm/jobs queues one in Redis for
                           rlm worker processes, GET /v1/rlm/jobs/ID reads it back (docs/queue.md)
      --queue NAME         the jobs' queue (default rlm)
  -q, --quiet              no request log on stderr
  -h, --help               this help

Keys: with RLM_SERVE_API_KEYS=key1,key2 set, every /v1 request needs "Authorization: Bearer <key>".

${MODEL_FLAGS_HELP}

${REPL_FLAGS_HELP}

${LIMIT_FLAGS_HELP.replace("Limits:", 'Limits (for each run; a request\'s "rlm" field may lower them, never raise them):')}

Output:
${LOG_FLAGS_HELP}`;

export async function serveCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const values = commandArgs(argv, io, {
    name: "serve",
    help: SERVE_HELP,
    options: {
      ...RUN_OPTIONS,
      host: { type: "string" },
      port: { type: "string", short: "p" },
      "allow-path": { type: "string", multiple: true },
      "max-runs": { type: "string" },
      "max-runs-per-key": { type: "string" },
      "max-body-mb": { type: "string" },
      "drain-timeout": { type: "string" },
      "spare-guests": { type: "string" },
      "share-interpreters": { type: "string" },
      redis: { type: "string" },
      queue: { type: "string" },
      quiet: { type: "boolean", short: "q" },
    },
  });
  if (!values) return EXIT.answered;
  const port = wholeFlag("--port", values.port, DEFAULT_PORT, 0, 65535);
  const maxRuns = wholeFlag("--max-runs", values["max-runs"], DEFAULT_MAX_RUNS, 1);
  const maxRunsPerKey = wholeFlag("--max-runs-per-key", values["max-runs-per-key"], maxRuns, 1);
  const maxBodyMb = positiveFlag("--max-body-mb", values["max-body-mb"], DEFAULT_MAX_BODY_MB);
  const drainSeconds = positiveFlag("--drain-timeout", values["drain-timeout"], DEFAULT_DRAIN_SECONDS, {
    zeroOk: true,
    unit: "seconds",
  });
  const spareGuests = wholeFlag("--spare-guests", values["spare-guests"], DEFAULT_SPARE_GUESTS, 0);
  // A long-lived server keeps its own spares; the CLI's standby hand-over between processes is not for it.
  const shareInterpreters = wholeFlag("--share-interpreters", values["share-interpreters"], 0, 1);
  const rlm = new RLM({
    ...runOptionsFrom(values, io.env),
    keepWarmSeconds: 0,
    spareGuests,
    shareInterpreters,
  });
  const confine = values["allow-path"]?.length
    ? await grantedFolders("--allow-path", values["allow-path"], io.cwd)
    : undefined;
  const log = values.quiet ? undefined : (line: string) => io.stderr.write(`rlm serve: ${line}\n`);
  // The queue code (BullMQ, Redis) is loaded only for --redis.
  const jobs = values.redis
    ? await (
        await import("../queue/index.ts")
      ).RlmQueue.connect({ redis: values.redis, ...(values.queue ? { name: values.queue } : {}) })
    : undefined;
  let server;
  try {
    server = await startServer({
      rlm,
      keys: ApiKeys.fromEnv(io.env.RLM_SERVE_API_KEYS),
      ...(values.host ? { host: values.host } : {}),
      port,
      maxRuns,
      maxRunsPerKey,
      maxBodyBytes: Math.round(maxBodyMb * 1024 * 1024),
      confine,
      jobs,
      ...(log ? { log } : {}),
    });
  } catch (error) {
    await jobs?.close();
    if (error instanceof ServerConfigError) throw new UsageError(error.message);
    throw error;
  }
  // The first request finds a guest booted (with shared interpreters: the keyless group's first one).
  rlm.start("local");
  io.stderr.write(`rlm serve: listening on ${server.url}\n`);
  io.stderr.write(
    `rlm serve: model ${rlm.model}, sub-model ${rlm.subModel}; ${confine ? `files under ${confine.roots.join(", ")}` : "no server files (--allow-path)"}; ${io.env.RLM_SERVE_API_KEYS ? "API keys required" : "no API keys (loopback only)"}\n`,
  );
  if (jobs) io.stderr.write(`rlm serve: jobs (POST /v1/rlm/jobs) go to queue "${jobs.name}"\n`);
  await untilAborted(io.signal);
  io.stderr.write(`rlm serve: shutting down; letting runs finish for up to ${drainSeconds} s\n`);
  const cancelled = await server.close(drainSeconds * 1000);
  await jobs?.close();
  io.stderr.write(
    `rlm serve: stopped${cancelled ? ` (${cancelled} run(s) cancelled at the drain timeout)` : ""}\n`,
  );
  return EXIT.answered;
}
