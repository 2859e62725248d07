/**
 * Starts `rlm serve`'s HTTP server on @hono/node-server and stops it gracefully: `close()` stops
 * accepting, lets runs finish up to the drain timeout, cancels the rest (each still answers its client
 * and writes its trajectory), then closes the sockets.
 */
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import type { PathConfinement } from "../context/confine.ts";
import type { RlmQueue } from "../queue/index.ts";
import type { RLM } from "../rlm/rlm.ts";
import { ActiveRuns } from "./active-runs.ts";
import { Admission, type AdmissionLimits } from "./admission.ts";
import type { ApiKeys } from "./api-keys.ts";
import { createApp } from "./app.ts";
import { mountJobRoutes } from "./jobs-routes.ts";

export interface ServerOptions extends AdmissionLimits {
  rlm: RLM;
  keys: ApiKeys;
  /** @default "127.0.0.1" */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** @unit bytes */
  maxBodyBytes: number;
  confine?: PathConfinement | undefined;
  /** The queue `POST /v1/rlm/jobs` sends jobs to (`--redis`); without it the jobs routes answer 404. */
  jobs?: RlmQueue | undefined;
  log?: (line: string) => void;
}

export interface RlmServer {
  /** `http://HOST:PORT/v1`, the base URL an OpenAI client takes. */
  readonly url: string;
  readonly port: number;
  /** Resolves with the number of runs cancelled at the deadline. */
  close(drainTimeoutMs: number): Promise<number>;
}

/** Loopback names a keyless server may bind. */
const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export class ServerConfigError extends Error {
  override name = "ServerConfigError";
}

export async function startServer(options: ServerOptions): Promise<RlmServer> {
  const host = options.host ?? "127.0.0.1";
  if (!options.keys.required && !LOOPBACK.has(host))
    throw new ServerConfigError(
      `Refusing to listen on ${host} without API keys: anyone who can reach it could spend your model budget. ` +
        "Set RLM_SERVE_API_KEYS=key1,key2 (clients send Authorization: Bearer <key>), or keep --host 127.0.0.1.",
    );
  const runs = new ActiveRuns();
  const app = createApp({
    rlm: options.rlm,
    keys: options.keys,
    admission: new Admission(options),
    runs,
    maxBodyBytes: options.maxBodyBytes,
    confine: options.confine,
    ...(options.log ? { log: options.log } : {}),
  });
  mountJobRoutes(app, {
    jobs: options.jobs,
    maxBodyBytes: options.maxBodyBytes,
    ...(options.log ? { log: options.log } : {}),
  });
  const server = await new Promise<ServerType>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, hostname: host, port: options.port }, () => resolve(started));
    started.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new ServerConfigError(
          error.code === "EADDRINUSE"
            ? `Port ${options.port} on ${host} is in use: pick another with --port, or --port 0 for any free one.`
            : `Cannot listen on ${host}:${options.port}: ${error.message}`,
        ),
      ),
    );
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  let closing: Promise<number> | undefined;
  return {
    url: `http://${shownHost}:${port}/v1`,
    port,
    close(drainTimeoutMs) {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        const cancelled = await runs.drain(drainTimeoutMs);
        // Every run has ended and is writing its response; a socket still open after that is idle
        // keep-alive, or a client that stopped reading.
        const sockets = server as { closeIdleConnections?: () => void; closeAllConnections?: () => void };
        sockets.closeIdleConnections?.();
        const late = setTimeout(() => sockets.closeAllConnections?.(), 2000);
        await closed;
        clearTimeout(late);
        return cancelled;
      })();
      return closing;
    },
  };
}
