/**
 * The `rlm` command: dispatches to one file per subcommand and turns every failure into a clear message
 * and an exit code, never a stack trace. Each command's module is imported only when it runs, so
 * `rlm ask` never loads the viewer or the benchmark (issue 10: start-up time).
 */
import { RlmError } from "../errors.ts";
import { UsageError, type CommandIO } from "./command.ts";
import { EXIT } from "./exit-codes.ts";
import { packageVersion } from "./version.ts";

const HELP = `Usage: rlm <command> [options]

Commands:
  ask "QUESTION" --context PATH   answer a question over a file, folder, glob or stdin
  chat --context PATH             an interactive session: questions one after another over one REPL
  mcp [--root DIR]...             a Model Context Protocol server (stdio) with the rlm_ask tool
  serve [--port N]                serve an OpenAI-compatible API (POST /v1/chat/completions) over an RLM
  worker --redis URL              run RLM jobs from a queue in Redis (any number of workers, any machines)
  view [FILE|DIR] [--port N]      browse trajectory files in a local web viewer (127.0.0.1 only)
  bench --model NAME              run the paper's benchmark tasks with each method; score, cost, time
  replay TRAJECTORY               re-run a recorded run against this engine and report any divergence

Run "rlm <command> --help" for a command's options. Models come from --model or RLM_MODEL
("openai/gpt-5-mini", "ollama/llama3.1", ...) with the provider's key (OPENAI_API_KEY, ...).`;

/** Error codes that mean the user's input or setup is wrong (flags, configuration, files), not that a run failed: exit 2. */
const USAGE_CODES = new Set([
  "RLM_INVALID_OPTION",
  "RLM_MODEL_NOT_CONFIGURED",
  "RLM_CONTEXT_LOAD_FAILED",
  "RLM_TRAJECTORY_UNREADABLE",
]);

export async function main(argv: readonly string[], io: CommandIO): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "ask":
        return await (await import("./ask.ts")).ask(rest, io);
      case "chat":
        return await (await import("./chat.ts")).chat(rest, io);
      case "mcp":
        return await (await import("./mcp.ts")).mcpCommand(rest, io);
      case "serve":
        return await (await import("./serve.ts")).serveCommand(rest, io);
      case "worker":
        return await (await import("./worker.ts")).workerCommand(rest, io);
      case "view":
        return await (await import("./view.ts")).view(rest, io);
      case "bench":
        return await (await import("./bench.ts")).bench(rest, io);
      case "replay":
        return await (await import("./replay.ts")).replay(rest, io);
      case "--version":
      case "-v":
        io.stdout.write(`${packageVersion()}\n`);
        return EXIT.answered;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.stdout.write(`${HELP}\n`);
        return command === undefined ? EXIT.usage : EXIT.answered;
      default:
        throw new UsageError(`Unknown command "${command}". Run "rlm --help" for the list of commands.`);
    }
  } catch (error) {
    return report(error, io, command ?? "ask");
  }
}

function report(error: unknown, io: CommandIO, command: string): number {
  if (error instanceof UsageError) {
    io.stderr.write(`rlm: ${error.message}\n`);
    return EXIT.usage;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
    io.stderr.write(`rlm: ${(error as Error).message}. See "rlm ${command} --help".\n`);
    return EXIT.usage;
  }
  if (RlmError.isInstance(error)) {
    io.stderr.write(`rlm: ${error.message}\n`);
    if (error.code === "RLM_CANCELLED") return EXIT.cancelled;
    return USAGE_CODES.has(error.code) ? EXIT.usage : EXIT.failed;
  }
  io.stderr.write(`rlm: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
  if (io.env.RLM_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
  else io.stderr.write("rlm: set RLM_DEBUG=1 to see the stack trace, and please report this.\n");
  return EXIT.failed;
}
