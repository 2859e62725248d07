/**
 * Compaction: when a run's conversation nears its model's context window, the older turns are
 * summarised by one model call and replaced by that summary, while the REPL keeps every variable. An
 * RLM's history is mostly cell output the model has already read and acted on, so a good summary
 * (what was found, which variables hold what, what is left) loses little, and the run can go on for
 * as many turns as it needs. The system prompt, the first message (the question and the context's
 * description) and the last turns stay as they were.
 */
import { CHARS_PER_TOKEN } from "../models/context-windows.ts";
import { formatCount } from "../format-count.ts";
import type { ChatMessage } from "../models/model.ts";

/** Turns kept as they were after a compaction: the model's latest code and what it printed. */
export const KEEP_TURNS = 2;
/** The most of one message's text the summary call reads, from its start and its end. */
const MESSAGE_EXCERPT_CHARS = 6000;

/** About how many tokens `messages` take, as the context-window check estimates them. */
export function estimateTokens(messages: readonly ChatMessage[]): number {
  return Math.ceil(messages.reduce((sum, m) => sum + m.content.length, 0) / CHARS_PER_TOKEN);
}

export interface CompactionPlan {
  /** The turns being summarised, as they appear in the conversation (assistant and user messages). */
  summarised: ChatMessage[];
  /** The turns kept, from the first kept reply to the latest feedback. */
  kept: ChatMessage[];
}

/**
 * Which messages to summarise: everything between the first message and the last `keep` turns.
 * `undefined` when there is nothing older than those turns. `messages` is the run's conversation:
 * system, first user message, then assistant/user pairs.
 */
export function planCompaction(
  messages: readonly ChatMessage[],
  keep = KEEP_TURNS,
): CompactionPlan | undefined {
  const turns = messages.slice(2);
  // The start of each turn: an assistant message.
  const starts = turns.flatMap((m, i) => (m.role === "assistant" ? [i] : []));
  if (starts.length <= keep) return undefined;
  const cut = starts[starts.length - keep] ?? turns.length;
  return { summarised: turns.slice(0, cut), kept: turns.slice(cut) };
}

/** The request for the summary: the question, any earlier summary, and the turns to summarise. */
export function summaryRequest(
  question: string,
  earlierSummary: string | undefined,
  summarised: readonly ChatMessage[],
  firstTurn: number,
): ChatMessage[] {
  let turn = firstTurn - 1;
  const transcript = summarised
    .map((m) => {
      if (m.role === "assistant") turn++;
      const who = m.role === "assistant" ? `Turn ${turn}, your reply` : `Turn ${turn}, the REPL's output`;
      return `### ${who}\n${excerpt(m.content)}`;
    })
    .join("\n\n");
  const earlier = earlierSummary ? `Summary of the turns before those:\n${earlierSummary}\n\n` : "";
  return [
    {
      role: "system",
      content:
        "You summarise the work of an agent that answers a question by writing code in a REPL. The summary replaces these turns in its memory, so keep everything it will need: facts and numbers found (exactly), the variables it defined and what each holds, approaches that failed and why, and what remains to do. Be concise; no preamble.",
    },
    {
      role: "user",
      content: `The question: ${question}\n\n${earlier}The turns to summarise:\n\n${transcript}\n\nWrite the summary now.`,
    },
  ];
}

/** The first message after a compaction: the original, then the summary of turns up to `throughTurn`. */
export function compactedFirstMessage(
  original: string,
  summary: string,
  throughTurn: number,
  showVars: string,
): string {
  return (
    `${original}\n\n[Turns 1 to ${throughTurn} were compacted to fit the context window. The REPL is ` +
    `unchanged: every variable defined in those turns still exists (${showVars} lists them). ` +
    `Summary of those turns:]\n${summary.trim()}`
  );
}

function excerpt(text: string): string {
  if (text.length <= MESSAGE_EXCERPT_CHARS) return text;
  const half = MESSAGE_EXCERPT_CHARS / 2;
  return `${text.slice(0, half)}\n[... ${formatCount(text.length - MESSAGE_EXCERPT_CHARS)} characters left out ...]\n${text.slice(-half)}`;
}
