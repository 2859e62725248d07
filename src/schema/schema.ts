/**
 * One way to say what shape a value must have, for custom tools' arguments and typed answers: a
 * Standard Schema (zod, valibot, arktype... anything with `~standard.validate`) or a plain JSON Schema
 * object. Either becomes a `Validator` that checks a value on the host and lists what is wrong in
 * words a model can act on, and that can show the schema as JSON Schema in a prompt when the library
 * can say it (zod and others implement Standard JSON Schema; a JSON Schema is its own).
 *
 * JSON Schemas are checked with Ajv, loaded on first use so runs that use none do not pay for it: draft
 * 2020-12 or 2019-09 when the schema's `$schema` names it (zod's `toJSONSchema` writes 2020-12), else
 * draft-07.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { Ajv } from "ajv";
import { InvalidOptionError } from "../errors.ts";

/** A JSON Schema object (`{ type: "object", properties: {...}, required: [...] }`). */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** A Standard Schema whose output is `T`, or a JSON Schema (whose values are `unknown` to TypeScript). */
export type SchemaSpec<T = unknown> = StandardSchemaV1<unknown, T> | JsonSchema;

/** The value's type a spec describes: a Standard Schema's output, `unknown` for a JSON Schema. */
export type InferSchema<S> = S extends StandardSchemaV1<unknown, infer T> ? T : unknown;

export type Validation<T> = { ok: true; value: T } | { ok: false; issues: string[] };

export interface Validator<T = unknown> {
  /** The schema as JSON Schema, for prompts; `undefined` when the library cannot convert it. */
  readonly jsonSchema: JsonSchema | undefined;
  /** Checks `value`; a Standard Schema may also transform it (its output is the value returned). */
  validate(value: unknown): Promise<Validation<T>>;
}

/** Whether `spec` is a Standard Schema rather than a JSON Schema. */
export function isStandardSchema(spec: unknown): spec is StandardSchemaV1 {
  const props = (spec as { "~standard"?: { validate?: unknown } } | null)?.["~standard"];
  return typeof props === "object" && props !== null && typeof props.validate === "function";
}

/**
 * A validator for `spec`. `option` names where the spec came from, for the error a malformed one
 * gets (`tools.search.parameters`, `schema`).
 */
export async function validatorFor<S extends SchemaSpec>(
  spec: S,
  option: string,
): Promise<Validator<InferSchema<S>>> {
  if (isStandardSchema(spec)) return standardValidator(spec) as Validator<InferSchema<S>>;
  if (typeof spec !== "object" || spec === null || Array.isArray(spec))
    throw new InvalidOptionError(option, spec, "a Standard Schema (zod, valibot...) or a JSON Schema object");
  return (await jsonSchemaValidator(spec, option)) as Validator<InferSchema<S>>;
}

function standardValidator(schema: StandardSchemaV1): Validator {
  const props = schema["~standard"] as StandardSchemaV1["~standard"] & {
    jsonSchema?: { input?: (options: { target: string }) => Record<string, unknown> };
  };
  let jsonSchema: JsonSchema | undefined;
  try {
    jsonSchema = props.jsonSchema?.input?.({ target: "draft-2020-12" });
  } catch {
    jsonSchema = undefined; // a type the library cannot express in JSON Schema
  }
  return {
    jsonSchema,
    async validate(value) {
      const result = await props.validate(value);
      if (!result.issues) return { ok: true, value: result.value };
      return { ok: false, issues: result.issues.map((issue) => `${pathOf(issue.path)}${issue.message}`) };
    },
  };
}

type Draft = "2020-12" | "2019-09" | "07";
const ajvs = new Map<Draft, Promise<Ajv>>();

/** The Ajv for the draft the schema's `$schema` names; each compiles only its own meta-schema. */
function ajvFor(schema: JsonSchema): Promise<Ajv> {
  const declared = typeof schema.$schema === "string" ? schema.$schema : "";
  const draft: Draft = declared.includes("2020-12")
    ? "2020-12"
    : declared.includes("2019-09")
      ? "2019-09"
      : "07";
  let ajv = ajvs.get(draft);
  const options = { allErrors: true, strict: false };
  if (!ajv) {
    ajv =
      draft === "2020-12"
        ? import("ajv/dist/2020.js").then(({ Ajv2020 }) => new Ajv2020(options))
        : draft === "2019-09"
          ? import("ajv/dist/2019.js").then(({ Ajv2019 }) => new Ajv2019(options))
          : import("ajv").then(({ Ajv: AjvClass }) => new AjvClass(options));
    ajvs.set(draft, ajv);
  }
  return ajv;
}

async function jsonSchemaValidator(schema: JsonSchema, option: string): Promise<Validator> {
  const compiler = await ajvFor(schema);
  let check: ReturnType<typeof compiler.compile>;
  try {
    check = compiler.compile(schema);
  } catch (error) {
    throw new InvalidOptionError(option, schema, `a valid JSON Schema (${(error as Error).message})`);
  }
  return {
    jsonSchema: schema,
    async validate(value) {
      if (check(value)) return { ok: true, value };
      const issues = (check.errors ?? []).map((e) => {
        const where = e.instancePath ? `${e.instancePath.slice(1).replaceAll("/", ".")}: ` : "";
        const detail =
          e.keyword === "additionalProperties"
            ? ` (${String((e.params as { additionalProperty?: unknown }).additionalProperty)})`
            : e.keyword === "enum"
              ? ` (${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)})`
              : "";
        return `${where}${e.message ?? e.keyword}${detail}`;
      });
      return { ok: false, issues: issues.length ? issues : ["does not match the schema"] };
    },
  };
}

function pathOf(path: StandardSchemaV1.Issue["path"]): string {
  if (!path?.length) return "";
  const keys = path.map((segment) => String(typeof segment === "object" ? segment.key : segment));
  return `${keys.join(".")}: `;
}
