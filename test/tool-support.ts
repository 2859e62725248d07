/**
 * One fake OpenAI server per suite whose tests each script models of their own, so a test reads only
 * the requests its models received. Call `scriptedFake()` inside a `describe`: it starts the server
 * before the suite's tests and closes it after them.
 */
import assert from "node:assert/strict";
import { after, before } from "node:test";
import {
  startFakeOpenAIServer,
  type FakeChatRequest,
  type FakeHandler,
  type FakeOpenAIServer,
} from "../src/testing/index.ts";

/** A fresh root model (and sub-model) on the fake server, and the requests each has received. */
export interface ScriptedModels {
  /** `openai/root-<n>`. */
  model: string;
  /** `openai/sub-<n>`, answered by the `sub` handler (unscripted without one). */
  subModel: string;
  requests: () => FakeChatRequest[];
  subRequests: () => FakeChatRequest[];
}

export interface ScriptedFake {
  /** The server (started by the suite's `before`). */
  readonly server: FakeOpenAIServer;
  /** Scripts a new pair of model names: `root` answers the root model, `sub` the sub-model. */
  models(root: FakeHandler, sub?: FakeHandler): ScriptedModels;
}

export function scriptedFake(): ScriptedFake {
  const scripts = new Map<string, FakeHandler>();
  let server: FakeOpenAIServer | undefined;
  let counter = 0;
  before(async () => {
    server = await startFakeOpenAIServer({
      handler: (request) =>
        scripts.get(request.model)?.(request) ?? { status: 404, error: `no script for ${request.model}` },
    });
  });
  after(() => server?.close());
  const started = (): FakeOpenAIServer => {
    assert.ok(server, "the fake server starts before the suite's tests");
    return server;
  };
  return {
    get server() {
      return started();
    },
    models(root, sub) {
      const n = ++counter;
      scripts.set(`root-${n}`, root);
      if (sub) scripts.set(`sub-${n}`, sub);
      const of = (name: string) => () => started().requests.filter((r) => r.model === name);
      return {
        model: `openai/root-${n}`,
        subModel: `openai/sub-${n}`,
        requests: of(`root-${n}`),
        subRequests: of(`sub-${n}`),
      };
    },
  };
}
