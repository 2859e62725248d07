/**
 * What starts guests of one language: a pool of spares over a boot function. One runtime per language
 * and settings is shared by every RLM in a process.
 */
import type { Guest } from "./guest.ts";
import type { StandbyOptions } from "./standby.ts";

export interface GuestRuntimeOptions {
  /** Folder for start-up caches (Python snapshots); none when absent. */
  cacheDir?: string | undefined;
  /**
   * Guests kept booted and idle, ready for the next run.
   * @default 0
   */
  spares?: number;
  /**
   * `process`: each guest runs in a child process under Node's permission model (the default).
   * `thread`: on a worker thread of this process; faster to start, but no process boundary.
   * @default "process"
   */
  isolation?: "process" | "thread";
  /**
   * Memory a guest may use before it is killed and replaced (process isolation), or its JS heap cap.
   * @default 2048
   * @unit megabytes
   */
  memoryMb?: number;
  /**
   * Process isolation: adopt a standby guest host left by an earlier process with these settings, and
   * let `leaveStandby()` leave one for the next (see `standby.ts`). Off when absent.
   */
  standby?: StandbyOptions | undefined;
}

export interface GuestRuntime {
  /** A booted guest. The caller owns it and must terminate it. An abort of `signal` stops a boot. */
  acquire(signal?: AbortSignal): Promise<Guest>;
  /** Boots guests until `count` are idle or booting; those taken are not replaced (see `spares`). */
  prewarm(count: number): void;
  /** Resolves once every spare under way has booted or failed. */
  warm(): Promise<void>;
  /** Terminates idle spares. */
  close(): Promise<void>;
  /** With the `standby` option: leaves a booted guest host for the next process (the CLI, as it ends). */
  leaveStandby(): Promise<void>;
}
