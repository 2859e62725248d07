/**
 * How attempts are written on a BullMQ job, by the worker, and read back, by the queue. Two places:
 * - the job's progress holds the attempt running now with its spend so far, rewritten as it grows and
 *   cleared when the attempt ends; one found there by the next attempt belonged to a worker that died;
 * - the job's log (append-only) gets one line per attempt that ended without the job's result.
 * Records are keyed by attempt id, so an attempt seen twice (its worker logged it, and the next
 * attempt found its progress too) is counted once.
 */
import type { AttemptRecord, Spend } from "./spend.ts";

/** The attempt running now, as the job's progress holds it. */
export interface RunningAttempt {
  id: string;
  attempt: number;
  worker: string;
  startedAt: number;
  /** When `spend` was last written. @unit milliseconds since the epoch */
  updatedAt: number;
  spend: Spend;
}

/** The job progress an attempt writes: `{ attempt }` while it runs, `{}` once it has ended. */
export interface JobProgressRecord {
  attempt?: RunningAttempt;
}

const LOG_KEY = "rlmAttempt";

/** The log line for an attempt that ended without the job's result. */
export function attemptLogLine(record: AttemptRecord): string {
  return JSON.stringify({ [LOG_KEY]: record });
}

/** The record of an attempt whose worker stopped before it ended, with the spend it last wrote. */
export function stalledRecord(attempt: RunningAttempt): AttemptRecord {
  return {
    id: attempt.id,
    attempt: attempt.attempt,
    worker: attempt.worker,
    startedAt: attempt.startedAt,
    endedAt: attempt.updatedAt,
    outcome: "stalled",
    error: `worker ${attempt.worker} stopped during the attempt (killed, crashed or cut off from Redis)`,
    spend: attempt.spend,
  };
}

/** The running attempt in a job's progress, if there is one. */
export function runningAttemptOf(progress: unknown): RunningAttempt | undefined {
  if (typeof progress !== "object" || progress === null) return undefined;
  const attempt = (progress as JobProgressRecord).attempt;
  return typeof attempt === "object" && attempt !== null && typeof attempt.id === "string"
    ? attempt
    : undefined;
}

/**
 * The attempt records in a job's log lines (other lines are skipped), one per attempt id: a record
 * the attempt wrote itself wins over a `stalled` one written for it by the next attempt.
 */
export function attemptRecordsOf(lines: readonly string[]): AttemptRecord[] {
  const byId = new Map<string, AttemptRecord>();
  for (const line of lines) {
    let record: AttemptRecord | undefined;
    try {
      record = (JSON.parse(line) as Record<string, AttemptRecord | undefined>)[LOG_KEY];
    } catch {
      continue;
    }
    if (!record || typeof record.id !== "string") continue;
    const seen = byId.get(record.id);
    if (!seen || seen.outcome === "stalled") byId.set(record.id, record);
  }
  return [...byId.values()].sort((a, b) => a.attempt - b.attempt);
}
