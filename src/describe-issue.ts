/**
 * One line per validation problem, naming where in the input it is, for the messages of every reader of
 * untrusted JSON (trajectory files, `rlm serve` request bodies).
 */
import type * as v from "valibot";

/** `code_blocks[0].result.stdout: expected string, got 42`, or `...: missing`. */
export function describeIssue(issue: v.BaseIssue<unknown>): string {
  const path = (issue.path ?? [])
    .map((item) => {
      const key: unknown = item.key;
      if (typeof key === "number") return `[${key}]`;
      const name = String(key);
      return /^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
    })
    .join("")
    .replace(/^\./, "");
  const what =
    issue.input === undefined
      ? "missing"
      : `expected ${issue.expected ?? "another value"}, got ${issue.received}`;
  return path ? `${path}: ${what}` : what;
}
