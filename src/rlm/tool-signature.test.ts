import assert from "node:assert/strict";
import { test } from "node:test";
import * as v from "valibot";
import { z } from "zod";
import { validatorFor } from "../schema/schema.ts";
import { javascriptSignature, pythonSignature, pythonValue, toolParameters } from "./tool-signature.ts";

const paramsOf = async (spec: Parameters<typeof validatorFor>[0]) =>
  toolParameters((await validatorFor(spec, "tools.t.parameters")).jsonSchema);

test("a zod schema's parameters: required first, defaults and descriptions kept, types in each language", async () => {
  const params = await paramsOf(
    z.object({
      k: z.number().int().default(5),
      query: z.string().describe("what to look for"),
      tags: z.array(z.string()).optional(),
      mode: z.enum(["fast", "exact"]).nullable(),
      strict: z.boolean().default(false),
    }),
  );
  assert.deepEqual(
    params?.map((p) => [p.name, p.required]),
    [
      ["query", true],
      ["mode", true],
      ["k", false],
      ["tags", false],
      ["strict", false],
    ],
  );
  assert.equal(params?.[0]?.description, "what to look for");
  assert.equal(
    pythonSignature("search", params),
    'search(query: str, mode: Literal["fast", "exact"] | None, k: int = 5, tags: list[str] | None = None, strict: bool = False)',
  );
  assert.equal(
    javascriptSignature("search", params),
    'search({ query: string, mode: "fast" | "exact" | null, k?: number /* default 5 */, tags?: string[], strict?: boolean /* default false */ })',
  );
});

test("a JSON Schema's parameters, and tools whose parameters the schema does not tell", async () => {
  const params = await paramsOf({
    type: "object",
    properties: {
      ids: { type: "array", items: { type: ["integer", "string"] } },
      where: { type: "object" },
      anything: {},
    },
    required: ["ids"],
  });
  assert.equal(
    pythonSignature("fetch_rows", params),
    "fetch_rows(ids: list[int | str], where: dict | None = None, anything: Any | None = None)",
  );
  assert.equal(
    javascriptSignature("fetch_rows", params),
    "fetch_rows({ ids: (number | string)[], where?: object, anything?: any })",
  );
  assert.equal(pythonSignature("now", await paramsOf({ type: "object", properties: {} })), "now()");
  assert.equal(javascriptSignature("now", []), "now()");
  // valibot has no JSON Schema of its own: the names are unknown, so calls pass them by keyword.
  const unknown = await paramsOf(v.object({ q: v.string() }));
  assert.equal(unknown, undefined);
  assert.equal(pythonSignature("find", unknown), "find(**arguments)");
  assert.equal(javascriptSignature("find", unknown), "find(arguments)");
});

test("defaults are written as Python writes them", () => {
  assert.equal(pythonValue({ a: [true, null, "x"], b: 1.5 }), '{"a": [True, None, "x"], "b": 1.5}');
});
