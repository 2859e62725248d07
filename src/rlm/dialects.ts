/**
 * How the loop talks about the REPL in each guest language: the code-block tag, how to print, how to
 * submit, and the REPL's functions as that language spells them.
 */
import { formatCount } from "../format-count.ts";
import { javascriptSignature, pythonSignature, type ToolParameter } from "./tool-signature.ts";

export interface Dialect {
  language: "python" | "javascript";
  /** "Python", "JavaScript". */
  name: string;
  /** The tag the system prompt teaches. */
  tag: string;
  /** Every tag whose blocks run (models trained on RLMs write `repl` whatever the language). */
  runnableTags: readonly string[];
  /** A first cell that looks at the context. */
  exploreExample: string;
  /** A cell that submits `final_text`. */
  submitExample: string;
  /** One line saying how to submit, for feedback messages. */
  submitHint: string;
  /** How a structured answer is submitted, for runs whose answer has a schema. */
  typedAnswer: {
    /** The answer slot: `answer["content"]`. */
    content: string;
    /** The assignment that submits. */
    ready: string;
    /** What the slot takes, e.g. "a dict or list". */
    values: string;
    /** A cell that submits a structured value. */
    example: string;
  };
  /** The REPL's functions, one markdown bullet each; without sub-calls, none of the sub-model ones. */
  functions(settings: { subModelPromptChars: number; recursive: boolean; subcalls: boolean }): string;
  /** What else the guest offers and what it does not. */
  environment: string;
  /** A custom tool's call as code writes it: `search(query: str, k: int = 5)`. */
  toolSignature(name: string, params: readonly ToolParameter[] | undefined): string;
  /** The bullet that introduces the custom tools: how to call them, what they return and raise. */
  toolsIntro: string;
  /** The bullets of the built-in `grep` and `search`, with an example and how to cite their results. */
  retrieval: string;
  /** The call that lists the variables code has defined. */
  showVars: string;
}

const n = formatCount;

export const PYTHON: Dialect = {
  language: "python",
  name: "Python",
  tag: "repl",
  runnableTags: ["repl"],
  showVars: "SHOW_VARS()",
  exploreExample: "print(type(context), len(context))\nprint(context[:2000])",
  submitExample:
    'answer["content"] = final_text   # the complete answer, as a string\nanswer["ready"] = True',
  submitHint: 'submit with answer["content"] = ... then answer["ready"] = True',
  typedAnswer: {
    content: 'answer["content"]',
    ready: 'answer["ready"] = True',
    values: "a dict or list (any value `json.dumps` can write)",
    example:
      'answer["content"] = {"name": name, "total": total}   # a dict or list, not prose\nanswer["ready"] = True',
  },
  functions: ({ subModelPromptChars, recursive, subcalls }) =>
    [
      ...(subcalls
        ? [
            `- \`llm_query(prompt: str) -> str\` asks a sub-model and returns its reply. The sub-model sees only the prompt you pass, so include the text it must read and say exactly what to return. It reads up to about ${n(subModelPromptChars)} characters per prompt well.`,
            '- `llm_query_batched(prompts: list[str]) -> list[str]` asks many prompts concurrently and returns the replies in the same order; it is much faster than a loop of `llm_query`. A prompt that fails gives a reply starting with "Error:" instead of failing the batch.',
            recursive
              ? "- `rlm_query(prompt: str, context=None) -> str` starts a child agent like you, with its own REPL, on a sub-task; its `context` is the `context` you pass (a str, list or dict), else the prompt itself. Use it for sub-tasks that need several steps of their own. `rlm_query_batched(prompts, contexts=None)` runs several at once. Children cost far more than `llm_query`; prefer `llm_query` for single reads."
              : "- `rlm_query(prompt, context=None)` and `rlm_query_batched(prompts, contexts=None)` behave like `llm_query` and `llm_query_batched` here (a given context is appended to the prompt).",
          ]
        : []),
      "- `SHOW_VARS()` prints the variables you have defined.",
      "- `budget()` returns what is left of this run's limits: a dict with tokens, cost_usd, subcalls, seconds (None where there is no limit) and turns.",
    ].join("\n"),
  environment:
    "- The Python standard library (re, json, collections, ...). There is no network, no file access and no pip.\n" +
    "Only printed output comes back: a bare expression on the last line shows nothing, so print what you need.",
  toolSignature: pythonSignature,
  retrieval: [
    '- `grep(pattern: str, flags: str | int | None = None, max_matches: int = 100, context_lines: int = 0, path: str | None = None)` finds the lines of `context` that a regular expression (Python `re` syntax) matches, run on the host, far faster than a loop in the REPL over a large context. `flags`: "i", "s" or re.I | re.S. `path`: only that key, folder ("logs/") or glob ("**/*.py") of a dict context. It returns a dict: `matches`, a list of `{"path", "line", "text", "cite"}` (`"index"` instead of `"path"` for a list context, `"page"` for a PDF, `"before"`/`"after"` lists of lines with context_lines), `total` (every matching line) and, when more matched than it shows, `truncated` and a `note`.',
    '- `search(query: str, k: int = 5, path: str | None = None)` ranks chunks of `context` (about 40 lines each) by BM25 for the words of `query` and returns the best `k`: a list of `{"path", "line_start", "line_end", "score", "text", "cite"}`. Use it to find where a topic is discussed when you do not know the exact words; use `grep` for exact strings and counts.',
    '  Example: `found = grep(r"timeout|refused", flags="i", path="logs/")` then `print(found["total"], found["matches"][:5])`; `for hit in search("refund policy for damaged items", k=3): print(hit["cite"], hit["text"][:300])`.',
    "- Every result's `cite` names where it is (`src/auth.py:42`, `page 3`). When your answer rests on a result, write its cite in square brackets in the answer, e.g. \"Tokens expire after one hour [src/auth.py:42].\": those become the answer's sources.",
  ].join("\n"),
  toolsIntro:
    "- Tools of this application: functions that run on the host. Call them like any function, with keyword arguments, positional ones in the order shown, or one dict of arguments (`None` for an optional one leaves it out). Each returns plain data (dict, list, str, int, float, bool or None). Arguments the tool does not accept raise `ToolArgumentError` saying what is wrong; a tool that fails raises `ToolError` with its message.",
};

