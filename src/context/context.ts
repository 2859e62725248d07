/**
 * The shapes a context may take, and the check that a value has one of them.
 */
import { InvalidOptionError } from "../errors.ts";
import { isLazyContext, type LazyContext } from "./lazy-context.ts";

/** A JSON value, as the REPL receives it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * What the REPL holds as `context`: a string, a list of strings, an object (a Python `dict`), or a list
 * of objects. Objects hold JSON values; a directory loaded by the CLI becomes an object of path to text.
 * A file or folder too large to load (`LazyContext`) stays on the host and the REPL reads it in pieces.
 */
export type RlmContext =
  | LazyContext
  | string
  | readonly string[]
  | { readonly [key: string]: JsonValue }
  | readonly { readonly [key: string]: JsonValue }[];

const EXPECTED = "a string, an array of strings, a plain object, or an array of plain objects";

/** Returns `value` as an `RlmContext`, or throws `InvalidOptionError` naming what was wrong. */
export function validateContext(value: unknown, option = "context"): RlmContext {
  if (typeof value === "string" || isLazyContext(value)) return value;
  if (Array.isArray(value)) {
    if (value.every((item) => typeof item === "string")) return value as string[];
    if (value.every(isPlainObject)) return value as RlmContext;
    const bad = value.findIndex((item) => typeof item !== "string" && !isPlainObject(item));
    throw new InvalidOptionError(
      `${option}[${bad === -1 ? 0 : bad}]`,
      value[bad === -1 ? 0 : bad],
      "a string or a plain object, the same kind as every other item",
    );
  }
  if (isPlainObject(value)) return value as RlmContext;
  throw new InvalidOptionError(option, value, EXPECTED);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
