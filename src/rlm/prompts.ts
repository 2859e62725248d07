/**
 * Everything the loop says to the root model: the system prompt that teaches the REPL, the first
 * message (context description and question), the per-turn feedback, and the last call for an answer.
 */
import type { ExecuteResult } from "../sandbox/sandbox.ts";
import { formatCount } from "../format-count.ts";
import type { Dialect } from "./dialects.ts";
import { codePointLength } from "../code-points.ts";
import type { JsonSchema } from "../schema/schema.ts";
import { typedSubmitInstructions } from "./typed-answer.ts";
import type { ReadyTool } from "./tools.ts";

/** What the system prompt shows of a custom tool. */
export type PromptTool = Pick<ReadyTool, "name" | "description" | "parameters" | "builtin">;

/** The custom tools, one bullet each under the dialect's intro, with their parameters' descriptions. */
function toolsSection(all: readonly PromptTool[], d: Dialect): string {
  const retrieval = all.some((t) => t.builtin) ? `\n${d.retrieval}` : "";
  const tools = all.filter((t) => !t.builtin);
  if (tools.length === 0) return retrieval;
  const lines = [d.toolsIntro];
  for (const tool of tools) {
    lines.push(`  - \`${d.toolSignature(tool.name, tool.parameters)}\`: ${tool.description}`);
    for (const param of tool.parameters ?? [])
      if (param.description) lines.push(`    - \`${param.name}\`: ${param.description}`);
  }
  return `${retrieval}\n${lines.join("\n")}`;
}

export interface SystemPromptSettings {
  maxTurns: number;
  maxOutputChars: number;
  /** Characters a sub-model prompt can reasonably hold. */
  subModelPromptChars: number;
  /** Whether `rlm_query` spawns a child RLM (depth left) or is a plain sub-call. */
  recursive: boolean;
  /** Models code may name as the model of a sub-call; the first is the default. */
  subModels: readonly string[];
  /** Whether code may call sub-models at all (`false`: the paper's ablation). @default true */
  subcalls?: boolean;
  /**
   * The answer has a schema: the model is shown it (as JSON Schema, when the library can say it) and
   * told to submit a structured value. Absent: the answer is text.
   */
  answerSchema?: { jsonSchema: JsonSchema | undefined };
  /** Custom tools code may call, listed with their signatures. @default none */
  tools?: readonly PromptTool[];
}

const DIVISION_WITH_SUBCALLS =
  "2. Use code for what code does exactly (searching, counting, splitting, parsing) and sub-models for what needs reading and judgement (classifying, extracting meaning, summarising). For semantic work over a lot of text, split it into chunks, use `llm_query_batched` on them, and combine the results in code.";
// Without sub-calls (the paper's ablation) the sub-model functions are not mentioned at all.
const DIVISION_CODE_ONLY =
  "2. Use code for everything: searching, counting, splitting, parsing. There is no sub-model to ask in this run, so any judgement about the text must be made by your code or by you from what you print.";

export function systemPrompt(s: SystemPromptSettings, d: Dialect): string {
  const subcalls = s.subcalls !== false;
  const fence = (code: string) => `\`\`\`${d.tag}\n${code}\n\`\`\``;
  const otherModels =
    s.subModels.length > 1
      ? `\nSub-calls use ${s.subModels[0]} unless you name another model, one of: ${s.subModels.join(", ")}.`
      : "";
  return `You answer a question about a context that is far too large to read at once. The context is not in this conversation: it is the variable \`context\` in a persistent ${d.name} REPL, and you work by writing code.

How a turn works: write ${d.name} in one or more fenced blocks tagged \`${d.tag}\`:
${fence(d.exploreExample)}
Every \`${d.tag}\` block in your reply runs, in order, and you then see what it printed. Variables and functions persist from block to block and turn to turn. Each block's output is cut after ${formatCount(s.maxOutputChars)} characters, so print summaries, counts and slices rather than whole documents.

What the REPL gives you:
- \`context\`: the data (see the description in the first message). Do not reassign it; keep derived data in your own variables.
${d.functions({ ...s, subcalls })}${toolsSection(s.tools ?? [], d)}
${d.environment}${subcalls ? otherModels : ""}

How to work well:
1. Look before you plan: print the type, the size and a few samples of \`context\` to learn its structure.
${subcalls ? DIVISION_WITH_SUBCALLS : DIVISION_CODE_ONLY}
3. Keep intermediate results in variables and build the answer from them; do not retype data you have already computed.
4. Check your answer against the context before you submit it.

${s.answerSchema ? typedSubmitInstructions(s.answerSchema.jsonSchema, d) : `To finish, submit the answer from code:\n${fence(d.submitExample)}`}
Submit only when you are done; the run ends at that moment. You have ${s.maxTurns} turns.`;
}

