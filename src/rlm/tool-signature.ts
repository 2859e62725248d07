/**
 * A custom tool's parameters as read from its JSON Schema, and its signature as each REPL language
 * writes it: `search(query: str, k: int = 5)` for Python, `search({ query: string, k?: number })` for
 * JavaScript. The system prompt lists these, and an argument error repeats them.
 */
import type { JsonSchema } from "../schema/schema.ts";

/** One named argument of a tool. */
export interface ToolParameter {
  name: string;
  /** Its JSON Schema (`{}` when the schema says nothing about it). */
  schema: JsonSchema;
  /** The call must give it. */
  required: boolean;
  /** The schema's `default`, when it has one. */
  default?: unknown;
  /** The schema's `description`, when it has one. */
  description?: string;
}

/**
 * The parameters an object schema names: the required ones first, then the others, each group in the
 * schema's order; that is also the order positional arguments take. `undefined` when the schema does
 * not say (no JSON Schema, or one that is not a plain object of properties).
 */
export function toolParameters(schema: JsonSchema | undefined): ToolParameter[] | undefined {
  const properties = schema?.properties;
  if (typeof properties !== "object" || properties === null || Array.isArray(properties)) return undefined;
  const required = new Set(Array.isArray(schema?.required) ? (schema.required as unknown[]) : []);
  const params = Object.entries(properties as Record<string, unknown>).map(([name, raw]) => {
    const property = isObject(raw) ? raw : {};
    const param: ToolParameter = { name, schema: property, required: required.has(name) };
    if ("default" in property) param.default = property.default;
    if (typeof property.description === "string" && property.description.trim())
      param.description = property.description.trim();
    return param;
  });
  return [...params.filter((p) => p.required), ...params.filter((p) => !p.required)];
}

/**
 * `name(query: str, k: int = 5)`. A parameter that is optional without a default shows `= None` (the
 * REPL leaves out an optional argument given as `None`); unknown parameters show `**arguments`.
 */
export function pythonSignature(name: string, params: readonly ToolParameter[] | undefined): string {
  if (params === undefined) return `${name}(**arguments)`;
  const list = params.map((p) => {
    const type = pythonType(p.schema);
    if (p.required) return `${p.name}: ${type}`;
    if ("default" in p) return `${p.name}: ${type} = ${pythonValue(p.default)}`;
    return `${p.name}: ${type.endsWith("| None") || type === "None" ? type : `${type} | None`} = None`;
  });
  return `${name}(${list.join(", ")})`;
}

/** `name({ query: string, k?: number })`; a default shows as a comment, unknown parameters as `arguments`. */
export function javascriptSignature(name: string, params: readonly ToolParameter[] | undefined): string {
  if (params === undefined) return `${name}(arguments)`;
  if (params.length === 0) return `${name}()`;
  const list = params.map((p) => {
    const type = javascriptType(p.schema);
    const given = "default" in p ? ` /* default ${JSON.stringify(p.default)} */` : "";
    return `${p.name}${p.required ? "" : "?"}: ${type}${given}`;
  });
  return `${name}({ ${list.join(", ")} })`;
}

/** A JSON Schema as a Python type hint: `str`, `list[int]`, `Literal["a", "b"]`, `str | None`, ... */
export function pythonType(schema: JsonSchema): string {
  return typeOf(schema, {
    names: { string: "str", integer: "int", number: "float", boolean: "bool", null: "None", object: "dict" },
    literal: (values) => `Literal[${values.map(pythonValue).join(", ")}]`,
    array: (item) => (item === undefined ? "list" : `list[${item}]`),
    any: "Any",
  });
}

/** A JSON Schema as a TypeScript-like type: `string`, `number[]`, `"a" | "b"`, `string | null`, ... */
export function javascriptType(schema: JsonSchema): string {
  return typeOf(schema, {
    names: {
      string: "string",
      integer: "number",
      number: "number",
      boolean: "boolean",
      null: "null",
      object: "object",
    },
    literal: (values) => values.map((v) => JSON.stringify(v)).join(" | "),
    array: (item) => (item === undefined ? "array" : `${item.includes(" ") ? `(${item})` : item}[]`),
    any: "any",
  });
}

interface TypeWords {
  names: Record<string, string>;
  literal: (values: unknown[]) => string;
  array: (item: string | undefined) => string;
  any: string;
}

function typeOf(schema: JsonSchema, words: TypeWords, depth = 0): string {
  if (depth > 4) return words.any;
  const inner = (s: unknown) => typeOf(isObject(s) ? s : {}, words, depth + 1);
  if (Array.isArray(schema.enum)) return words.literal(schema.enum);
  if ("const" in schema) return words.literal([schema.const]);
  const union = Array.isArray(schema.anyOf)
    ? schema.anyOf
    : Array.isArray(schema.oneOf)
      ? schema.oneOf
      : undefined;
  if (union) return unique(union.map(inner)).join(" | ");
  const types = Array.isArray(schema.type)
    ? schema.type
    : typeof schema.type === "string"
      ? [schema.type]
      : [];
  if (types.length === 0) return words.any;
  return unique(
    types.map((type) =>
      type === "array"
        ? words.array(schema.items === undefined ? undefined : inner(schema.items))
        : (words.names[String(type)] ?? words.any),
    ),
  ).join(" | ");
}

/** A JSON value written as Python writes it: `True`, `None`, `"text"`, `[1, 2]`, `{"a": 1}`. */
export function pythonValue(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (Array.isArray(value)) return `[${value.map(pythonValue).join(", ")}]`;
  if (typeof value === "object")
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${pythonValue(v)}`)
      .join(", ")}}`;
  return JSON.stringify(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
