/**
 * @module
 * Recursive Language Models: answer questions over contexts far larger than any model's window. The
 * context lives in a sandboxed Python REPL; the model writes code to read it and calls sub-models on
 * the pieces.
 *
 * @example
 * import { RLM } from "rlm";
 * const rlm = new RLM({ model: "openai/gpt-5-mini", subModel: "openai/gpt-5-nano" });
 * const { answer } = await rlm.completion({ prompt: "Which errors spike after 14:00?", context: logs });
 */
export { RLM, type CompletionRequest, type TypedCompletionRequest } from "./rlm/rlm.ts";
export type { RlmStream } from "./rlm/event-stream.ts";
export type { Session, SessionRequest, AskOptions, SessionAnswer } from "./rlm/session.ts";
export {
  parseTrajectory,
  type TrajectoryFile,
  type MetadataLine,
  type IterationLine,
} from "./trace/trajectory-file.ts";
export type { RlmOptions, RunLimits } from "./rlm/options.ts";
export { tool, type Tool, type ToolContext, type ToolSet } from "./rlm/tools.ts";
export type { RlmResult, TypedRlmResult } from "./rlm/result.ts";
export type { InferSchema, JsonSchema, SchemaSpec } from "./schema/schema.ts";
export type {
  AnswerSource,
  BlockRecord,
  ModelCallRecord,
  RejectedAnswerRecord,
  RunEnd,
  RunSettings,
  SessionRef,
  StopReason,
  SubcallRecord,
  ToolCallRecord,
  Trajectory,
  TurnRecord,
} from "./trace/trajectory.ts";
export type { RlmEvent, RlmEventType, EventSink } from "./trace/events.ts";
export type { UsageReport, UsageTotals } from "./budget/ledger.ts";
export type { ChatMessage, Model, ModelRequest, ModelResponse, Usage, CallOptions } from "./models/model.ts";
export type { ModelPrice, PricingTable } from "./models/pricing.ts";
export type { RlmContext, JsonValue } from "./context/context.ts";
export type { ContextNotes } from "./context/describe-context.ts";
export type {
  ExecuteOptions,
  ExecuteResult,
  GuestError,
  HostCall,
  HostCallHandler,
  HostCallReply,
  LoadOptions,
  ToolSignature,
  LocalSummary,
  Sandbox,
  SubmitForm,
} from "./sandbox/sandbox.ts";
export {
  RlmError,
  InvalidOptionError,
  ModelConfigError,
  ModelCallError,
  SandboxError,
  ContextLoadError,
  CancelledError,
  SessionError,
  type RlmErrorCode,
} from "./errors.ts";
export { RunFailedError } from "./rlm/result.ts";
