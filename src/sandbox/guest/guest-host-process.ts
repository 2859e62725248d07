/**
 * Entry of a guest host process. It runs under Node's permission model (see `permissions.ts`) with an
 * empty environment and holds many guests, each an interpreter on a worker thread of its own. It reads
 * the files guests share (Pyodide's wasm, its snapshot) once and hands them to every worker, so a new
 * guest costs a thread, not a process. It relays between the engine and the workers and decides
 * nothing: timeouts, restarts and the meaning of host calls stay with the engine.
 *
 * Forked by the engine, it talks over the IPC channel and lives as long as that channel. Started as a
 * standby (`--standby FOLDER`), it boots one guest ahead, listens on a socket for the one process that
 * adopts it, serves that process alone, and exits when it leaves or when nobody came in time.
 */
import { readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { deserialize } from "node:v8";
import { messageOf } from "../../errors.ts";
import type { HostCallReply } from "../sandbox.ts";
import { readFrames, writeFrame } from "./frames.ts";
import type {
  FromHost,
  FromStandby,
  SharedFiles,
  StandbySpec,
  ToHost,
  ToStandby,
  WarmUp,
} from "./host-protocol.ts";
import { WorkerGuest } from "./worker-guest.ts";

type Start = Extract<ToHost, { type: "start" }>;

/** A guest of this process. Its id is the engine's name for it; a standby guest gets one when claimed. */
interface Entry {
  worker: Promise<WorkerGuest>;
  id: number | undefined;
  /** Messages about it from before it had an id (its boot's outcome), replayed when it gets one. */
  held: FromHost[];
}

/** Guests by id; a guest is here from its start message on, while its shared files are read. */
const guests = new Map<number, Entry>();
const pendingCalls = new Map<number, (reply: HostCallReply) => void>();
const sharedBytes = new Map<string, Uint8Array>();
const sharedWasm = new Map<string, Promise<{ module: WebAssembly.Module; byteLength: number }>>();
let nextCallId = 0;
/** Where messages to the engine go: the IPC channel, or the adopter's socket. */
let send: (message: FromHost) => void = (message) => void process.send?.(message);
/** The guest a standby host booted ahead, and the settings it was booted with. */
let standby: { entry: Entry; key: string } | undefined;

const standbyAt = process.argv.indexOf("--standby");
if (standbyAt === -1) {
  process.on("message", receive);
  // The engine is gone: so is the reason to live.
  process.on("disconnect", () => process.exit(0));
} else {
  serveStandby(process.argv[standbyAt + 1] ?? "");
}

function receive(message: ToHost): void {
  void handle(message).catch((error: unknown) => {
    if ("id" in message)
      send({ type: "failed", guest: message.guest, id: message.id, message: messageOf(error) });
  });
}

async function handle(message: ToHost): Promise<void> {
  switch (message.type) {
    case "start":
      return start(message);
    case "load": {
      const guest = await guestOf(message.guest);
      await guest.loadFile(message.path, message.kind, message.session, message.seed, message.name);
      send({ type: "loaded", guest: message.guest, id: message.id });
      return;
    }
    case "execute": {
      const { guest, id } = message;
      const outcome = await (
        await guestOf(guest)
      ).execute(
        message.code,
        message.maxOutputChars,
        (request, signal) => {
          const callId = ++nextCallId;
          send({ type: "host-call", guest, id, callId, request });
          signal.addEventListener("abort", () => send({ type: "host-cancel", guest, callId }), {
            once: true,
          });
          return new Promise<HostCallReply>((resolve) => pendingCalls.set(callId, resolve));
        },
        message.session,
        message.typedAnswer === true,
      );
      send({ type: "executed", guest, id, outcome });
      return;
    }
    case "host-reply":
      pendingCalls.get(message.callId)?.(message.reply);
      pendingCalls.delete(message.callId);
      return;
    case "interrupt":
      (await guests.get(message.guest)?.worker)?.interrupt(message.session);
      return;
    case "drop":
      (await guests.get(message.guest)?.worker)?.dropSession(message.session);
      return;
    case "new-question":
      (await guests.get(message.guest)?.worker)?.newQuestion(message.session);
      return;
    case "define-tools":
      (await guests.get(message.guest)?.worker)?.defineTools(message.tools, message.session);
      return;
    case "stop": {
      const entry = guests.get(message.guest);
      guests.delete(message.guest);
      const worker = await entry?.worker.catch(() => undefined);
      if (worker) await worker.terminate();
      else send({ type: "exited", guest: message.guest, message: "stopped" });
      return;
    }
  }
}

function start(message: Start): Promise<void> {
  const claimed = claimStandby(message);
  if (claimed) return Promise.resolve();
  const entry = boot(message, message.guest);
  guests.set(message.guest, entry);
  return entry.worker.then(
    () => {},
    () => void guests.delete(message.guest),
  );
}

/** Boots a guest; its messages go out under `id`, or wait for one (a standby guest). */
function boot(message: Start, id: number | undefined): Entry {
  const entry: Entry = { id, held: [], worker: undefined as unknown as Promise<WorkerGuest> };
  const emit = (event: FromHost) => {
    if (entry.id === undefined) entry.held.push(event);
    else send({ ...event, guest: entry.id });
  };
  entry.worker = (async () => {
    const init = { ...message.init, ...(await sharedInit(message.shared)) };
    return new WorkerGuest({
      workerUrl: new URL(message.workerUrl),
      init,
      label: message.label,
      maxHeapMb: message.heapMb,
      onSnapshot: (bytes) => emit({ type: "snapshot", guest: 0, bytes }),
      onExit: (reason) => {
        if (entry.id !== undefined) guests.delete(entry.id);
        emit({ type: "exited", guest: 0, message: reason });
      },
    });
  })();
  entry.worker.then(
    (worker) =>
      worker.ready.then(
        (info) => emit({ type: "ready", guest: 0, ...info }),
        (error: unknown) => emit({ type: "boot-failed", guest: 0, message: messageOf(error) }),
      ),
    (error: unknown) => emit({ type: "boot-failed", guest: 0, message: messageOf(error) }),
  );
  return entry;
}

/** Gives the standby guest to the adopter's first start when its settings are the same. */
function claimStandby(message: Start): boolean {
  const waiting = standby;
  standby = undefined;
  if (!waiting) return false;
  const failed = waiting.entry.held.some((event) => event.type === "exited" || event.type === "boot-failed");
  if (failed || waiting.key !== startKey(message)) {
    // Booted for other settings: nobody will use it.
    void waiting.entry.worker.then((worker) => worker.terminate()).catch(() => {});
    return false;
  }
  const { entry } = waiting;
  entry.id = message.guest;
  guests.set(message.guest, entry);
  for (const event of entry.held.splice(0)) send({ ...event, guest: message.guest });
  return true;
}

/** Two starts with the same key boot the same guest; a rebuilt worker script is a different one. */
function startKey(message: Start): string {
  const { mtimeMs, size } = statSync(new URL(message.workerUrl));
  const { workerUrl, label, init, shared, heapMb } = message;
  return JSON.stringify([workerUrl, mtimeMs, size, label, init, shared, heapMb]);
}

/** The shared files a guest's settings name, read (or compiled) once for the life of this process. */
async function sharedInit(shared: SharedFiles): Promise<Record<string, unknown>> {
  const init: Record<string, unknown> = {};
  for (const [key, path] of Object.entries(shared.bytes ?? {})) {
    // A file made again (a snapshot that would not restore, replaced) is read again.
    const { mtimeMs, size } = statSync(path);
    const version = `${path}\0${mtimeMs}\0${size}`;
    let bytes = sharedBytes.get(version);
    if (!bytes) {
      const read = readFileSync(path);
      bytes = new Uint8Array(new SharedArrayBuffer(read.byteLength));
      bytes.set(read);
      sharedBytes.clear();
      sharedBytes.set(version, bytes);
    }
    init[key] = bytes;
  }
  for (const [key, path] of Object.entries(shared.wasm ?? {})) {
    let wasm = sharedWasm.get(path);
    if (!wasm) {
      wasm = (async () => {
        const bytes = readFileSync(path);
        return { module: await WebAssembly.compile(bytes), byteLength: bytes.byteLength };
      })();
      sharedWasm.set(path, wasm);
      wasm.catch(() => sharedWasm.delete(path));
    }
    init[key] = await wasm;
  }
  return init;
}

function guestOf(id: number): Promise<WorkerGuest> {
  const entry = guests.get(id);
  if (!entry) throw new Error(`The guest host has no guest ${id}: it exited or was never started.`);
  return entry.worker;
}

/**
 * A standby host: boots the guest its spec names, listens on the spec's socket, and gives itself to the
 * first process that adopts it. Probes are answered and change nothing.
 */
function serveStandby(dir: string): void {
  const specFile = join(dir, "standby.json");
  const spec = deserialize(readFileSync(specFile)) as StandbySpec;
  rmSync(specFile, { force: true });
  const leave = () => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  standby = { entry: boot(spec.start, undefined), key: startKey(spec.start) };
  if (spec.warmUp) void warmUp(standby.entry, spec.warmUp);
  const idle = setTimeout(() => server.close(leave), spec.idleMs);
  let adopted = false;
  const server = createServer((socket: Socket) => {
    let first = true;
    let mine = false;
    readFrames(socket, (frame) => {
      if (mine) return receive(frame as ToHost);
      if (!first) return;
      first = false;
      const request = frame as ToStandby;
      const answer = (reply: FromStandby) => writeFrame(socket, reply);
      if (request.type === "probe") return void (answer({ type: "alive" }), socket.end());
      if (adopted) return void (answer({ type: "taken" }), socket.end());
      adopted = mine = true;
      clearTimeout(idle);
      server.close();
      send = (message) => writeFrame(socket, message);
      answer({ type: "hello", pid: process.pid, dir });
      socket.on("close", leave);
    });
    socket.on("error", () => socket.destroy());
  });
  server.on("error", () => leave());
  server.listen(spec.socketPath);
}

/** A session id the engine never hands out (it counts up from 1 per guest). */
const WARM_UP_SESSION = 2 ** 31 - 1;

/** Runs the standby's warm-up cells until they are done or the guest is claimed (see `WarmUp`). */
async function warmUp(entry: Entry, { code, cells }: WarmUp): Promise<void> {
  try {
    const worker = await entry.worker;
    // Only in a session of its own, dropped after: its variables must not reach the adopter.
    if (!(await worker.ready).sessions) return;
    const refuse = () => Promise.resolve<HostCallReply>({ ok: false, error: "not while warming up" });
    for (let cell = 0; cell < cells && entry.id === undefined; cell++)
      await worker.execute(code, 1000, refuse, WARM_UP_SESSION);
    worker.dropSession(WARM_UP_SESSION);
  } catch {
    // A guest that fails here fails its adopter's first cell the same way, with the reason.
  }
}
