/**
 * Custom tools: functions of the host application that the model's code calls like `llm_query`
 * (`search(query="refund policy")`). Each is defined by a description, the schema of its arguments
 * (zod or any Standard Schema, or a JSON Schema) and `execute`. The REPL gets a function per tool;
 * its arguments are checked on the host against the schema before `execute` runs, and what `execute`
 * returns goes back to the code as plain data. Serving a call is `tool-calls.ts`; listing the tools in
 * the system prompt is `prompts.ts` with `tool-signature.ts`.
 */
import { InvalidOptionError } from "../errors.ts";
import type { ToolSignature } from "../sandbox/sandbox.ts";
import {
  isStandardSchema,
  validatorFor,
  type InferSchema,
  type JsonSchema,
  type SchemaSpec,
  type Validator,
} from "../schema/schema.ts";
import { toolNameProblem } from "./tool-names.ts";
import { toolParameters, type ToolParameter } from "./tool-signature.ts";

/** What `execute` gets besides the arguments. */
export interface ToolContext {
  /**
   * Aborts when the call is no longer wanted: the run is cancelled or stopped by a limit, or the cell
   * that made the call is interrupted (its time limit). The call's result is then thrown away, so
   * pass it on to whatever the tool waits for (`fetch(url, { signal })`).
   */
  signal: AbortSignal;
  /** The call's id, as in its `tool-start` and `tool-end` events. */
  callId: string;
}

/**
 * A custom tool. `parameters` describes the one object of named arguments the tool takes; what
 * `execute` returns must be JSON (objects, arrays, strings, numbers, booleans, null; `undefined` is
 * null), and what it throws is raised in the REPL with its message.
 *
 * @example
 * const search: Tool = {
 *   description: "Search the product docs; returns the best matching passages.",
 *   parameters: z.object({ query: z.string(), k: z.number().int().default(5) }),
 *   execute: async ({ query, k }, { signal }) => docs.search(query, k, { signal }),
 * };
 */
export interface Tool<S extends SchemaSpec = SchemaSpec> {
  /** What the tool does and returns, for the model: listed in the system prompt with its signature. */
  description: string;
  /**
   * The arguments, as an object schema: zod (`z.object({...})`), any other Standard Schema, or a JSON
   * Schema (`{ type: "object", properties: {...}, required: [...] }`). A Standard Schema's output (its
   * defaults and transforms applied) is what `execute` receives. The prompt shows each property with
   * its type, default and `description` when the schema can be read as JSON Schema.
   * @default no arguments
   */
  parameters?: S;
  /** Does the work. May be async; runs on the host, with the host's access, once per call. */
  execute: (args: InferSchema<S>, context: ToolContext) => unknown;
}

/** `definition`, typed: `execute`'s arguments are inferred from `parameters`. */
export function tool<S extends SchemaSpec>(definition: Tool<S>): Tool<S> {
  return definition;
}

/**
 * The `tools` option: tools by the name code calls them by. A tool written inline gets untyped
 * arguments; wrap it in `tool({...})` for arguments typed from its `parameters`.
 */
export type ToolSet = Readonly<Record<string, AnyTool>>;

/** Any tool, whatever its arguments' type (each has its own, which a record of them cannot name). */
export interface AnyTool {
  description: string;
  parameters?: SchemaSpec;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  execute: (args: any, context: ToolContext) => unknown;
}

/** A tool as options hold it once checked; its validator is being made (`readyTools` waits for it). */
export interface ResolvedTool {
  name: string;
  description: string;
  execute: (args: unknown, context: ToolContext) => unknown;
  /** Rejects with `InvalidOptionError` when the schema is malformed (awaited by `readyTools`). */
  validator: Promise<Validator>;
}

/** A tool ready to serve calls. */
export interface ReadyTool {
  name: string;
  description: string;
  execute: (args: unknown, context: ToolContext) => unknown;
  validator: Validator;
  /** The parameters as the prompt and the REPL know them; `undefined` when the schema cannot say. */
  parameters: ToolParameter[] | undefined;
  /**
   * One of the engine's own retrieval tools (`grep`, `search`: `retrieval/retrieval-tools.ts`), served
   * on the host over the calling run's context and described in the prompt apart from the application's.
   */
  builtin?: true;
}

/** What a tool without `parameters` takes: nothing. */
const NO_ARGUMENTS: JsonSchema = { type: "object", properties: {}, additionalProperties: false };

/**
 * Checks the `tools` option (names, descriptions, functions) and starts making each validator.
 * Throws `InvalidOptionError` naming the tool and field.
 */
export function resolveTools(value: unknown, language: "python" | "javascript"): ResolvedTool[] {
  if (value === undefined) return [];
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new InvalidOptionError(
      "tools",
      value,
      "an object of tools by name, e.g. { search: { description, parameters, execute } }",
    );
  return Object.entries(value as Record<string, unknown>).map(([name, raw]) => {
    const option = `tools.${name}`;
    const problem = toolNameProblem(name, language);
    if (problem)
      throw new InvalidOptionError(
        "tools",
        name,
        `tool names the REPL can define; "${name}" ${problem}, so rename it (e.g. "${name.replace(/^_+/, "")}_tool")`,
      );
    if (typeof raw !== "object" || raw === null)
      throw new InvalidOptionError(option, raw, "a tool: { description, parameters, execute }");
    const { description, parameters, execute } = raw as Partial<Tool>;
    if (typeof description !== "string" || description.trim() === "")
      throw new InvalidOptionError(
        `${option}.description`,
        description,
        "a non-empty string telling the model what the tool does",
      );
    if (typeof execute !== "function")
      throw new InvalidOptionError(`${option}.execute`, execute, "a function (args, { signal }) => result");
    const spec = parameters ?? NO_ARGUMENTS;
    if (!isStandardSchema(spec)) checkObjectSchema(`${option}.parameters`, spec);
    const validator = validatorFor(spec, `${option}.parameters`);
    // Awaited by the first run; until then a rejection must not count as unhandled.
    validator.catch(() => {});
    return { name, description: description.trim(), execute: execute as ResolvedTool["execute"], validator };
  });
}

/** Waits for every tool's validator; throws `InvalidOptionError` for a malformed or non-object schema. */
export async function readyTools(tools: readonly ResolvedTool[]): Promise<ReadyTool[]> {
  return Promise.all(
    tools.map(async (t) => {
      const validator = await t.validator;
      if (validator.jsonSchema) checkObjectSchema(`tools.${t.name}.parameters`, validator.jsonSchema);
      return {
        name: t.name,
        description: t.description,
        execute: t.execute,
        validator,
        parameters: toolParameters(validator.jsonSchema),
      };
    }),
  );
}

/** What the REPL needs to define the tools: names, descriptions, parameter order. */
export function toolSignatures(tools: readonly ReadyTool[]): ToolSignature[] {
  return tools.map((t) => ({
    name: t.name,
    description: t.description,
    params: t.parameters?.map((p) => ({ name: p.name, optional: !p.required })) ?? null,
  }));
}

/** A tool takes named arguments: its schema must describe an object (or say nothing of the type). */
function checkObjectSchema(option: string, schema: unknown): void {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return; // validatorFor says
  const type = (schema as JsonSchema).type;
  if (type === undefined || type === "object") return;
  throw new InvalidOptionError(
    option,
    schema,
    'an object schema (a tool takes named arguments), e.g. { type: "object", properties: { query: { type: "string" } } }',
  );
}
