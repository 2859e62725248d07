import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { test } from "node:test";
import { HttpConnectionError, postJson } from "./post-json.ts";

const reply = (body: string) =>
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: keep-alive\r\n\r\n${body}`;

/**
 * A server that answers the first request on each connection and resets the connection when a second
 * one arrives on it: what a server closing an idle kept-alive connection looks like to a client that
 * reuses it at that moment. `resetEvery: true` resets even first requests on new connections.
 */
async function flakyServer(resetEvery = false) {
  let connections = 0;
  let answered = 0;
  const open = new Set<Socket>();
  const server = createServer((socket: Socket) => {
    connections++;
    open.add(socket);
    socket.on("close", () => open.delete(socket));
    let served = 0;
    socket.on("data", (chunk) => {
      if (!chunk.toString().includes("\r\n\r\n")) return;
      if (served++ > 0 || resetEvery) {
        socket.resetAndDestroy();
        return;
      }
      answered++;
      socket.write(reply(JSON.stringify({ n: answered })));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: new URL(`http://127.0.0.1:${port}/v1/chat/completions`),
    stats: () => ({ connections, answered }),
    // The client keeps its connection alive: end it from this side so the server can close.
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const options = { headers: {}, timeoutMs: 5000 };

test("a kept-alive socket reset on reuse is sent again at once on a new connection", async (t) => {
  const server = await flakyServer();
  t.after(() => server.close());
  assert.equal((await postJson(server.url, "{}", options)).text, '{"n":1}');
  // The second request reuses the first connection, which the server resets.
  const second = await postJson(server.url, "{}", options);
  assert.equal(second.status, 200);
  assert.equal(second.text, '{"n":2}');
  assert.deepEqual(server.stats(), { connections: 2, answered: 2 });
});

test("a reset on a new connection is a connection error, not resent", async (t) => {
  const server = await flakyServer(true);
  t.after(() => server.close());
  await assert.rejects(postJson(server.url, "{}", options), (error: unknown) => {
    assert.ok(error instanceof HttpConnectionError);
    return true;
  });
  assert.equal(server.stats().answered, 0);
});
