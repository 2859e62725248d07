import { startFakeOpenAIServer } from "../../testing/fake-openai-server.ts";
import { type ModelEndpoint, runModelContract } from "../model-contract.ts";
import { AnthropicModel } from "./anthropic-model.ts";

runModelContract("AnthropicModel", {
  startServer: async (handler) => {
    const server = await startFakeOpenAIServer({ handler });
    return { baseURL: server.url, requests: server.requests, close: () => server.close() };
  },
  createModel: ({ baseURL, modelId, maxRetries, requestTimeoutMs }: ModelEndpoint) =>
    new AnthropicModel({
      name: `anthropic/${modelId}`,
      modelId,
      baseURL,
      apiKey: "test",
      maxRetries,
      requestTimeoutMs,
    }),
});
