/**
 * A guest whose interpreter is native CPython in a child process, spoken to over its stdin and stdout:
 * in production the child is `docker run ... python3` (or Podman's), so the interpreter is in a
 * container; tests also run the same REPL server with this machine's `python3`. The REPL server is
 * `repl_server.py`, sent at start with the Pyodide guest's prelude; this class knows nothing of
 * timeouts or restarts, which the sandbox decides (`GuestSandbox`).
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { chmodSync, rmSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { codePointLength, sliceCodePoints } from "../../code-points.ts";
import { messageOf, SandboxError } from "../../errors.ts";
import { writeContextFile, type EncodedContext } from "../encode-context.ts";
import type { CollectedOutput } from "../output-collector.ts";
import type { HostCallReply, ToolSignature } from "../sandbox.ts";
import type { Guest, GuestBootInfo, RawHostCallHandler } from "../guest/guest.ts";
import { trackGuest } from "../guest/live-guests.ts";
import type { CellOutcome, CellSummary } from "../guest/protocol.ts";
import { readJsonLines } from "./json-lines.ts";

export interface ContainerGuestOptions {
  /** The program that runs the REPL server on its stdio: the engine (`docker`), or `python3`. */
  command: string;
  /** Its arguments, ending in `PYTHON_COMMAND` (see `container-args.ts`). */
  args: readonly string[];
  /** `repl_server.py` and the prelude it runs. */
  serverSource: string;
  preludeSource: string;
  /**
   * Contexts by file: written to `hostDir`, which the server sees as `guestDir` (a read-only mount);
   * `hostDir` is removed when the guest ends. Without it, contexts are sent over stdin.
   */
  contextFiles?: { hostDir: string; guestDir: string } | undefined;
  /** Stops the interpreter for good, wherever it runs (`docker kill NAME`); the child is killed too. */
  kill?: () => Promise<void>;
  /** The container's memory cap, named when the kernel kills it (exit code 137). @unit megabytes */
  memoryMb?: number;
  /** Added to a failure to start: how to get the image, say. */
  hint?: string;
  /** Boot without holding the process open (a spare nobody waits for yet). */
  background?: boolean;
}

