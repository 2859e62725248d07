/**
 * The `vanilla` method: one plain model call with the whole context in the prompt, as the paper's base
 * models are run. A context longer than the model's window is cut, keeping its head, and the prompt says
 * so explicitly, so the model knows it has not seen everything (and a reader of the results knows why it
 * scored what it did).
 */
import type { ChatMessage } from "../index.ts";
import type { Task } from "./tasks/task.ts";
import { formatCount } from "../format-count.ts";
import { CHARS_PER_TOKEN } from "./lengths.ts";

/** The window assumed when none is given: 2^17 tokens, common to many current models. @unit tokens */
export const DEFAULT_CONTEXT_WINDOW_TOKENS = 131_072;

/** Tokens kept free for the question, the marker and the reply. @unit tokens */
export const VANILLA_RESERVED_TOKENS = 8_192;

/**
 * Characters per token assumed when cutting. Lower than the 4 used to size tasks, because dense text
 * (dates, IDs, punctuation) takes more tokens than prose and the cut text must still fit.
 */
const CUT_CHARS_PER_TOKEN = 3;

const SYSTEM =
  "You are a helpful assistant. The user gives you a text, then a question about it. Answer the question.";

/** The prompt of a vanilla call, and how much of the context it holds. */
export interface VanillaPrompt {
  messages: ChatMessage[];
  /** Characters of the context in the prompt (all of them unless cut). */
  keptChars: number;
  cut: boolean;
}

/**
 * Builds the vanilla prompt for `task`. When the context is longer than `windowTokens` allows (after
 * `VANILLA_RESERVED_TOKENS` for the rest, at 3 characters a token), only its head is kept, cut at a line
 * break when there is one near, and a marker says how much was left out.
 */
export function vanillaPrompt(task: Pick<Task, "context" | "question">, windowTokens: number): VanillaPrompt {
  const { context, question } = task;
  const roomChars = Math.max(
    0,
    (windowTokens - VANILLA_RESERVED_TOKENS) * CUT_CHARS_PER_TOKEN - question.length,
  );
  if (context.length <= roomChars) {
    return { messages: message(`${context}\n\n${question}`), keptChars: context.length, cut: false };
  }
  // Cut at the last line break in the final 1% of the room, so no line is shown half.
  const lineBreak = context.lastIndexOf("\n", roomChars - 1);
  const keptChars = lineBreak > roomChars * 0.99 ? lineBreak + 1 : roomChars;
  const marker =
    `[The text is cut here. Only its first ${formatCount(keptChars)} of ` +
    `${formatCount(context.length)} characters (about ${approxTokens(keptChars)} of ` +
    `${approxTokens(context.length)} tokens) fit in the model's context window of ` +
    `${formatCount(windowTokens)} tokens. The rest of the text is not shown.]`;
  return {
    messages: message(`${context.slice(0, keptChars)}\n\n${marker}\n\n${question}`),
    keptChars,
    cut: true,
  };
}

function message(user: string): ChatMessage[] {
  return [
    { role: "system", content: SYSTEM },
    { role: "user", content: user },
  ];
}

function approxTokens(chars: number): string {
  return formatCount(Math.round(chars / CHARS_PER_TOKEN));
}
