/**
 * The Model Context Protocol server behind `rlm mcp`: one tool, `rlm_ask`, that answers a question over
 * files under the granted roots with an RLM, so a coding agent can ask about a codebase or a log dump far
 * larger than its own window. Progress goes out as MCP progress notifications (one per turn, when the
 * client asked for them); a client's cancellation cancels the run.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { PathConfinement } from "../context/confine.ts";
import { loadContext } from "../context/load-context.ts";
import { ContextLoadError, RlmError } from "../errors.ts";
import { formatCount } from "../format-count.ts";
import type { RunLimits } from "../rlm/options.ts";
import { RunFailedError, type RlmResult } from "../rlm/result.ts";
import type { RLM } from "../rlm/rlm.ts";
import type { RlmEvent } from "../trace/events.ts";

export interface McpServerOptions {
  rlm: RLM;
  confine: PathConfinement;
  version: string;
  /** Diagnostics (stderr for stdio: stdout is the protocol). */
  log?: (line: string) => void;
}

const askInput = {
  question: z.string().min(1).describe("The question to answer over the files."),
  paths: z
    .array(z.string().min(1))
    .min(1)
    .describe(
      'Files, folders or globs to read, relative to a root (or absolute inside one), e.g. ["src"], ["logs/*.log"].',
    ),
  include: z
    .array(z.string())
    .optional()
    .describe('Only files matching these globs under a folder, e.g. ["**/*.ts"].'),
  exclude: z.array(z.string()).optional().describe("Leave out files matching these globs."),
  max_turns: z.number().int().min(1).optional().describe("Root model turns before it must answer."),
  max_tokens: z.number().int().min(1).optional().describe("Tokens the whole run may use."),
  max_cost_usd: z.number().positive().optional().describe("Dollars the whole run may spend."),
  max_time_seconds: z.number().positive().optional().describe("Seconds the run may take."),
};

const askOutput = {
  answer: z.string(),
  submitted: z.boolean().describe("False when a limit ended the run and the answer is a best effort."),
  stop_reason: z.string(),
  turns: z.number(),
  files: z.number().describe("Files read into the context."),
  context_chars: z.number(),
  input_tokens: z.number(),
  output_tokens: z.number(),
  cost_usd: z.number().describe("Known cost; see unpriced_calls."),
  unpriced_calls: z.number(),
  trajectory_file: z.string().nullable().describe("Open it with: rlm view FILE"),
};

export function createMcpServer(options: McpServerOptions): McpServer {
  const server = new McpServer(
    { name: "rlm", version: options.version },
    {
      instructions:
        "rlm_ask answers a question over files too large for your context window (a whole codebase, a log dump): " +
        "a Recursive Language Model reads them with code and sub-model calls. Give it the paths and a precise question.",
    },
  );
  server.registerTool(
    "rlm_ask",
    {
      title: "Ask an RLM over files",
      description:
        `Answers a question over files, folders or globs under these roots: ${options.confine.roots.join(", ")}. ` +
        "The files are loaded into a sandboxed REPL and a Recursive Language Model reads them with code and sub-model " +
        "calls, so the files may be far larger than any context window. Slower and costlier than reading one file: use it " +
        "for questions that need many files or a large one.",
      inputSchema: askInput,
      outputSchema: askOutput,
    },
    async (args, extra): Promise<CallToolResult> => {
      let loaded;
      try {
        loaded = await loadContext(args.paths, {
          confine: options.confine,
          ...(args.include ? { include: args.include } : {}),
          ...(args.exclude ? { exclude: args.exclude } : {}),
        });
      } catch (error) {
        if (error instanceof ContextLoadError) return failure(error.message);
        throw error;
      }
      const progressToken = extra._meta?.progressToken;
      const onEvent = (event: RlmEvent) => {
        if (progressToken === undefined || event.type !== "turn-start" || event.depth !== 0) return;
        void extra
          .sendNotification({
            method: "notifications/progress",
            params: {
              progressToken,
              progress: event.turn,
              total: event.maxTurns,
              message: `turn ${event.turn} of at most ${event.maxTurns}`,
            },
          })
          .catch(() => {});
      };
      options.log?.(
        `rlm_ask: ${formatCount(loaded.chars)} chars from ${loaded.files} file(s); ${args.question.slice(0, 80)}`,
      );
      let result: RlmResult;
      try {
        result = await options.rlm.completion({
          prompt: args.question,
          context: loaded.context,
          contextNotes: loaded.notes,
          limits: limitsOf(args),
          signal: extra.signal,
          onEvent,
        });
      } catch (error) {
        if (error instanceof RunFailedError)
          return failure(
            `The run failed: ${error.message}${error.partial.trajectoryFile ? ` (trajectory: ${error.partial.trajectoryFile})` : ""}`,
          );
        if (RlmError.isInstance(error)) return failure(error.message);
        throw error;
      }
      const t = result.usage.total;
      const structured = {
        answer: result.answer,
        submitted: result.submitted,
        stop_reason: result.stopReason,
        turns: result.turns,
        files: loaded.files,
        context_chars: loaded.chars,
        input_tokens: t.inputTokens,
        output_tokens: t.outputTokens,
        cost_usd: t.costUsd,
        unpriced_calls: t.unpricedCalls,
        trajectory_file: result.trajectoryFile ?? null,
      };
      const note = result.submitted
        ? ""
        : `\n\n(Not submitted: the run stopped with ${result.stopReason}; this is the model's best effort.)`;
      return {
        content: [{ type: "text", text: `${result.answer}${note}` }],
        structuredContent: structured,
      };
    },
  );
  return server;
}

function limitsOf(args: {
  max_turns?: number;
  max_tokens?: number;
  max_cost_usd?: number;
  max_time_seconds?: number;
}): RunLimits {
  const limits: RunLimits = {};
  if (args.max_turns !== undefined) limits.maxTurns = args.max_turns;
  if (args.max_tokens !== undefined) limits.maxTokens = args.max_tokens;
  if (args.max_cost_usd !== undefined) limits.maxCostUsd = args.max_cost_usd;
  if (args.max_time_seconds !== undefined) limits.maxTimeMs = Math.ceil(args.max_time_seconds * 1000);
  return limits;
}

/** A tool error the calling model reads (MCP's `isError`), not a protocol error. */
function failure(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}
