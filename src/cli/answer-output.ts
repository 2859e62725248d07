/**
 * What `rlm ask` and `rlm chat` share: the context flags and how they become `loadContext` options,
 * and printing an answer on stdout as it streams and once it is final.
 */
import {
  CONTEXT_FORMATS,
  isContextFormat,
  type ContextFormat,
  type LoadContextOptions,
} from "../context/load-context.ts";
import type { RlmEvent } from "../trace/events.ts";
import { UsageError, type CommandIO } from "./command.ts";
import type { Progress } from "./progress.ts";

/** `--context`, `--include`, `--exclude` and `--context-format`, for `parseArgs`. */
export const CONTEXT_OPTIONS = {
  context: { type: "string", short: "c", multiple: true },
  include: { type: "string", multiple: true },
  exclude: { type: "string", multiple: true },
  "context-format": { type: "string" },
} as const;

/** `--context-format`, checked; `auto` when absent. */
export function contextFormatFlag(text: string | undefined): ContextFormat {
  const format = text ?? "auto";
  if (!isContextFormat(format))
    throw new UsageError(`--context-format must be one of ${CONTEXT_FORMATS.join(", ")}, got "${format}".`);
  return format;
}

/** The `loadContext` options the context flags ask for, relative to the command's folder and stdin. */
export function contextLoadOptions(
  values: { include?: string[] | undefined; exclude?: string[] | undefined },
  format: ContextFormat,
  io: Pick<CommandIO, "cwd" | "stdin">,
): LoadContextOptions {
  return {
    ...(values.include ? { include: values.include } : {}),
    ...(values.exclude ? { exclude: values.exclude } : {}),
    format,
    cwd: io.cwd,
    stdin: io.stdin,
  };
}

/**
 * One answer on stdout: the top-level run's `answer-delta` events printed as they arrive (the
 * progress line cleared first; a reset starts over on a new line), then {@link finish} ends it.
 */
export class AnswerStream {
  readonly #stdout: CommandIO["stdout"];
  readonly #progress: Progress | undefined;
  #printed = "";

  constructor(stdout: CommandIO["stdout"], progress: Progress | undefined) {
    this.#stdout = stdout;
    this.#progress = progress;
  }

  /** Prints a top-level `answer-delta`; any other event is ignored. */
  onEvent(event: RlmEvent): void {
    if (event.type !== "answer-delta" || event.depth !== 0) return;
    if (!this.#printed) this.#progress?.stop();
    const text = event.reset ? `${this.#printed ? "\n" : ""}${event.text}` : event.text;
    this.#printed = event.reset ? event.text : this.#printed + event.text;
    this.#stdout.write(text);
  }

  /**
   * Ends the answer with a newline. When what streamed is not the final answer (a draft, a model that
   * does not stream), the answer is printed whole below it; an empty answer prints nothing.
   */
  finish(answer: string): void {
    if (this.#printed && this.#printed === answer) {
      if (!answer.endsWith("\n")) this.#stdout.write("\n");
      return;
    }
    if (this.#printed) this.#stdout.write("\n");
    if (answer) this.#stdout.write(withNewline(answer));
  }
}

export function withNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
