import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { encodeContext, FILE_SLICE_CHARS, writeContextFile } from "./encode-context.ts";

test("a context file holds the text's exact UTF-8, even with a surrogate pair across a slice boundary", async () => {
  const dir = await mkdtemp(join(tmpdir(), "rlm-encode-"));
  try {
    const text = "a".repeat(FILE_SLICE_CHARS - 1) + "😀 café" + "b".repeat(FILE_SLICE_CHARS);
    const path = join(dir, "context");
    writeContextFile(path, encodeContext(text));
    assert.ok((await readFile(path)).equals(Buffer.from(text, "utf8")));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a structured context is encoded as JSON, its bytes made once", () => {
  const encoded = encodeContext([{ id: 1, text: "é" }]);
  assert.equal(encoded.kind, "json");
  assert.equal(encoded.text, '[{"id":1,"text":"é"}]');
  assert.equal(encoded.bytes(), encoded.bytes());
  assert.equal(Buffer.from(encoded.bytes()).toString("utf8"), encoded.text);
});