interface Pending {
  resolve: (message: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

/** The cell running now: its id, who serves its host calls, and the calls being served. */
interface Cell {
  id: number;
  onHostCall: RawHostCallHandler;
  controller: AbortController;
  serving: Set<Promise<void>>;
}

/** What is kept of the child's stderr for error messages. @unit characters */
const STDERR_TAIL = 4000;
/** How long `terminate` waits for the child to go before killing it. @unit milliseconds */
const EXIT_WAIT_MS = 10_000;

export class ContainerGuest implements Guest {
  readonly ready: Promise<GuestBootInfo>;
  readonly #child: ChildProcessByStdio<Writable, Readable, Readable>;
  readonly #options: ContainerGuestOptions;
  readonly #pending = new Map<number, Pending>();
  readonly #untrack = trackGuest();
  readonly #closed: Promise<void>;
  #cell: Cell | undefined;
  #nextId = 0;
  #stderr = "";
  #booted = false;
  #exited: Error | undefined;
  #holds = 0;

  constructor(options: ContainerGuestOptions) {
    this.#options = options;
    const started = performance.now();
    // A process group of its own: a Ctrl-C at the terminal is the engine's to handle (it cancels the
    // run, which closes this guest), not the engine client's to forward into the container.
    // Run from the temporary folder: Podman's conmon writes an `oom` marker into its working folder
    // when the kernel kills a container at its memory cap, and the user's folder is no place for it.
    this.#child = spawn(options.command, [...options.args], {
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
      cwd: tmpdir(),
    });
    const child = this.#child;
    this.#closed = new Promise((resolve) => child.once("close", () => resolve()));
    this.ready = new Promise<GuestBootInfo>((resolve, reject) => {
      this.#pending.set(0, {
        resolve: () => {
          this.#booted = true;
          resolve({ bootMs: performance.now() - started, fromSnapshot: false, sessions: false });
        },
        reject,
      });
    });
    this.ready.catch(() => {}); // observed by whoever awaits it
    child.stdin.on("error", () => {}); // a broken pipe: the child's exit says why
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-STDERR_TAIL);
    });
    readJsonLines(
      child.stdout,
      (message) => this.#onMessage(message),
      (error) => {
        this.#fail(new SandboxError(`The container guest broke its protocol: ${error.message}`));
        void this.terminate();
      },
    );
    child.once("error", (error) =>
      this.#fail(new SandboxError(`Could not run \`${options.command}\`: ${error.message}.${this.#hint()}`)),
    );
    child.once("close", (code, signal) => {
      this.#untrack();
      if (options.contextFiles) rmSync(options.contextFiles.hostDir, { recursive: true, force: true });
      const cap = options.memoryMb ? ` of ${options.memoryMb} MB` : "";
      const how = signal
        ? `was killed (${signal})`
        : `exited (code ${code}${code === 137 ? `: killed, most likely at its memory cap${cap}` : ""})`;
      const said = this.#stderr.trim() ? `: ${this.#stderr.trim()}` : "";
      this.#fail(
        new SandboxError(
          this.#booted
            ? `The container guest ${how}${said}`
            : `The container guest failed to start: \`${options.command}\` ${how}${said}.${this.#hint()}`,
        ),
      );
    });
    const server = Buffer.from(options.serverSource, "utf8");
    const prelude = Buffer.from(options.preludeSource, "utf8");
    child.stdin.write(String(server.byteLength).padStart(10, "0"));
    child.stdin.write(server);
    this.#send({ type: "boot", bytes: prelude.byteLength }, prelude);
    this.#unref();
    if (!options.background) void this.keepAliveWhile(this.ready).catch(() => {});
  }

  async load(
    encoded: EncodedContext,
    session = 0,
    seed: number | null = null,
    name = "context",
  ): Promise<void> {
    const message = { type: "load", session, kind: encoded.kind, seed, name };
    let reply: Record<string, unknown>;
    const files = this.#options.contextFiles;
    if (files) {
      // A random name: the folder may be entered by others (see `container-runtime.ts`), never listed.
      const file = `${randomUUID()}.${encoded.kind === "text" ? "txt" : "json"}`;
      const hostPath = join(files.hostDir, file);
      writeContextFile(hostPath, encoded);
      try {
        // The container's user is not this process's: it reads through the read-only mount.
        chmodSync(hostPath, 0o644);
        reply = await this.#request({ ...message, path: `${files.guestDir}/${file}` });
      } finally {
        try {
          unlinkSync(hostPath);
        } catch {
          // the folder went with the guest
        }
      }
    } else {
      const bytes = encoded.bytes();
      reply = await this.#request({ ...message, bytes: bytes.byteLength }, bytes);
    }
    if (reply.type !== "loaded")
      throw new SandboxError(`Loading the context into the container guest failed: ${String(reply.message)}`);
  }

  async execute(
    code: string,
    maxOutputChars: number,
    onHostCall: RawHostCallHandler,
    session = 0,
    typedAnswer = false,
  ): Promise<CellOutcome> {
    if (this.#cell) throw new SandboxError("The container guest already runs a cell.");
    const id = ++this.#nextId;
    const cell: Cell = { id, onHostCall, controller: new AbortController(), serving: new Set() };
    this.#cell = cell;
    try {
      const reply = await this.#request(
        { type: "execute", session, code, maxOutputChars, typedAnswer },
        undefined,
        id,
      );
      return outcomeOf(reply, maxOutputChars);
    } finally {
      this.#cell = undefined;
      // A cell's host calls (a child run, say) are cancelled with it, and it is over when they are.
      cell.controller.abort();
      while (cell.serving.size > 0) await Promise.allSettled([...cell.serving]);
    }
  }

  interrupt(): void {
    const cell = this.#cell;
    if (!cell) return;
    cell.controller.abort();
    this.#send({ type: "interrupt", cell: cell.id });
  }

  dropSession(session: number): void {
    this.#send({ type: "drop", session });
  }

  newQuestion(session = 0): void {
    this.#send({ type: "new-question", session });
  }

  defineTools(tools: readonly ToolSignature[], session = 0): void {
    this.#send({ type: "define-tools", session, tools: [...tools] });
  }

  async keepAliveWhile<T>(work: Promise<T>): Promise<T> {
    if (this.#holds++ === 0) this.#ref();
    try {
      return await work;
    } finally {
      if (--this.#holds === 0) this.#unref();
    }
  }

  get alive(): boolean {
    return this.#exited === undefined;
  }

  async terminate(): Promise<void> {
    this.#fail(new SandboxError("The container guest was closed."));
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return this.#closed;
    await this.keepAliveWhile(
      (async () => {
        // The end of stdin ends the server, whatever its cell does; the kill stops one that holds the GIL.
        this.#child.stdin.end();
        await this.#options.kill?.().catch(() => {});
        const timer = setTimeout(() => this.#child.kill("SIGKILL"), EXIT_WAIT_MS);
        try {
          await this.#closed;
        } finally {
          clearTimeout(timer);
        }
      })(),
    );
  }

  #onMessage(message: Record<string, unknown>): void {
    if (message.type === "call") return this.#serve(message);
    const id = message.type === "ready" ? 0 : message.id;
    if (typeof id !== "number") return;
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    pending?.resolve(message);
  }

  #serve(message: Record<string, unknown>): void {
    const cell = this.#cell;
    const call = message.call;
    if (typeof call !== "number") return;
    const reply = (value: HostCallReply) => this.#send({ type: "reply", call, reply: value });
    if (!cell || cell.id !== message.cell || typeof message.request !== "string") {
      reply({ ok: false, error: "Host calls are only available while a cell runs." });
      return;
    }
    const served: Promise<void> = cell
      .onHostCall(message.request, cell.controller.signal)
      .catch((error: unknown): HostCallReply => ({ ok: false, error: messageOf(error) }))
      .then(reply)
      .finally(() => cell.serving.delete(served));
    cell.serving.add(served);
  }

  #request(
    message: Record<string, unknown>,
    payload?: Uint8Array,
    id = ++this.#nextId,
  ): Promise<Record<string, unknown>> {
    if (this.#exited) return Promise.reject(this.#exited);
    return this.keepAliveWhile(
      new Promise((resolve, reject) => {
        this.#pending.set(id, { resolve, reject });
        this.#send({ ...message, id }, payload);
      }),
    );
  }

  #send(message: Record<string, unknown>, payload?: Uint8Array): void {
    if (this.#exited && message.type !== "boot") return;
    const stdin = this.#child.stdin;
    if (stdin.destroyed || stdin.writableEnded) return;
    stdin.write(`${JSON.stringify(message)}\n`);
    if (payload) stdin.write(payload);
  }

  #hint(): string {
    return this.#options.hint ? ` ${this.#options.hint}` : "";
  }

  #ref(): void {
    for (const handle of [this.#child, this.#child.stdin, this.#child.stdout, this.#child.stderr])
      (handle as unknown as { ref?: () => void }).ref?.();
  }

  #unref(): void {
    for (const handle of [this.#child, this.#child.stdin, this.#child.stdout, this.#child.stderr])
      (handle as unknown as { unref?: () => void }).unref?.();
  }

  #fail(error: Error): void {
    if (this.#exited) return;
    this.#exited = error;
    this.#cell?.controller.abort();
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

/** The `executed` message as the sandbox takes it; anything else means the guest is broken. */
function outcomeOf(reply: Record<string, unknown>, maxOutputChars: number): CellOutcome {
  const summary = reply.summary as CellSummary | undefined;
  if (
    reply.type !== "executed" ||
    typeof summary !== "object" ||
    summary === null ||
    !Array.isArray(summary.notes)
  )
    throw new SandboxError(`Unexpected reply from the container guest: ${String(reply.type)}`);
  return {
    summary,
    stdout: output(reply.stdout, maxOutputChars),
    stderr: output(reply.stderr, maxOutputChars),
  };
}

/** A stream's output, held to the limit here too: the guest cuts it, but it is not trusted to. */
function output(value: unknown, limit: number): CollectedOutput {
  const { text, totalChars } = (value ?? {}) as Partial<CollectedOutput>;
  if (typeof text !== "string" || typeof totalChars !== "number")
    throw new SandboxError("The container guest sent a cell's output in the wrong shape.");
  const kept = codePointLength(text) > limit ? sliceCodePoints(text, limit) : text;
  return { text: kept, totalChars: Math.max(totalChars, codePointLength(kept)) };
}
