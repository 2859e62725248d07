/**
 * Messages over a stream socket, framed as a 4-byte length and a V8-serialized value: the same
 * structured-clone values Node's IPC carries with `serialization: "advanced"`, for a guest host process
 * that was not forked by the engine talking to it (a standby host, see `standby.ts`).
 */
import type { Socket } from "node:net";
import { deserialize, serialize } from "node:v8";

const LENGTH_BYTES = 4;
/** Larger frames mean a confused peer, not a message. */
const MAX_FRAME_BYTES = 1 << 30;

export function writeFrame(socket: Socket, message: unknown): void {
  const body = serialize(message);
  const header = Buffer.allocUnsafe(LENGTH_BYTES);
  header.writeUInt32LE(body.byteLength);
  socket.write(Buffer.concat([header, body]));
}

/** Calls `onMessage` with each whole message `socket` receives; a malformed stream destroys it. */
export function readFrames(socket: Socket, onMessage: (message: unknown) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buffered = buffered.byteLength === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.byteLength >= LENGTH_BYTES) {
      const length = buffered.readUInt32LE(0);
      if (length > MAX_FRAME_BYTES) {
        socket.destroy(
          new Error(`A frame of ${length} bytes is over the limit: the peer is not a guest host.`),
        );
        return;
      }
      if (buffered.byteLength < LENGTH_BYTES + length) return;
      const body = buffered.subarray(LENGTH_BYTES, LENGTH_BYTES + length);
      buffered = buffered.subarray(LENGTH_BYTES + length);
      let message: unknown;
      try {
        message = deserialize(body);
      } catch (error) {
        socket.destroy(error as Error);
        return;
      }
      onMessage(message);
    }
  });
}
