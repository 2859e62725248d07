/**
 * What the root model is told when a session's question is not its first: the earlier questions and
 * their answers (each cut short; never the earlier transcripts), the variables earlier questions left
 * in the REPL, which contexts it holds (`context`, then `context_1`, ... one per question that brought
 * one), and the question.
 */
import { sliceCodePoints, codePointLength } from "../code-points.ts";
import { formatCount } from "../format-count.ts";
import type { LocalSummary } from "../sandbox/sandbox.ts";
import type { StopReason } from "../trace/trajectory.ts";
import type { Dialect } from "./dialects.ts";

/** Earlier questions shown at most; older ones are counted, not shown. */
export const MAX_EARLIER_QUESTIONS = 10;
/** Characters of each earlier answer shown. @unit characters */
export const EARLIER_ANSWER_CHARS = 1000;
/** Characters of each earlier question shown. @unit characters */
export const EARLIER_QUESTION_CHARS = 500;
/** Variables listed at most. */
export const MAX_VARIABLES_SHOWN = 30;

/** An earlier question of the session and how it ended. */
export interface EarlierQuestion {
  question: string;
  answer: string;
  submitted: boolean;
  stopReason: StopReason;
}

/** A context the session's REPL holds: its variable and what it is. */
export interface SessionContext {
  /** `context`, `context_1`, ... */
  name: string;
  /** `describeContext` of it, under its own name. */
  description: string;
  /** The question (from 1) it came with; 0 for the session's own `context`. */
  question: number;
}

export interface SessionMessageParts {
  earlier: readonly EarlierQuestion[];
  /** The user variables after the session's last cell, as the REPL summarised them. */
  variables: Readonly<Record<string, LocalSummary>>;
  /** The REPL was restarted since the variables were listed (a cell that would not stop): they are gone. */
  restarted: boolean;
  /** Every context the REPL holds, `context` first; the last is new when `added` is true. */
  contexts: readonly SessionContext[];
  /** The last of `contexts` came with this question. */
  added: boolean;
  question: string;
}

/** The contexts the REPL holds, as the model reads them (also the run's recorded context description). */
export function sessionContexts(contexts: readonly SessionContext[], added: boolean): string {
  const older = added ? contexts.slice(0, -1) : contexts;
  const lines = older.map((c) =>
    c.question === 0
      ? `- ${firstLine(c.description)}`
      : `- ${firstLine(c.description)} (It came with question ${c.question}.)`,
  );
  const parts = [`The REPL holds these contexts:\n${lines.join("\n")}`];
  const latest = contexts.at(-1);
  if (added && latest) {
    const others = older.map((c) => `\`${c.name}\``).join(", ");
    parts.push(
      `New with this question: \`${latest.name}\` (${others} ${older.length === 1 ? "is" : "are"} unchanged).\n${latest.description}`,
    );
  } else {
    parts.push("No new context came with this question.");
  }
  return parts.join("\n\n");
}

/** The first user message of a session's question after the first. */
export function sessionFirstMessage(parts: SessionMessageParts, d: Dialect): string {
  const number = parts.earlier.length + 1;
  const sections = [
    `This is question ${number} of a session. Your ${d.name} REPL is the one the earlier questions used: every variable and function they defined is still there.`,
    earlierSection(parts.earlier),
    variablesSection(parts.variables, parts.restarted),
    sessionContexts(parts.contexts, parts.added),
    `Question: ${parts.question}`,
    `Reuse what the REPL already holds where it helps${parts.added ? ", and look at the new context first" : ""}; work in \`${d.tag}\` blocks as before.`,
  ];
  return sections.join("\n\n");
}

function earlierSection(earlier: readonly EarlierQuestion[]): string {
  const shown = earlier.slice(-MAX_EARLIER_QUESTIONS);
  const first = earlier.length - shown.length;
  const lines = ["Earlier in this session:"];
  if (first > 0) lines.push(`(${first} earlier question(s) not shown.)`);
  shown.forEach((q, i) => {
    const n = first + i + 1;
    lines.push(`Q${n}: ${cut(q.question, EARLIER_QUESTION_CHARS)}`);
    const how = q.submitted ? "" : ` [not submitted: ${q.stopReason}]`;
    lines.push(`A${n}${how}: ${q.answer ? cut(q.answer, EARLIER_ANSWER_CHARS) : "(no answer)"}`);
  });
  return lines.join("\n");
}

function variablesSection(variables: Readonly<Record<string, LocalSummary>>, restarted: boolean): string {
  if (restarted)
    return "The REPL was restarted since (a cell would not stop), so the variables of earlier questions are gone; the contexts are loaded again.";
  const names = Object.keys(variables);
  if (names.length === 0) return "Earlier questions left no variables of their own.";
  const lines = names.slice(0, MAX_VARIABLES_SHOWN).map((name) => {
    const v = variables[name] as LocalSummary;
    const size = v.size === undefined ? "" : ` (length ${formatCount(v.size)})`;
    return `- ${name}: ${v.type}${size} = ${cut(v.preview, 80)}`;
  });
  if (names.length > MAX_VARIABLES_SHOWN) lines.push(`- ... and ${names.length - MAX_VARIABLES_SHOWN} more`);
  return `Variables from earlier questions (\`SHOW_VARS()\` prints them again):\n${lines.join("\n")}`;
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? "";
}

function cut(text: string, max: number): string {
  const length = codePointLength(text);
  if (length <= max) return text;
  return `${sliceCodePoints(text, max)}… [cut: ${formatCount(length)} characters in all]`;
}