export const JAVASCRIPT: Dialect = {
  language: "javascript",
  name: "JavaScript",
  tag: "js",
  runnableTags: ["js", "javascript", "repl"],
  showVars: "SHOW_VARS()",
  exploreExample: "print(typeof context, context.length)\nprint(context.slice(0, 2000))",
  submitExample: "answer.content = finalText  // the complete answer, as a string\nanswer.ready = true",
  submitHint: "submit with answer.content = ... then answer.ready = true",
  typedAnswer: {
    content: "answer.content",
    ready: "answer.ready = true",
    values: "a plain object or array (any JSON value)",
    example: "answer.content = { name, total }  // an object or array, not prose\nanswer.ready = true",
  },
  functions: ({ subModelPromptChars, recursive, subcalls }) =>
    [
      ...(subcalls
        ? [
            `- \`llm_query(prompt, model?)\` asks a sub-model and returns its reply as a string, synchronously (no await). The sub-model sees only the prompt you pass, so include the text it must read and say exactly what to return. It reads up to about ${n(subModelPromptChars)} characters per prompt well.`,
            '- `llm_query_batched(prompts, model?)` asks many prompts concurrently and returns the replies as an array in the same order; it is much faster than a loop of `llm_query`. A prompt that fails gives a reply starting with "Error:" instead of failing the batch.',
            recursive
              ? "- `rlm_query(prompt, { context, model })` starts a child agent like you, with its own REPL, on a sub-task; its `context` is the `context` you pass (a string, array or object), else the prompt itself. Use it for sub-tasks that need several steps of their own. `rlm_query_batched(prompts, { contexts })` runs several at once. Children cost far more than `llm_query`; prefer `llm_query` for single reads."
              : "- `rlm_query(prompt, { context })` and `rlm_query_batched(prompts, { contexts })` behave like `llm_query` and `llm_query_batched` here (a given context is appended to the prompt).",
          ]
        : []),
      "- `SHOW_VARS()` prints the variables you have defined.",
      "- `budget()` returns what is left of this run's limits: an object with tokens, cost_usd, subcalls, seconds (null where there is no limit) and turns.",
    ].join("\n"),
  environment:
    "- Modern JavaScript built-ins (String, RegExp, JSON, Map, Array methods, ...). There is no `require`, no `import`, no network and no file access.\n" +
    "Print with `print(...)` or `console.log(...)`: only printed output comes back. Top-level `let` and `const` behave like `var`, so a later block may define the same name again.",
  toolSignature: javascriptSignature,
  retrieval: [
    '- `grep(pattern, flags?, max_matches?, context_lines?, path?)` (or `grep({ pattern, flags, max_matches, context_lines, path })`) finds the lines of `context` that a regular expression matches, run on the host, far faster than a loop in the REPL over a large context, synchronously. `pattern` is a string (RegExp syntax; for a literal, `/re/.source`); `flags`: "i", "s"; `max_matches` defaults to 100, `context_lines` to 0; `path`: only that key, folder ("logs/") or glob ("**/*.js") of an object context. It returns `{ matches, total, truncated, note }`: `matches` an array of `{ path, line, text, cite }` (`index` instead of `path` for an array context, `page` for a PDF, `before`/`after` arrays of lines with context_lines), `total` every matching line, and `truncated` with a `note` when more matched than it shows.',
    "- `search(query, k?, path?)` ranks chunks of `context` (about 40 lines each) by BM25 for the words of `query` and returns the best `k` (default 5): an array of `{ path, line_start, line_end, score, text, cite }`. Use it to find where a topic is discussed when you do not know the exact words; use `grep` for exact strings and counts.",
    '  Example: `const found = grep("timeout|refused", "i")` then `print(found.total, found.matches.slice(0, 5))`; `for (const hit of search("refund policy for damaged items", 3)) print(hit.cite, hit.text.slice(0, 300))`.',
    "- Every result's `cite` names where it is (`src/auth.js:42`, `page 3`). When your answer rests on a result, write its cite in square brackets in the answer, e.g. \"Tokens expire after one hour [src/auth.js:42].\": those become the answer's sources.",
  ].join("\n"),
  toolsIntro:
    "- Tools of this application: functions that run on the host and return synchronously, like `llm_query` (no await). Pass one object of arguments, or the arguments in the order shown (`null` for an optional one leaves it out). Each returns plain data (objects, arrays, strings, numbers, booleans, null). Arguments the tool does not accept throw a `ToolArgumentError` saying what is wrong; a tool that fails throws a `ToolError` with its message.",
};

export function dialectFor(language: "python" | "javascript"): Dialect {
  return language === "python" ? PYTHON : JAVASCRIPT;
}
