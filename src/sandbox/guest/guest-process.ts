/**
 * Entry of a guest child process. It runs under Node's permission model (see `permissions.ts`) with an
 * empty environment, boots the language's worker, and relays between the engine (IPC) and the worker.
 * It decides nothing: timeouts, restarts and the meaning of host calls stay with the engine.
 */
import { messageOf } from "../../errors.ts";
import type { HostCallReply } from "../sandbox.ts";
import type { FromChild, ToChild } from "./process-protocol.ts";
import { WorkerGuest } from "./worker-guest.ts";

const send = (message: FromChild) => process.send?.(message);
const pendingCalls = new Map<number, (reply: HostCallReply) => void>();
let nextCallId = 0;
let guest: WorkerGuest | undefined;

process.on("message", (message: ToChild) => {
  void handle(message).catch((error: unknown) => {
    if ("id" in message) send({ type: "failed", id: message.id, message: messageOf(error) });
  });
});
// The engine is gone: so is the reason to live.
process.on("disconnect", () => process.exit(0));

async function handle(message: ToChild): Promise<void> {
  switch (message.type) {
    case "boot": {
      guest = new WorkerGuest({
        workerUrl: new URL(message.workerUrl),
        init: message.init,
        label: message.label,
        maxHeapMb: message.workerHeapMb,
        onSnapshot: (bytes) => send({ type: "snapshot", bytes }),
      });
      guest.ready.then(
        (info) => send({ type: "ready", ...info }),
        (error: unknown) => send({ type: "boot-failed", message: messageOf(error) }),
      );
      return;
    }
    case "load": {
      await current().loadFile(message.path, message.kind);
      send({ type: "loaded", id: message.id });
      return;
    }
    case "execute": {
      const outcome = await current().execute(message.code, message.maxOutputChars, (request, signal) => {
        const callId = ++nextCallId;
        send({ type: "host-call", callId, request });
        signal.addEventListener("abort", () => send({ type: "host-cancel", callId }), { once: true });
        return new Promise<HostCallReply>((resolve) => pendingCalls.set(callId, resolve));
      });
      send({ type: "executed", id: message.id, outcome });
      return;
    }
    case "host-reply":
      pendingCalls.get(message.callId)?.(message.reply);
      pendingCalls.delete(message.callId);
      return;
    case "interrupt":
      guest?.interrupt();
      return;
  }
}

function current(): WorkerGuest {
  if (!guest) throw new Error("The guest process got work before it was booted.");
  return guest;
}
