/**
 * `rlm chat --context PATH`: an interactive session over a context. Questions come one a line from
 * standard input (a terminal with line editing and history, or a pipe); the REPL keeps its variables
 * between them and the model sees the earlier questions and answers. Answers go to stdout, progress to
 * stderr. On a terminal Ctrl-C cancels the question that is running (the session goes on; its partial
 * answer is shown) and, at the prompt, ends the chat, like Ctrl-D and `/exit`.
 */
import { createInterface, type Interface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { CONTEXT_FORMATS, loadContext, type LoadedContext } from "../context/load-context.ts";
import { formatCount } from "../format-count.ts";
import { RunFailedError, type RlmResult } from "../rlm/result.ts";
import { RLM } from "../rlm/rlm.ts";
import type { Session } from "../rlm/session.ts";
import type { RlmEvent } from "../trace/events.ts";
import {
  AnswerStream,
  CONTEXT_OPTIONS,
  contextFormatFlag,
  contextLoadOptions,
  withNewline,
} from "./answer-output.ts";
import { UsageError, type CommandIO } from "./command.ts";
import { EXIT } from "./exit-codes.ts";
import { formatCost, formatSaved, formatTokens } from "./format.ts";
import { Progress } from "./progress.ts";
import {
  LIMIT_FLAGS_HELP,
  LOG_FLAGS_HELP,
  MODEL_FLAGS_HELP,
  REPL_FLAGS_HELP,
  RUN_OPTIONS,
  runOptionsFrom,
} from "./run-flags.ts";

const COMMANDS_HELP = `  /context PATH   add a file, folder or glob as the next question's context: context_1, context_2, ...
  /usage          tokens and cost of the session so far
  /history        the questions so far and their answers
  /help           this list
  /exit           end the session (also Ctrl-D, or Ctrl-C at the prompt)`;

export const CHAT_HELP = `Usage: rlm chat --context PATH [options]

An interactive session over a context: ask questions one after another, one a line. The REPL keeps its
variables between questions (a later question can reuse what an earlier one computed), and the model
sees the earlier questions and answers. Answers go to stdout, progress to stderr; the session's
trajectory is one file.

Context:
  -c, --context PATH       a file, a directory or a glob ("logs/*.txt"); repeatable
      --include GLOB       only files matching GLOB under a directory (repeatable), e.g. "**/*.ts"
      --exclude GLOB       leave out files matching GLOB (repeatable)
      --context-format F   how to read a single file: ${CONTEXT_FORMATS.join(", ")}; default auto
                           (by its extension: documents to text, CSV to rows, else text)

${MODEL_FLAGS_HELP}

${REPL_FLAGS_HELP}

${LIMIT_FLAGS_HELP}
                           (limits apply to each question; /usage sums them)

Output:
${LOG_FLAGS_HELP}
      --stream             print answers as they arrive (the default when stdout is a terminal);
                           --no-stream waits for each whole answer
  -q, --quiet              no progress on stderr
  -h, --help               this help

In the chat:
${COMMANDS_HELP}
On a terminal, Ctrl-C while a question runs cancels that question only; its partial answer is shown.

Exit codes: 0 the session ended, 2 bad arguments or configuration, 130 interrupted by a signal.`;

/** How much of each earlier question and answer `/history` shows. @unit characters */
const HISTORY_CHARS = 300;

export async function chat(argv: readonly string[], io: CommandIO): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    allowPositionals: false,
    options: {
      ...CONTEXT_OPTIONS,
      ...RUN_OPTIONS,
      stream: { type: "boolean" },
      "no-stream": { type: "boolean" },
      quiet: { type: "boolean", short: "q" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout.write(`${CHAT_HELP}\n`);
    return EXIT.answered;
  }
  if (!values.context?.length)
    throw new UsageError("No context given: pass --context FILE, DIR or GLOB (see rlm chat --help).");
  if (values.context.includes("-"))
    throw new UsageError(
      "rlm chat reads its questions from standard input, so --context - cannot be used; pass a file instead.",
    );
  const format = contextFormatFlag(values["context-format"]);

  const rlm = new RLM(runOptionsFrom(values, io.env));
  // The session's guest boots while the context loads.
  rlm.start();
  const load = (paths: readonly string[]) => loadContext(paths, contextLoadOptions(values, format, io));
  const loaded = await load(values.context);
  const session = rlm.session({ context: loaded.context, contextNotes: loaded.notes });
  const chat = new Chat(session, io, {
    load,
    quiet: values.quiet === true,
    streaming: !values["no-stream"] && (values.stream === true || io.stdout.isTTY === true),
  });
  chat.note(
    `context: ${describeLoaded(loaded)}; model ${rlm.model}, sub-model ${rlm.subModel}. Ask a question; /help lists commands.`,
  );
  try {
    await chat.run();
  } finally {
    await session.close();
    if (session.trajectoryFile && !values.quiet)
      io.stderr.write(
        `[rlm] trajectory: ${session.trajectoryFile} (open it with: rlm view ${session.trajectoryFile})\n`,
      );
    if (!io.signal.aborted) await rlm.leaveWarm().catch(() => {});
  }
  return io.signal.aborted ? EXIT.cancelled : EXIT.answered;
}

interface ChatSettings {
  load: (paths: readonly string[]) => Promise<LoadedContext>;
  quiet: boolean;
  streaming: boolean;
}

/** The read-answer loop over one session. */
class Chat {
  readonly #session: Session;
  readonly #io: CommandIO;
  readonly #settings: ChatSettings;
  /** Line editing, history and Ctrl-C as an event: a terminal on both ends. */
  readonly #interactive: boolean;
  /** The question running now, to cancel on Ctrl-C. */
  #running: AbortController | undefined;
  /** A context `/context` loaded for the next question. */
  #pending: { paths: string; loaded: LoadedContext } | undefined;

  constructor(session: Session, io: CommandIO, settings: ChatSettings) {
    this.#session = session;
    this.#io = io;
    this.#settings = settings;
    const stdin = io.stdin as NodeJS.ReadableStream & { isTTY?: boolean };
    this.#interactive = stdin.isTTY === true && io.stderr.isTTY === true;
  }

  /** A line for the person at the terminal, on stderr (`--quiet` silences it). */
  note(text: string): void {
    if (!this.#settings.quiet) this.#io.stderr.write(`[rlm] ${text}\n`);
  }

  /** Reads and answers lines until `/exit`, the end of input, Ctrl-C at the prompt or the signal. */
  async run(): Promise<void> {
    const rl = createInterface({
      input: this.#io.stdin,
      ...(this.#interactive ? { output: this.#io.stderr, terminal: true, historySize: 1000 } : {}),
    });
    rl.on("SIGINT", () => {
      // Only on a terminal: the first Ctrl-C ends the question, one at the prompt ends the chat.
      if (this.#running) {
        this.#io.stderr.write("\n");
        this.note("cancelling this question (the session goes on; Ctrl-C at the prompt ends it)");
        this.#running.abort(new Error("Cancelled with Ctrl-C"));
      } else rl.close();
    });
    // A signal from outside (SIGINT through a pipe, SIGTERM) ends the question and the chat.
    const onAbort = () => {
      this.#running?.abort(this.#io.signal.reason);
      rl.close();
    };
    if (this.#io.signal.aborted) return;
    this.#io.signal.addEventListener("abort", onAbort, { once: true });
    try {
      await this.#loop(rl);
    } finally {
      this.#io.signal.removeEventListener("abort", onAbort);
      rl.close();
    }
  }

  async #loop(rl: Interface): Promise<void> {
    rl.setPrompt("rlm> ");
    if (this.#interactive) rl.prompt();
    for await (const raw of rl) {
      const line = raw.trim();
      if (line === "/exit" || line === "/quit") return;
      if (line.startsWith("/")) await this.#command(line);
      else if (line) await this.#ask(line);
      if (this.#io.signal.aborted) return;
      if (this.#interactive) rl.prompt();
    }
  }

  async #command(line: string): Promise<void> {
    const [name, ...rest] = line.split(/\s+/);
    switch (name) {
      case "/help":
        this.#io.stdout.write(`${COMMANDS_HELP}\n`);
        return;
      case "/usage":
        this.#io.stdout.write(`${this.#usageLine()}\n`);
        return;
      case "/history":
        this.#io.stdout.write(`${this.#history()}\n`);
        return;
      case "/context":
        await this.#addContext(rest);
        return;
      default:
        this.#io.stderr.write(`rlm: unknown command ${name}; /help lists the commands.\n`);
    }
  }

  async #addContext(paths: string[]): Promise<void> {
    if (paths.length === 0 || paths.includes("-")) {
      this.#io.stderr.write("rlm: /context takes a file, folder or glob, e.g. /context notes.txt\n");
      return;
    }
    try {
      const loaded = await this.#settings.load(paths);
      this.#pending = { paths: paths.join(" "), loaded };
      const name = `context_${this.#session.contextNames.length}`;
      this.note(`${describeLoaded(loaded)}: the next question gets it as \`${name}\``);
    } catch (error) {
      this.#io.stderr.write(`rlm: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }

  async #ask(question: string): Promise<void> {
    const controller = new AbortController();
    this.#running = controller;
    const { quiet, streaming } = this.#settings;
    const progress = quiet
      ? undefined
      : new Progress({ stream: this.#io.stderr, live: this.#io.stderr.isTTY === true });
    const answerStream = new AnswerStream(this.#io.stdout, progress);
    const onEvent = (event: RlmEvent) => {
      progress?.onEvent(event);
      if (streaming) answerStream.onEvent(event);
    };
    const pending = this.#pending;
    this.#pending = undefined;
    let result: RlmResult;
    try {
      result = await this.#session.ask(question, {
        signal: controller.signal,
        onEvent,
        streamReplies: streaming,
        ...(pending ? { context: pending.loaded.context, contextNotes: pending.loaded.notes } : {}),
      });
    } catch (error) {
      progress?.stop();
      if (!(error instanceof RunFailedError)) throw error;
      // The question failed; the session did not.
      this.#io.stderr.write(`rlm: ${error.message}\n`);
      if (error.partial.answer) this.#io.stdout.write(withNewline(error.partial.answer));
      return;
    } finally {
      this.#running = undefined;
    }
    progress?.stop();
    answerStream.finish(result.answer);
    if (result.stopReason === "cancelled")
      this.note(
        result.answer
          ? "cancelled; the answer above is the model's draft so far. Ask the next question."
          : "cancelled before any answer was drafted. Ask the next question.",
      );
    else if (!result.submitted)
      this.note(`no answer submitted (${result.stopReason}); the answer above is the model's best effort.`);
  }

  #usageLine(): string {
    const t = this.#session.usage.total;
    const questions = this.#session.answers.length;
    return (
      `session: ${questions} question(s), ${t.calls} model call(s), ` +
      `${formatTokens(t.inputTokens)} input + ${formatTokens(t.outputTokens)} output tokens, ${formatCost(t)}${formatSaved(t)}`
    );
  }

  #history(): string {
    const answers = this.#session.answers;
    if (answers.length === 0) return "No questions yet.";
    return answers
      .map((a, i) => {
        const how = a.submitted ? "" : ` [${a.stopReason}]`;
        const context = a.contextName ? ` (with ${a.contextName})` : "";
        return `Q${i + 1}${context}: ${cut(a.question)}\nA${i + 1}${how}: ${cut(a.answer) || "(no answer)"}`;
      })
      .join("\n");
  }
}

function describeLoaded(loaded: LoadedContext): string {
  const skipped = loaded.skipped.length ? `, ${loaded.skipped.length} skipped` : "";
  return `${formatCount(loaded.chars)} chars from ${loaded.files} file(s)${skipped}`;
}

function cut(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > HISTORY_CHARS ? `${oneLine.slice(0, HISTORY_CHARS)}…` : oneLine;
}
