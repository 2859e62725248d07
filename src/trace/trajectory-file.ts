/**
 * The trajectory file: JSON lines, one file per run. The layout is the reference implementation's, so
 * its visualizer opens our files: a first line `{"type":"metadata",...}`, then one
 * `{"type":"iteration",...}` line per turn with `prompt` (a list of messages), `response`,
 * `code_blocks[].code`, `code_blocks[].result.{stdout, stderr, locals, execution_time, rlm_calls}`,
 * `final_answer` and `iteration_time` (seconds). Fields in snake_case beyond those are ours.
 *
 * Differences a reader must know:
 * - `prompt` holds only the messages new in that turn's request (`prompt_is_delta`); turn 1 holds the
 *   system prompt and the first user message. The full history is the concatenation, with each turn's
 *   `response` as the assistant message in between.
 * - Long sub-call prompts are cut to `MAX_TRACE_PROMPT_CHARS`; `prompt_chars` and `prompt_sha256`
 *   describe the whole prompt.
 * - A child run's trajectory is nested under the `rlm_calls` entry that spawned it (`child`), and is
 *   also written to a file of its own as it runs (`child.file`, relative to the parent's file).
 * - The last iteration line carries `run_end` (why the run stopped, what it used) once the run ends;
 *   a file without it is from a run that was still going or was killed.
 * - A session (`RLM.session`, `rlm chat`) is one file: its first question as above (the metadata line's
 *   `session` names the session), then each later question as a `{"type":"question","metadata":...}`
 *   line followed by that question's iteration lines, the last with its own `run_end`. A reader that
 *   does not know `question` lines sees every question's iterations as one run's.
 *
 * The line types are the output types of the schemas in `trajectory-schema.ts`, which every reader
 * parses a file through: the writer and the readers share that one definition.
 */
import {
  readTrajectoryLines,
  type IterationLine,
  type MetadataLine,
  type QuestionLines,
} from "./trajectory-schema.ts";

export type {
  BlockResultLine,
  ChildLine,
  CompactionLine,
  IterationLine,
  MessageLine,
  MetadataLine,
  QuestionLine,
  QuestionLines,
  RejectedAnswerLine,
  RlmCallLine,
  RunEndLine,
  UsageLine,
} from "./trajectory-schema.ts";

export const TRAJECTORY_FORMAT = "rlm-trajectory/1";
export const MAX_TRACE_PROMPT_CHARS = 20_000;

export interface TrajectoryFile {
  metadata: MetadataLine;
  /** The run's iterations; in a session's file, those of its first question. */
  iterations: IterationLine[];
  /** A session's file: the questions after the first, each with its run's metadata and iterations. */
  questions: QuestionLines[];
  /** Lines that could not be read: not JSON (a line cut short by a crash, usually the last), or not valid. */
  skippedLines: number;
  /** Why each skipped line was skipped, e.g. `line 3: code_blocks[0].result.stdout: expected string, got 42`. */
  problems: string[];
}

/**
 * Parses a trajectory file's text, each line checked against its schema: a line that is not JSON or
 * fails its schema is counted, reported in `problems` and skipped, never fatal.
 * @throws Error when the file has no valid metadata line.
 */
export function parseTrajectory(text: string): TrajectoryFile {
  const { metadata, iterations, questions, skipped } = readTrajectoryLines(text);
  if (!metadata) {
    const invalid = skipped.find((line) => line.type === "metadata");
    throw new Error(
      invalid
        ? `Not a trajectory file this version can read: its metadata line is not valid (${invalid.problem}).`
        : "Not a trajectory file: its first line is not a metadata line.",
    );
  }
  return {
    metadata,
    iterations,
    questions,
    skippedLines: skipped.length,
    problems: skipped.map((line) => line.problem),
  };
}
