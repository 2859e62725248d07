import { startFakeOpenAIServer } from "../../testing/fake-openai-server.ts";
import { type ModelEndpoint, runModelContract } from "../model-contract.ts";
import { OpenAIModel } from "./openai-model.ts";

const openAIModel =
  (transport: { fetch?: typeof fetch } = {}) =>
  ({ baseURL, modelId, maxRetries, requestTimeoutMs }: ModelEndpoint) =>
    new OpenAIModel({
      name: `openai/${modelId}`,
      modelId,
      baseURL,
      apiKey: "test",
      maxRetries,
      requestTimeoutMs,
      ...transport,
    });

runModelContract("OpenAIModel", {
  startServer: (handler) => startFakeOpenAIServer({ handler }),
  createModel: openAIModel(),
});

// The caller-supplied `fetch` is a second transport under the same adapter: it must keep the contract too.
runModelContract("OpenAIModel over fetch", {
  startServer: (handler) => startFakeOpenAIServer({ handler }),
  createModel: openAIModel({ fetch: (input, init) => fetch(input, init) }),
});
