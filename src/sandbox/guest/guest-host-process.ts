/**
 * Entry of a guest host process. It runs under Node's permission model (see `permissions.ts`) with an
 * empty environment and holds many guests, each an interpreter on a worker thread of its own. It reads
 * the files guests share (Pyodide's wasm, its snapshot) once and hands them to every worker, so a new
 * guest costs a thread, not a process. It relays between the engine (IPC) and the workers and decides
 * nothing: timeouts, restarts and the meaning of host calls stay with the engine.
 */
import { readFileSync, statSync } from "node:fs";
import { messageOf } from "../../errors.ts";
import type { HostCallReply } from "../sandbox.ts";
import type { FromHost, SharedFiles, ToHost } from "./host-protocol.ts";
import { WorkerGuest } from "./worker-guest.ts";

const send = (message: FromHost): void => void process.send?.(message);
/** Guests by id; a guest is here from its start message on, while its shared files are read. */
const guests = new Map<number, Promise<WorkerGuest>>();
const pendingCalls = new Map<number, (reply: HostCallReply) => void>();
const sharedBytes = new Map<string, Uint8Array>();
const sharedWasm = new Map<string, Promise<{ module: WebAssembly.Module; byteLength: number }>>();
let nextCallId = 0;

process.on("message", (message: ToHost) => {
  void handle(message).catch((error: unknown) => {
    if ("id" in message)
      send({ type: "failed", guest: message.guest, id: message.id, message: messageOf(error) });
  });
});
// The engine is gone: so is the reason to live.
process.on("disconnect", () => process.exit(0));

async function handle(message: ToHost): Promise<void> {
  switch (message.type) {
    case "start":
      return start(message);
    case "load": {
      await (await guestOf(message.guest)).loadFile(message.path, message.kind, message.session);
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
      );
      send({ type: "executed", guest, id, outcome });
      return;
    }
    case "host-reply":
      pendingCalls.get(message.callId)?.(message.reply);
      pendingCalls.delete(message.callId);
      return;
    case "interrupt":
      (await guests.get(message.guest))?.interrupt(message.session);
      return;
    case "drop":
      (await guests.get(message.guest))?.dropSession(message.session);
      return;
    case "stop": {
      const guest = guests.get(message.guest);
      guests.delete(message.guest);
      const worker = await guest?.catch(() => undefined);
      if (worker) await worker.terminate();
      else send({ type: "exited", guest: message.guest, message: "stopped" });
      return;
    }
  }
}

function start(message: Extract<ToHost, { type: "start" }>): Promise<void> {
  const guest = boot(message);
  guests.set(message.guest, guest);
  return guest.then(
    (worker) =>
      worker.ready.then(
        (info) => send({ type: "ready", guest: message.guest, ...info }),
        (error: unknown) => send({ type: "boot-failed", guest: message.guest, message: messageOf(error) }),
      ),
    (error: unknown) => {
      guests.delete(message.guest);
      send({ type: "boot-failed", guest: message.guest, message: messageOf(error) });
    },
  );
}

async function boot(message: Extract<ToHost, { type: "start" }>): Promise<WorkerGuest> {
  const init = { ...message.init, ...(await sharedInit(message.shared)) };
  return new WorkerGuest({
    workerUrl: new URL(message.workerUrl),
    init,
    label: message.label,
    maxHeapMb: message.heapMb,
    onSnapshot: (bytes) => send({ type: "snapshot", guest: message.guest, bytes }),
    onExit: (reason) => {
      guests.delete(message.guest);
      send({ type: "exited", guest: message.guest, message: reason });
    },
  });
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
  const guest = guests.get(id);
  if (!guest) throw new Error(`The guest host has no guest ${id}: it exited or was never started.`);
  return guest;
}
