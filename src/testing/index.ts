/**
 * @module
 * Test helpers, importable as `rlm/testing`: a scripted OpenAI-compatible server on loopback, so RLM code
 * can be tested offline against the real adapters; and a scripted `Model` and `Sandbox`, so the loop
 * itself can be tested in milliseconds with no server and no interpreter
 * (`new RLM({ model: scriptedModel([...]), sandbox: () => scriptedSandbox([...]) })`).
 */
export {
  startFakeOpenAIServer,
  conversation,
  sequence,
  lastUserMessage,
  type FakeOpenAIServer,
  type FakeServerOptions,
  type FakeHandler,
  type FakeReply,
  type FakeChatRequest,
  type FakeCall,
  type FakeUsage,
  type FakeMessage,
} from "./fake-openai-server.ts";
export {
  scriptedModel,
  ScriptedModel,
  type ModelScript,
  type ScriptedReply,
  type ScriptedModelCall,
  type ScriptedModelOptions,
} from "./scripted-model.ts";
export {
  scriptedSandbox,
  ScriptedSandbox,
  type SandboxScript,
  type CellScript,
  type ScriptedCell,
  type ScriptedExecution,
  type ScriptedSandboxOptions,
} from "./scripted-sandbox.ts";
export { cellResult, raised, submitted, type CellOutcome } from "./cell-result.ts";
export { ScriptExhaustedError } from "./script-exhausted.ts";
