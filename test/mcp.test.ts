/**
 * `rlm mcp` driven by the MCP SDK's own client over stdio: the built CLI as a child process, its model
 * the fake server. Tools listed, a question answered with structured usage, progress per turn, paths
 * outside the roots refused, and a client's cancellation cancelling the run.
 */
import assert from "node:assert/strict";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { startFakeOpenAIServer, type FakeChatRequest, type FakeOpenAIServer } from "../src/testing/index.ts";
import { TEST_CACHE_DIR, fakeModelFlags, repl, said } from "./support.ts";

let hangs = 0;
function root(request: FakeChatRequest) {
  if (said(request, "HANG")) {
    hangs += 1;
    return { hang: true };
  }
  const turn = request.messages.filter((m) => m.role === "assistant").length;
  if (said(request, "TWO TURNS") && turn === 0) return repl("print(sorted(context))");
  return repl("answer['content'] = ', '.join(sorted(context))\nanswer['ready'] = True");
}

const dir = mkdtempSync(join(tmpdir(), "rlm-mcp-"));
const project = join(dir, "project");
const logDir = join(dir, "runs");
let fake: FakeOpenAIServer;
let client: Client;

before(async () => {
  mkdirSync(join(project, "src"), { recursive: true });
  writeFileSync(join(project, "src", "a.ts"), "export const a = 1;\n");
  writeFileSync(join(project, "src", "b.ts"), "export const b = 2;\n");
  writeFileSync(join(dir, "secret.txt"), "secret\n");
  symlinkSync(join(dir, "secret.txt"), join(project, "src", "leak.ts"));
  fake = await startFakeOpenAIServer({ models: { root, sub: () => "sub" } });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [
      join(import.meta.dirname, "..", "dist", "cli", "bin.js"),
      "mcp",
      "--root",
      project,
      ...fakeModelFlags(fake),
      "--isolation",
      "thread",
      "--log-dir",
      logDir,
    ],
    env: { PATH: process.env.PATH ?? "", OPENAI_API_KEY: "test", RLM_CACHE_DIR: TEST_CACHE_DIR },
    stderr: "pipe",
  });
  client = new Client({ name: "rlm-test", version: "1.0.0" });
  await client.connect(transport);
});

after(async () => {
  await client?.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("rlm mcp over stdio", () => {
  test("lists rlm_ask with its input schema and the roots in its description", async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(
      tools.map((t) => t.name),
      ["rlm_ask"],
    );
    const [tool] = tools;
    assert.ok(tool?.description?.includes(project));
    assert.deepEqual(tool?.inputSchema.required, ["question", "paths"]);
    assert.ok(tool?.outputSchema, "structured output is declared");
  });

  test("answers over the files under a root, with usage and the trajectory as structured content", async () => {
    const result = await client.callTool({
      name: "rlm_ask",
      arguments: { question: "Which files?", paths: ["src"] },
    });
    assert.equal(result.isError, undefined);
    const content = result.content as { type: string; text: string }[];
    assert.equal(content[0]?.text, "src/a.ts, src/b.ts", "the link leading out of the root is not read");
    const structured = result.structuredContent as Record<string, unknown>;
    assert.equal(structured.files, 2);
    assert.equal(structured.submitted, true);
    assert.ok((structured.input_tokens as number) > 0);
    assert.match(String(structured.trajectory_file), new RegExp(`^${logDir}/.*\\.jsonl$`));
  });

  test("reports progress once per turn when the client asks for it", async () => {
    const progress: { progress: number; total?: number; message?: string }[] = [];
    const result = await client.callTool(
      { name: "rlm_ask", arguments: { question: "TWO TURNS: which files?", paths: ["src/*.ts"] } },
      undefined,
      { onprogress: (p) => progress.push(p) },
    );
    assert.equal((result.content as { text: string }[])[0]?.text, "src/a.ts, src/b.ts");
    assert.deepEqual(
      progress.map((p) => p.progress),
      [1, 2],
    );
    assert.match(progress[0]?.message ?? "", /^turn 1 of at most \d+$/);
  });

  test("a path outside the roots is refused with the roots named", async () => {
    for (const path of ["../secret.txt", join(dir, "secret.txt"), "src/leak.ts"]) {
      const result = await client.callTool({ name: "rlm_ask", arguments: { question: "q", paths: [path] } });
      assert.equal(result.isError, true, path);
      const text = (result.content as { text: string }[])[0]?.text ?? "";
      assert.match(text, /outside the allowed folders|climbs out/, path);
      assert.ok(text.includes(project), `${path}: the roots are named`);
      assert.ok(!text.includes("secret\n"), path);
    }
  });

  test("bad arguments are refused by the schema", async () => {
    const result = await client.callTool({ name: "rlm_ask", arguments: { question: "q", paths: [] } });
    assert.equal(result.isError, true);
    assert.match((result.content as { text: string }[])[0]?.text ?? "", /paths/);
  });

  test("a cancelled call cancels its run", async () => {
    const hung = hangs;
    const controller = new AbortController();
    const call = client.callTool(
      { name: "rlm_ask", arguments: { question: "HANG", paths: ["src"] } },
      undefined,
      { signal: controller.signal },
    );
    while (hangs === hung) await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    await assert.rejects(call);
    const deadline = Date.now() + 5000;
    const cancelled = () =>
      readdirSync(logDir)
        .filter((f) => f.endsWith(".jsonl"))
        .some((f) => /"stop_reason":"cancelled"/.test(readFileSync(join(logDir, f), "utf8")));
    while (!cancelled()) {
      assert.ok(Date.now() < deadline, "the run's trajectory ends cancelled");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});
