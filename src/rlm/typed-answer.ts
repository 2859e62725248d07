/**
 * Typed answers: with a `schema` (`completion({ schema })`), the root run's answer is a JSON value the
 * host checks before it accepts it. A submission that fails goes back to the model with what is wrong
 * and the schema, up to `schemaRetries` times; the run then ends with `stopReason: "invalid-answer"`.
 *
 * What the guest submits is either a structured value (a dict, list, number... in `answer["content"]`,
 * captured as JSON by the REPL) or text (`answer["content"]` as a str, `FINAL(text)` in the reply, the
 * best-effort reply), which is read as JSON first and taken as a plain string only when that is what
 * passes the schema.
 */
import type { AnswerSource } from "../trace/trajectory.ts";
import type { JsonSchema, Validator } from "../schema/schema.ts";
import type { Dialect } from "./dialects.ts";

/** The root run's answer schema, as the loop uses it. */
export interface AnswerSchema {
  validator: Validator;
  /** Rejected submissions fed back before the run ends with `invalid-answer` (`schemaRetries`). */
  retries: number;
}

/** A submission as the loop has it: its text, and the JSON value when the REPL captured one. */
export interface Submission {
  answer: string;
  value?: unknown;
}

export type AnswerCheck =
  /** `value` is the schema's output; `text` the JSON of what was submitted. */
  | { ok: true; text: string; value: unknown }
  /** `text` is the JSON of what was submitted, or the text as given when it was not JSON. */
  | { ok: false; text: string; issues: string[] };

/** Checks one submission against the schema. */
export async function checkAnswer(validator: Validator, submission: Submission): Promise<AnswerCheck> {
  if ("value" in submission) {
    const checked = await validator.validate(submission.value);
    const text = JSON.stringify(submission.value);
    return checked.ok
      ? { ok: true, text, value: checked.value }
      : { ok: false, text, issues: checked.issues };
  }
  const raw = unfence(submission.answer.trim());
  const parsed = parseJson(raw);
  if (parsed.ok) {
    const checked = await validator.validate(parsed.value);
    const text = JSON.stringify(parsed.value);
    if (checked.ok) return { ok: true, text, value: checked.value };
    // Text that happens to be JSON ("42", "true") may be meant as a string.
    const asString = await validator.validate(raw);
    if (asString.ok) return { ok: true, text: JSON.stringify(raw), value: asString.value };
    return { ok: false, text, issues: checked.issues };
  }
  const asString = await validator.validate(raw);
  if (asString.ok) return { ok: true, text: JSON.stringify(raw), value: asString.value };
  return {
    ok: false,
    text: raw,
    issues: [`the answer is not JSON (${parsed.error}), and as a string: ${asString.issues.join("; ")}`],
  };
}

/** Models often wrap JSON in a ```json fence, in FINAL(...) and best-effort replies especially. */
function unfence(text: string): string {
  const fenced = /^```[\w-]*\n([\s\S]*?)\n?```$/.exec(text);
  return fenced ? (fenced[1] ?? "").trim() : text;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** The JSON Schema as the model reads it, or a sentence saying it cannot be shown. */
function schemaText(jsonSchema: JsonSchema | undefined): string {
  return jsonSchema
    ? "```json\n" + JSON.stringify(jsonSchema, null, 2) + "\n```"
    : "(the caller's schema cannot be shown as JSON Schema; follow the structure the question asks for)";
}

/** The system prompt's "To finish" part for a run whose answer has a schema. */
export function typedSubmitInstructions(jsonSchema: JsonSchema | undefined, d: Dialect): string {
  const fence = "```" + d.tag + "\n" + d.typedAnswer.example + "\n```";
  return `To finish, submit the answer from code, as a structured value:
${fence}
The answer is checked against this JSON Schema:
${schemaText(jsonSchema)}
Set ${d.typedAnswer.content} to ${d.typedAnswer.values} that matches it, not to prose. An answer that does not match is not accepted: you are told what is wrong and submit again.`;
}

/** The cut applied to a rejected answer quoted back to the model. @unit characters */
const QUOTED_ANSWER_CHARS = 2000;

/** Fed back (with the turn's outputs) when a submitted answer fails the schema. */
export function answerRejectedFeedback(
  rejected: { text: string; issues: readonly string[]; attempt: number; retriesLeft: number },
  jsonSchema: JsonSchema | undefined,
  source: AnswerSource,
  d: Dialect,
): string {
  const quoted =
    rejected.text.length > QUOTED_ANSWER_CHARS
      ? `${rejected.text.slice(0, QUOTED_ANSWER_CHARS)}... [${rejected.text.length - QUOTED_ANSWER_CHARS} more characters]`
      : rejected.text;
  const how =
    source === "final"
      ? `Submit again with FINAL(...) holding JSON, or set ${d.typedAnswer.content} and submit from code`
      : `Fix ${d.typedAnswer.content}, then submit again with ${d.typedAnswer.ready}`;
  return `[answer rejected] The answer you submitted does not match the answer schema, so it was not accepted and the run goes on (rejection ${rejected.attempt}; ${rejected.retriesLeft} more submission(s) allowed).
You submitted: ${quoted}
What is wrong:
${rejected.issues.map((issue) => `- ${issue}`).join("\n")}
The answer must match this JSON Schema:
${schemaText(jsonSchema)}
${how}.`;
}