/** The first user message: what the context is, and the question. */
export function firstMessage(contextDescription: string, question: string, d: Dialect): string {
  return `${contextDescription}

Question: ${question}

You have not looked at the context yet. Start by exploring it in a \`${d.tag}\` block.`;
}

/** What one block produced, as the model reads it. */
export function formatBlockOutput(index: number, count: number, result: ExecuteResult): string {
  const parts: string[] = [];
  const label = count > 1 ? `Block ${index + 1} of ${count}` : "Your code";
  if (result.stdout) parts.push(result.stdout.replace(/\n$/, ""));
  const stdoutShown = codePointLength(result.stdout);
  if (result.stdoutChars > stdoutShown) parts.push(cutNote(stdoutShown, result.stdoutChars));
  if (result.stderr) {
    parts.push(`[stderr]\n${result.stderr.replace(/\n$/, "")}`);
    const stderrShown = codePointLength(result.stderr);
    if (result.stderrChars > stderrShown) parts.push(cutNote(stderrShown, result.stderrChars));
  }
  if (result.error)
    parts.push(`[error]\n${result.error.traceback || `${result.error.type}: ${result.error.message}`}`);
  for (const note of result.notes) parts.push(`[note] ${note}`);
  const body = parts.length > 0 ? parts.join("\n") : "(no output; print what you want to see)";
  return `${label} printed:\n${body}`;
}

function cutNote(kept: number, total: number): string {
  return `[output cut: showed ${formatCount(kept)} of ${formatCount(total)} characters; print less at a time]`;
}

/** The user message after a turn: the outputs, then where the run stands. */
export function turnFeedback(
  outputs: readonly string[],
  turn: number,
  maxTurns: number,
  skipped: number,
  d: Dialect,
): string {
  const left = maxTurns - turn;
  const parts = [...outputs];
  if (skipped > 0)
    parts.push(`[${skipped} later block(s) did not run because an earlier one submitted an answer]`);
  parts.push(
    left > 0
      ? `Turn ${turn} of ${maxTurns} done; ${left} left. Continue, or ${d.submitHint}.`
      : `That was the last turn.`,
  );
  return parts.join("\n\n");
}

/** Feedback for a reply with nothing to run and no answer. */
export function noCodeFeedback(
  turn: number,
  maxTurns: number,
  otherTags: readonly string[],
  unclosed: boolean,
  d: Dialect,
): string {
  const fence = `\`\`\`${d.tag}`;
  const why = unclosed
    ? `Your reply opened a ${fence} block but never closed it (it may have been cut off), so nothing ran.`
    : otherTags.length > 0
      ? `Your reply had code tagged \`${otherTags[0]}\`, which does not run: only blocks tagged \`${d.tag}\` run.`
      : `Your reply had no ${fence} block and did not submit an answer.`;
  return `${why} Write ${d.name} in a ${fence} block, or ${d.submitHint}.\n\nTurn ${turn} of ${maxTurns} done; ${maxTurns - turn} left.`;
}

/** The last call when turns run out; `typed`: the answer has a schema, so it is asked for as JSON. */
export function bestEffortRequest(question: string, typed = false): string {
  if (typed)
    return `You have used every turn. Reply now with your best final answer to the question as JSON matching the answer schema, and nothing else: no code, no prose. Question: ${question}`;
  return `You have used every turn. Reply now with your best final answer to the question, as plain text, with no code. Question: ${question}`;
}
