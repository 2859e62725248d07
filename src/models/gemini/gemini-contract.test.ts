import { startFakeOpenAIServer } from "../../testing/fake-openai-server.ts";
import { type ModelEndpoint, runModelContract } from "../model-contract.ts";
import { GeminiModel } from "./gemini-model.ts";

runModelContract("GeminiModel", {
  startServer: async (handler) => {
    const server = await startFakeOpenAIServer({ handler });
    return { baseURL: server.url, requests: server.requests, close: () => server.close() };
  },
  createModel: ({ baseURL, modelId, maxRetries, requestTimeoutMs }: ModelEndpoint) =>
    new GeminiModel({
      name: `gemini/${modelId}`,
      modelId,
      baseURL,
      apiKey: "test",
      maxRetries,
      requestTimeoutMs,
    }),
});
