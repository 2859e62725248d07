/**
 * Standby guest hosts: a process that is done leaves a guest host process behind, booted and waiting on
 * a socket, and the next process with the same settings adopts it instead of forking its own, so its
 * first cell does not wait for a boot (~0.5 s here). A standby serves one adopter only, then exits with
 * it; nobody adopting it within its idle time, it exits alone. Sockets live in a folder only this user
 * may open (`0700`), named by a hash of everything that makes one host differ from another.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { serialize } from "node:v8";
import { readFrames, writeFrame } from "./frames.ts";
import type { FromStandby, StandbySpec, ToHost, ToStandby, WarmUp } from "./host-protocol.ts";

export interface StandbyOptions {
  /** The folder of standby sockets (made `0700`). */
  dir: string;
  /** How long a standby waits for its adopter. @unit milliseconds */
  idleMs: number;
}

/** Unix socket paths are limited to 108 bytes on Linux; past that there is no standby. */
const MAX_SOCKET_PATH = 100;
/** A standby that does not answer this soon is treated as absent. */
const ANSWER_MS = 1000;

/** The socket of the standby for hosts that differ in nothing listed in `identity`. */
export function standbySocket(options: StandbyOptions, identity: readonly unknown[]): string | undefined {
  const hash = createHash("sha256").update(JSON.stringify(identity)).digest("hex").slice(0, 20);
  const path = join(options.dir, `${hash}.sock`);
  return path.length <= MAX_SOCKET_PATH ? path : undefined;
}

/** A file's identity for `standbySocket`: a rebuilt engine must not adopt a host of the old code. */
export function fileStamp(path: string): string {
  const { mtimeMs, size } = statSync(path);
  return `${path}:${mtimeMs}:${size}`;
}

export interface Adopted {
  socket: Socket;
  pid: number;
  /** The folder the host reads contexts from. */
  dir: string;
  /** Where the host's later messages go (those that came before are delivered at once). */
  listen(onMessage: (message: unknown) => void): void;
}

/** Takes over the standby at `socketPath`, or resolves `undefined` when there is none to take. */
export async function adoptStandby(socketPath: string): Promise<Adopted | undefined> {
  if (!existsSync(socketPath)) return undefined;
  const exchanged = await exchange(socketPath, { type: "adopt" });
  if (!exchanged) return undefined;
  const { socket, reply, listen } = exchanged;
  if (reply.type !== "hello") {
    socket.destroy();
    return undefined;
  }
  return { socket, pid: reply.pid, dir: reply.dir, listen };
}

/**
 * Starts a standby host for the next process, unless one is already waiting at `socketPath`: `flags`
 * are the Node flags for a host that reads contexts from `dir`, `entry` its script, `start` the guest it
 * boots ahead. Returns without waiting for it; it holds nothing of this process open.
 */
export async function leaveStandby(options: {
  socketPath: string;
  idleMs: number;
  entry: string;
  flags: (dir: string) => string[];
  start: Extract<ToHost, { type: "start" }>;
  warmUp?: WarmUp | undefined;
}): Promise<void> {
  const folder = join(options.socketPath, "..");
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  chmodSync(folder, 0o700);
  if (existsSync(options.socketPath)) {
    const probed = await exchange(options.socketPath, { type: "probe" });
    probed?.socket.destroy();
    if (probed) return;
    rmSync(options.socketPath, { force: true }); // a standby that died without closing its socket
  }
  const dir = mkdtempSync(join(folder, "host-"));
  const spec: StandbySpec = {
    socketPath: options.socketPath,
    idleMs: options.idleMs,
    start: options.start,
    warmUp: options.warmUp,
  };
  writeFileSync(join(dir, "standby.json"), serialize(spec), { mode: 0o600 });
  const child = spawn(process.execPath, [...options.flags(dir), options.entry, "--standby", dir], {
    detached: true,
    stdio: "ignore",
    env: {},
  });
  child.on("error", () => rmSync(dir, { recursive: true, force: true }));
  child.unref();
}

interface Exchanged {
  socket: Socket;
  reply: FromStandby;
  listen: Adopted["listen"];
}

/** Sends the first message on a standby's socket and reads its answer. */
function exchange(socketPath: string, request: ToStandby): Promise<Exchanged | undefined> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    const give = (value: Exchanged | undefined) => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      if (!value) socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => give(undefined), ANSWER_MS);
    socket.once("error", () => give(undefined));
    socket.once("connect", () => writeFrame(socket, request));
    let answered = false;
    const early: unknown[] = [];
    let onMessage: ((message: unknown) => void) | undefined;
    const listen = (handler: (message: unknown) => void) => {
      onMessage = handler;
      for (const message of early.splice(0)) handler(message);
    };
    readFrames(socket, (message) => {
      if (answered) return onMessage ? onMessage(message) : void early.push(message);
      answered = true;
      give({ socket, reply: message as FromStandby, listen });
    });
  });
}
