import assert from "node:assert/strict";
import { test } from "node:test";
import * as v from "valibot";
import { z } from "zod";
import { validatorFor } from "./schema.ts";

test("a zod schema validates, transforms, names the failing fields, and shows itself as JSON Schema", async () => {
  const validator = await validatorFor(
    z.object({ city: z.string(), days: z.number().int().min(1) }).transform((o) => ({ ...o, ok: true })),
    "schema",
  );
  assert.deepEqual(await validator.validate({ city: "Oslo", days: 2 }), {
    ok: true,
    value: { city: "Oslo", days: 2, ok: true },
  });
  const bad = await validator.validate({ city: 3, days: 0 });
  assert.equal(bad.ok, false);
  assert.ok(!bad.ok && bad.issues.length === 2, JSON.stringify(bad));
  assert.ok(!bad.ok && bad.issues[0]?.startsWith("city: "), JSON.stringify(bad));
  assert.ok(!bad.ok && bad.issues[1]?.startsWith("days: "), JSON.stringify(bad));
  const plain = await validatorFor(z.object({ city: z.string() }), "schema");
  assert.equal(
    (plain.jsonSchema?.properties as Record<string, unknown> | undefined)?.city !== undefined,
    true,
  );
});

test("a Standard Schema from another library (valibot) validates too", async () => {
  const validator = await validatorFor(v.object({ n: v.number() }), "schema");
  assert.deepEqual(await validator.validate({ n: 1 }), { ok: true, value: { n: 1 } });
  const bad = await validator.validate({ n: "1" });
  assert.ok(!bad.ok && /^n: /.test(bad.issues[0] ?? ""), JSON.stringify(bad));
});

test("a JSON Schema validates with every problem listed, and is its own prompt form", async () => {
  const schema = {
    type: "object",
    properties: { level: { enum: ["low", "high"] }, count: { type: "integer" } },
    required: ["level", "count"],
    additionalProperties: false,
  };
  const validator = await validatorFor(schema, "schema");
  assert.equal(validator.jsonSchema, schema);
  assert.deepEqual(await validator.validate({ level: "low", count: 3 }), {
    ok: true,
    value: { level: "low", count: 3 },
  });
  const bad = await validator.validate({ level: "mid", extra: 1 });
  assert.ok(!bad.ok);
  const text = !bad.ok ? bad.issues.join("; ") : "";
  assert.match(text, /count/);
  assert.match(text, /level: must be equal to one of the allowed values \(\["low","high"\]\)/);
  assert.match(text, /additional properties \(extra\)/);
});

test("a malformed schema is refused naming the option", async () => {
  await assert.rejects(
    validatorFor({ type: "no-such-type" }, "tools.search.parameters"),
    (error: Error & { code: string }) => {
      assert.equal(error.code, "RLM_INVALID_OPTION");
      assert.match(error.message, /tools\.search\.parameters/);
      return true;
    },
  );
  await assert.rejects(validatorFor("string" as never, "schema"), /Standard Schema/);
});

test("a JSON Schema that names draft 2020-12 (as zod's toJSONSchema writes it) or 2019-09 compiles under that draft", async () => {
  const modern = await validatorFor(
    z.toJSONSchema(z.object({ city: z.string(), tags: z.array(z.string()) })),
    "schema",
  );
  assert.deepEqual(await modern.validate({ city: "Oslo", tags: [] }), {
    ok: true,
    value: { city: "Oslo", tags: [] },
  });
  const bad = await modern.validate({ tags: [1] });
  assert.ok(!bad.ok && bad.issues.some((issue) => /city/.test(issue)), JSON.stringify(bad));
  // prefixItems exists only from 2020-12 on: under draft-07 it would be ignored and [1] would pass.
  const tuple = await validatorFor(
    {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "array",
      prefixItems: [{ type: "string" }],
    },
    "schema",
  );
  assert.equal((await tuple.validate([1])).ok, false);
  const older = await validatorFor(
    { $schema: "https://json-schema.org/draft/2019-09/schema", type: "object", required: ["a"] },
    "schema",
  );
  assert.equal((await older.validate({})).ok, false);
  const draft7 = await validatorFor(
    { $schema: "http://json-schema.org/draft-07/schema#", type: "string" },
    "schema",
  );
  assert.equal((await draft7.validate("x")).ok, true);
});
