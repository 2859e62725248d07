/**
 * `rlm/ai-sdk` end to end: the AI SDK's own `generateText` and `streamText` drive `rlm({...})`, whose
 * root and sub-models are scripted on the fake OpenAI-compatible server, through the real loop and the
 * Python guest.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { generateText, streamText, type TextStreamPart, type ToolSet } from "ai";
import type * as AiSdkEntry from "../src/ai-sdk/index.ts";
import { rlm, type RlmProviderMetadata } from "../src/ai-sdk/index.ts";
import type { RlmOptions } from "../src/rlm/options.ts";
import {
  conversation,
  lastUserMessage,
  startFakeOpenAIServer,
  type FakeHandler,
  type FakeOpenAIServer,
} from "../src/testing/index.ts";
import { repl, rlmOnFake } from "./support.ts";

const usage = (prompt: number, completion: number) => ({
  usage: { prompt_tokens: prompt, completion_tokens: completion },
});

describe("rlm/ai-sdk: generateText and streamText run an RLM", () => {
  let server: FakeOpenAIServer;
  let logDir: string;
  const scripts = new Map<string, FakeHandler>();
  let ids = 0;

  before(async () => {
    logDir = await mkdtemp(join(tmpdir(), "rlm-ai-sdk-"));
    server = await startFakeOpenAIServer({
      handler: (request) => {
        const script = scripts.get(request.model);
        return script ? script(request) : { status: 404, error: `no script for ${request.model}` };
      },
    });
  });
  after(async () => {
    await server.close();
    await rm(logDir, { recursive: true, force: true });
  });

  /** `rlm({...})` over fresh root and sub scripts on the fake server. */
  function setup(
    root: FakeHandler,
    sub: FakeHandler = (r) => `sub: ${lastUserMessage(r)}`,
    options: RlmOptions | ((id: number) => RlmOptions) = {},
  ) {
    const id = ++ids;
    scripts.set(`root-${id}`, root);
    scripts.set(`sub-${id}`, sub);
    const model = rlm(
      rlmOnFake(server, {
        model: `openai/root-${id}`,
        subModel: `openai/sub-${id}`,
        maxRetries: 0,
        ...(typeof options === "function" ? options(id) : options),
      }),
    );
    const requests = (which: "root" | "sub") => server.requests.filter((r) => r.model === `${which}-${id}`);
    return { model, requests };
  }

  const shout = repl(
    "loud = llm_query('Shout: ' + context)\nanswer['content'] = 'It says ' + loud\nanswer['ready'] = True",
  );

  test("generateText answers from the context, with the tree's usage and the run in providerMetadata.rlm", async () => {
    const { model, requests } = setup(
      conversation([{ content: shout, ...usage(1000, 100) }]),
      (r) => ({ content: lastUserMessage(r).replace("Shout: ", "").toUpperCase(), ...usage(20, 5) }),
      (id) => ({
        logDir,
        pricing: {
          [`openai/root-${id}`]: { inputPerMTok: 1, outputPerMTok: 10 },
          [`openai/sub-${id}`]: { inputPerMTok: 1, outputPerMTok: 10 },
        },
      }),
    );
    assert.equal(model.specificationVersion, "v4");
    assert.equal(model.provider, "rlm");
    assert.match(model.modelId, /^openai\/root-\d+$/);
    const result = await generateText({
      model,
      prompt: "What does the note say?",
      providerOptions: { rlm: { context: "hello there" } },
    });
    assert.equal(result.text, "It says HELLO THERE");
    assert.equal(result.finishReason, "stop");
    assert.equal(result.usage.inputTokens, 1020);
    assert.equal(result.usage.outputTokens, 105);
    assert.equal(result.usage.totalTokens, 1125);
    const metadata = result.providerMetadata?.rlm as unknown as RlmProviderMetadata;
    assert.equal(metadata.stopReason, "answered");
    assert.equal(metadata.submitted, true);
    assert.equal(metadata.turns, 1);
    assert.match(metadata.runId, /^run_/);
    assert.ok(Math.abs(metadata.costUsd - (1020 * 1 + 105 * 10) / 1e6) < 1e-12, String(metadata.costUsd));
    assert.equal(metadata.unpricedCalls, 0);
    assert.ok(metadata.trajectoryPath?.startsWith(logDir), String(metadata.trajectoryPath));
    assert.equal(result.response.id, metadata.runId);
    assert.equal(requests("root").length, 1);
    // The context went to the REPL, not into the root model's prompt.
    assert.ok(!JSON.stringify(requests("root")[0]?.messages).includes("hello there"));
  });

  test("without providerOptions.rlm.context the messages before the question are the context", async () => {
    const { model } = setup(
      conversation([
        repl(
          "answer['content'] = ' | '.join(m['role'] + ': ' + m['content'] for m in context)\nanswer['ready'] = True",
        ),
      ]),
    );
    const { text } = await generateText({
      model,
      system: "Notes from standup.",
      messages: [
        { role: "user", content: "Ana ships the parser." },
        { role: "assistant", content: "Noted." },
        { role: "user", content: "Who ships what?" },
      ],
    });
    assert.equal(text, "system: Notes from standup. | user: Ana ships the parser. | assistant: Noted.");
  });

  test("providerOptions.rlm limits tighten the run: one turn without a submission ends with length", async () => {
    const { model, requests } = setup(conversation([repl("print(len(context))"), "My best guess: 5."]));
    const result = await generateText({
      model,
      prompt: "How long is it?",
      providerOptions: { rlm: { context: "12345", maxTurns: 1 } },
    });
    assert.equal(result.text, "My best guess: 5.");
    assert.equal(result.finishReason, "length");
    const metadata = result.providerMetadata?.rlm as unknown as RlmProviderMetadata;
    assert.equal(metadata.stopReason, "max-turns");
    assert.equal(metadata.submitted, false);
    assert.equal(requests("root").length, 2, "one turn, then the best-effort call");
  });

  test("a misspelt limit is an InvalidOptionError naming it, and nothing is sent", async () => {
    const { model, requests } = setup(conversation([shout]));
    await assert.rejects(
      generateText({
        model,
        prompt: "q",
        providerOptions: { rlm: { context: "x", maxTurnz: 2 } },
        maxRetries: 0,
      }),
      (error: Error & Record<string, unknown>) => {
        assert.equal(error.code, "RLM_INVALID_OPTION");
        assert.match(error.message, /maxTurnz/);
        return true;
      },
    );
    assert.equal(requests("root").length, 0);
  });

  test("streamText: progress is not text, the answer arrives as text deltas, then the finish with usage", async () => {
    const { model } = setup(conversation([{ content: shout, ...usage(300, 30) }]), (r) => ({
      content: lastUserMessage(r).replace("Shout: ", "").toUpperCase(),
      ...usage(10, 2),
    }));
    const result = streamText({
      model,
      prompt: "What does the note say?",
      providerOptions: { rlm: { context: "quiet" } },
      includeRawChunks: true,
    });
    const parts: TextStreamPart<ToolSet>[] = [];
    for await (const part of result.fullStream) parts.push(part);
    const types = parts.map((p) => p.type);
    const deltas = parts.filter((p) => p.type === "text-delta").map((p) => p.text);
    assert.equal(deltas.join(""), "It says QUIET");
    // Every run event came through as a raw part; the answer as text once the run had it, not before.
    const raw = parts.filter((p) => p.type === "raw").map((p) => (p.rawValue as { type: string }).type);
    assert.ok(
      raw.includes("run-start") && raw.includes("code-result") && raw.includes("run-end"),
      raw.join(),
    );
    const answerKnown = parts.findIndex(
      (p) => p.type === "raw" && (p.rawValue as { type: string }).type === "answer-delta",
    );
    assert.ok(answerKnown >= 0 && answerKnown < types.indexOf("text-delta"));
    assert.equal(await result.text, "It says QUIET");
    assert.equal(await result.finishReason, "stop");
    const total = await result.totalUsage;
    assert.equal(total.inputTokens, 310);
    assert.equal(total.outputTokens, 32);
    const metadata = (await result.providerMetadata)?.rlm as unknown as RlmProviderMetadata;
    assert.equal(metadata.stopReason, "answered");
    assert.equal(metadata.turns, 1);
  });

  test("a run that fails for good rejects generateText with RunFailedError, and is an error part in streamText", async () => {
    const { model } = setup(() => ({ status: 400, error: "bad request" }));
    const call = { model, prompt: "q", providerOptions: { rlm: { context: "x" } }, maxRetries: 0 };
    await assert.rejects(generateText(call), (error: Error & Record<string, unknown>) => {
      assert.equal(error.name, "RunFailedError");
      assert.equal(error.code, "RLM_MODEL_CALL_FAILED");
      assert.match(error.message, /bad request/);
      return true;
    });
    const errors: unknown[] = [];
    const streamed = streamText({ ...call, onError: ({ error }) => void errors.push(error) });
    const types: string[] = [];
    for await (const part of streamed.fullStream) types.push(part.type);
    assert.ok(types.includes("error") && !types.includes("text-delta"), types.join());
    assert.equal((errors[0] as Record<string, unknown>).code, "RLM_MODEL_CALL_FAILED");
  });

  test("aborting streamText cancels the run: the hanging request is dropped and nothing more is sent", async () => {
    const { model, requests } = setup(() => ({ hang: true }));
    const controller = new AbortController();
    let aborted = false;
    const result = streamText({
      model,
      prompt: "Take your time.",
      providerOptions: { rlm: { context: "x" } },
      abortSignal: controller.signal,
      onAbort: () => {
        aborted = true;
      },
    });
    const reading = (async () => {
      const types: string[] = [];
      for await (const part of result.fullStream) types.push(part.type);
      return types;
    })();
    const deadline = performance.now() + 10_000;
    while (requests("root").length === 0) {
      if (performance.now() > deadline) assert.fail("the root request never reached the server");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    controller.abort(new Error("user pressed stop"));
    const types = await reading;
    assert.ok(types.includes("abort"), types.join());
    assert.ok(!types.includes("text-delta"));
    assert.equal(aborted, true);
    while (server.inFlight > 0) {
      if (performance.now() > deadline) assert.fail("the hanging request was never dropped");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(requests("root").length, 1);
  });

  test("the built package exports it as rlm/ai-sdk", async () => {
    // A variable specifier: the type checker must not need dist/ (npm test builds it first).
    const specifier: string = "rlm/ai-sdk";
    const exported = (await import(specifier)) as typeof AiSdkEntry;
    const { model } = setup(conversation([repl("answer['content'] = 'built'\nanswer['ready'] = True")]));
    // An RLM of this copy of the engine, not of dist/'s: recognised by shape.
    const built = exported.rlm(rlmOnFake(server, { model: model.modelId, maxRetries: 0 }));
    assert.equal(built.specificationVersion, "v4");
    assert.equal(
      (await generateText({ model: built, prompt: "q", providerOptions: { rlm: { context: "x" } } })).text,
      "built",
    );
  });
});
