/**
 * Reading a model's reply: the code blocks to run, and a FINAL(...) / FINAL_VAR(...) written as text.
 */

export type FinalForm =
  /** `FINAL(text)`, or a match of one of the caller's `patterns`: the text is the answer. */
  | { kind: "final"; text: string; via?: "pattern" }
  /** `FINAL_VAR(name)`: the REPL variable (or expression) holds the answer. */
  | { kind: "final-var"; expression: string };

export interface ParsedReply {
  /** Code of each block tagged for the REPL, in order. */
  code: string[];
  /** A FINAL form written at the start of a line outside code blocks, the earliest one. */
  final: FinalForm | undefined;
  /** A block tagged for the REPL was opened but never closed (the reply was probably cut off). */
  unclosedBlock: boolean;
  /** Fenced blocks with other tags (e.g. ```python), which are not run. */
  otherTags: string[];
}

/** A fence at the start of a line, with its indentation and tag. */
const FENCE = /^([ \t]*)```([\w+-]*)[ \t]*$/;

/** Which answers written as reply text count (`answerDetection`). */
export interface AnswerDetection {
  /** `FINAL(...)` and `FINAL_VAR(...)` at the start of a line. @default true */
  finalText?: boolean;
  /** The caller's own forms: the first capture group of the first match is the answer. */
  patterns?: readonly RegExp[];
}

/** Reads a reply; blocks tagged with one of `tags` (compared case-insensitively) are code to run. */
export function parseReply(
  text: string,
  tags: readonly string[] = ["repl"],
  detection: AnswerDetection = {},
): ParsedReply {
  const lines = text.split(/\r?\n/);
  const code: string[] = [];
  const otherTags: string[] = [];
  const outside: string[] = [];
  let unclosedBlock = false;
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? "");
    if (!open) {
      outside.push(lines[i] ?? "");
      continue;
    }
    const indent = open[1] ?? "";
    const blockTag = (open[2] ?? "").toLowerCase();
    let end = i + 1;
    while (end < lines.length && !/^[ \t]*```[ \t]*$/.test(lines[end] ?? "")) end++;
    const body = lines.slice(i + 1, end);
    if (end >= lines.length) {
      if (tags.includes(blockTag)) unclosedBlock = true;
      break;
    }
    if (tags.includes(blockTag)) code.push(dedent(body, indent).join("\n"));
    else if (blockTag !== "") otherTags.push(blockTag);
    i = end;
  }
  const prose = outside.join("\n");
  const final = (detection.finalText ?? true) ? findFinal(prose) : undefined;
  return { code, final: final ?? findPattern(prose, detection.patterns), unclosedBlock, otherTags };
}

function findPattern(text: string, patterns: readonly RegExp[] | undefined): FinalForm | undefined {
  for (const pattern of patterns ?? []) {
    const match = pattern.exec(text);
    // A global or sticky pattern keeps its place between calls; every reply is read from its start.
    pattern.lastIndex = 0;
    const answer = match?.[1] ?? match?.[0];
    if (answer !== undefined && answer.trim() !== "")
      return { kind: "final", text: answer.trim(), via: "pattern" };
  }
  return undefined;
}

function dedent(body: string[], indent: string): string[] {
  if (indent === "") return body;
  return body.map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()));
}

function findFinal(text: string): FinalForm | undefined {
  const finalVar = /^[ \t]*FINAL_VAR\((.*)\)[ \t]*$/m.exec(text);
  const final = /^[ \t]*FINAL\(/m.exec(text);
  if (finalVar && (!final || finalVar.index <= final.index)) {
    return { kind: "final-var", expression: (finalVar[1] ?? "").trim() };
  }
  if (!final) return undefined;
  const body = closeFinal(text.slice(final.index + final[0].length));
  return body === undefined ? undefined : { kind: "final", text: stripQuotes(body.trim()) };
}

/**
 * The text inside `FINAL(` ... `)`. The closing parenthesis must end a line; the first such one that
 * balances the parentheses wins (so prose after the answer is not swallowed), else the last one.
 */
function closeFinal(rest: string): string | undefined {
  let depth = 0;
  let last: number | undefined;
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i];
    if (ch === "(") depth++;
    else if (ch === ")") {
      if (/^[ \t]*(\r?\n|$)/.test(rest.slice(i + 1, i + 40))) {
        if (depth === 0) return rest.slice(0, i);
        last = i;
      }
      depth--;
    }
  }
  return last === undefined ? undefined : rest.slice(0, last);
}

/** `FINAL("text")` means the text, not the text with quotes around it. */
function stripQuotes(text: string): string {
  const quoted = /^(["'])([\s\S]*)\1$/.exec(text);
  return quoted ? (quoted[2] ?? "") : text;
}
