/**
 * `rlm view [FILE|DIR] [--port N]`: serves the trajectory viewer on 127.0.0.1 until Ctrl-C.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { defaultLogDir } from "../rlm/environment.ts";
import { DEFAULT_VIEWER_PORT, startViewerServer, type ViewerServer } from "../trace/viewer/server.ts";
import { ViewerError } from "../trace/viewer/viewer-error.ts";
import { EXIT } from "./exit-codes.ts";
import { UsageError, untilAborted, type CommandIO } from "./command.ts";

export const VIEW_HELP = `Usage: rlm view [FILE|DIR] [--port N]

Opens a local web viewer of trajectory files: the runs in a folder, each run as a tree of turns,
code, output, sub-calls and child runs, with tokens and cost per subtree, a timeline and search.

  FILE|DIR        a trajectory file, or a folder of them (default: $RLM_LOG_DIR or
                  ~/.local/state/rlm/runs, where rlm ask writes them)
  -p, --port N    port on 127.0.0.1 (default ${DEFAULT_VIEWER_PORT}, or a free one when it is taken;
                  0 for any free port)
  -h, --help      this help

The viewer listens on 127.0.0.1 only and serves files under FILE's folder or DIR only.
It runs until Ctrl-C.`;

export async function view(argv: readonly string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      port: { type: "string", short: "p" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout.write(`${VIEW_HELP}\n`);
    return EXIT.answered;
  }
  if (positionals.length > 1)
    throw new UsageError(
      `rlm view takes one file or folder, got ${positionals.length}. See rlm view --help.`,
    );
  const given = positionals[0];
  const path = given === undefined ? defaultLogDir(io.env) : resolve(io.cwd, given);
  const port = values.port === undefined ? undefined : parsePort(values.port);

  let server: ViewerServer;
  try {
    server = await startViewerServer({
      path,
      ...(port === undefined ? {} : { port }),
      // A port the user chose is not silently swapped for another.
      fallbackToFreePort: port === undefined,
    });
  } catch (error) {
    if (!(error instanceof ViewerError)) throw error;
    if (error.code === "VIEWER_PATH_MISSING" && given === undefined) {
      throw new UsageError(
        `No runs yet: ${path} does not exist. Run rlm ask first (it writes a trajectory there), or pass a file or folder.`,
      );
    }
    throw new UsageError(error.message);
  }
  io.stdout.write(`rlm view: ${server.url} (Ctrl-C to stop)\n`);
  io.stderr.write(`rlm view: serving ${path}\n`);
  await untilAborted(io.signal);
  await server.close();
  io.stderr.write("rlm view: stopped\n");
  return EXIT.answered;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535)
    throw new UsageError(`--port must be a whole number from 0 to 65535, got "${text}".`);
  return port;
}
