/**
 * `rlm mcp --root DIR...`: a Model Context Protocol server over stdio (see mcp/mcp-server.ts). stdout
 * is the protocol; everything else goes to stderr.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createMcpServer } from "../mcp/mcp-server.ts";
import { RLM } from "../rlm/rlm.ts";
import { commandArgs } from "./command-args.ts";
import type { CommandIO } from "./command.ts";
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
import { packageVersion } from "./version.ts";

export const MCP_HELP = `Usage: rlm mcp [--root DIR]... [options]

A Model Context Protocol server on stdio with one tool, rlm_ask: a question over files, folders or
globs under the roots, answered by an RLM. For Claude Code, Claude Desktop, Cursor and other MCP
clients; see the README for their configuration.

      --root DIR           a folder rlm_ask may read (repeatable; default: the current folder).
                           Paths outside every root are refused; links out of them are not followed.
  -h, --help               this help

${MODEL_FLAGS_HELP}

${REPL_FLAGS_HELP}

${LIMIT_FLAGS_HELP}

Output:
${LOG_FLAGS_HELP}`;

export async function mcpCommand(
  argv: readonly string[],
  io: CommandIO & { stdin: NodeJS.ReadableStream },
): Promise<number> {
  const values = commandArgs(argv, io, {
    name: "mcp",
    help: MCP_HELP,
    options: { ...RUN_OPTIONS, root: { type: "string", multiple: true } },
    positionalsHint: "; name folders with --root.",
  });
  if (!values) return EXIT.answered;
  const rlm = new RLM({ ...runOptionsFrom(values, io.env), keepWarmSeconds: 0, spareGuests: 1 });
  const confine = await grantedFolders("--root", values.root?.length ? values.root : ["."], io.cwd);
  const version = packageVersion();
  const log = (line: string) => io.stderr.write(`rlm mcp: ${line}\n`);
  const server = createMcpServer({ rlm, confine, version, log });
  const transport = new StdioServerTransport(io.stdin as NodeJS.ReadStream, io.stdout as NodeJS.WriteStream);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    io.stdin.once("end", () => resolve());
    io.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await server.connect(transport);
  rlm.start();
  log(`ready; roots ${confine.roots.join(", ")}; model ${rlm.model}, sub-model ${rlm.subModel}`);
  await closed;
  await server.close().catch(() => {});
  return EXIT.answered;
}
