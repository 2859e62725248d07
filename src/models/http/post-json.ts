/**
 * One JSON POST to a model provider, over `node:http`/`node:https` with kept-alive connections. The
 * engine's hot path makes one of these per turn, and Node's `fetch` (undici, WHATWG streams) cost ~1 ms
 * per request once warm and ~20 ms on first use where this costs ~0.4 ms and ~9 ms (issue 10,
 * `benchmarks/cli.ts`). A caller-supplied `fetch` (proxies, tests) replaces the transport.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

export interface HttpReply {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  text: string;
}

export interface PostOptions {
  headers: Record<string, string>;
  /** The attempt fails with `HttpTimeoutError` after this long without a complete reply. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Used instead of `node:http` when given. */
  fetch?: typeof fetch | undefined;
  /**
   * Receives a successful (2xx) reply's body as it arrives, for streamed replies; the whole text is
   * still in the result. The attempt's timeout then bounds the time between pieces, not the whole reply.
   */
  onText?: ((text: string) => void) | undefined;
}

/** No complete reply within the attempt's time. */
export class HttpTimeoutError extends Error {
  override readonly name = "HttpTimeoutError";
}

/** The request never got an HTTP reply: refused, reset, DNS, TLS. */
export class HttpConnectionError extends Error {
  override readonly name = "HttpConnectionError";
}

/** The caller's signal fired; `cause` is its reason. */
export class HttpAbortError extends Error {
  override readonly name = "HttpAbortError";
}

/** A reply with a failing status, for callers that treat it as a failed attempt. */
export class HttpStatusError extends Error {
  override readonly name = "HttpStatusError";
  readonly reply: HttpReply;

  constructor(reply: HttpReply) {
    super(`HTTP ${reply.status}`);
    this.reply = reply;
  }
}

const agents = {
  "http:": new HttpAgent({ keepAlive: true }),
  "https:": new HttpsAgent({ keepAlive: true }),
};

export function postJson(url: URL, body: string, options: PostOptions): Promise<HttpReply> {
  if (options.signal?.aborted)
    return Promise.reject(new HttpAbortError("aborted", { cause: options.signal.reason }));
  return options.fetch ? viaFetch(options.fetch, url, body, options) : viaNode(url, body, options);
}

/** A kept-alive socket the server closed while idle fails on reuse with one of these, before any reply. */
const STALE_SOCKET = new Set(["ECONNRESET", "EPIPE"]);

/**
 * `fresh`: this attempt is already the resend of one that met a stale kept-alive socket. A server may
 * close an idle connection just as the client reuses it; the request never reached it, so it is sent
 * again at once on a new connection (what Node's documentation advises with `reusedSocket`), rather
 * than failing the call or waiting for the retry policy's backoff.
 */
function viaNode(url: URL, body: string, options: PostOptions, fresh = false): Promise<HttpReply> {
  const secure = url.protocol === "https:";
  if (!secure && url.protocol !== "http:")
    return Promise.reject(new HttpConnectionError(`unsupported protocol ${url.protocol}`));
  return new Promise<HttpReply>((resolve, reject) => {
    let settled = false;
    let responded = false;
    const finish = (error: Error | undefined, reply?: HttpReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      if (error) {
        request.destroy();
        reject(error);
      } else resolve(reply as HttpReply);
    };
    const onAbort = () => finish(new HttpAbortError("aborted", { cause: options.signal?.reason }));
    const timeout = () => finish(new HttpTimeoutError(`no reply within ${options.timeoutMs} ms`));
    let timer = setTimeout(timeout, options.timeoutMs);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const send = secure ? httpsRequest : httpRequest;
    const request = send(
      url,
      {
        method: "POST",
        agent: agents[secure ? "https:" : "http:"],
        headers: {
          ...options.headers,
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(body)),
        },
      },
      (response: IncomingMessage) => {
        responded = true;
        const chunks: Buffer[] = [];
        const status = response.statusCode ?? 0;
        const onText = status >= 200 && status < 300 ? options.onText : undefined;
        if (onText) response.setEncoding("utf8");
        response.on("data", (chunk: Buffer | string) => {
          if (typeof chunk === "string") {
            chunks.push(Buffer.from(chunk));
            clearTimeout(timer);
            timer = setTimeout(timeout, options.timeoutMs);
            onText?.(chunk);
          } else chunks.push(chunk);
        });
        response.on("error", (error) => finish(new HttpConnectionError(error.message, { cause: error })));
        response.on("end", () =>
          finish(undefined, {
            status: response.statusCode ?? 0,
            headers: flatten(response.headers),
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    request.on("error", (error: NodeJS.ErrnoException) => {
      if (!settled && !fresh && !responded && request.reusedSocket && STALE_SOCKET.has(error.code ?? "")) {
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        resolve(viaNode(url, body, options, true));
        return;
      }
      finish(new HttpConnectionError(error.message, { cause: error }));
    });
    request.end(body);
  });
}

async function viaFetch(
  fetcher: typeof fetch,
  url: URL,
  body: string,
  options: PostOptions,
): Promise<HttpReply> {
  const timeout = new AbortController();
  const expire = () => timeout.abort(new HttpTimeoutError(`no reply within ${options.timeoutMs} ms`));
  let timer = setTimeout(expire, options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
  try {
    const response = await fetcher(url, {
      method: "POST",
      headers: { ...options.headers, "content-type": "application/json" },
      body,
      signal,
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => (headers[name.toLowerCase()] = value));
    const onText = response.ok ? options.onText : undefined;
    if (!onText || !response.body) return { status: response.status, headers, text: await response.text() };
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of response.body) {
      const piece = decoder.decode(chunk as Uint8Array, { stream: true });
      text += piece;
      clearTimeout(timer);
      timer = setTimeout(expire, options.timeoutMs);
      onText(piece);
    }
    return { status: response.status, headers, text };
  } catch (error) {
    if (options.signal?.aborted) throw new HttpAbortError("aborted", { cause: options.signal.reason });
    if (timeout.signal.aborted) throw new HttpTimeoutError(`no reply within ${options.timeoutMs} ms`);
    const cause = (error as { cause?: { message?: string } }).cause;
    const message = cause?.message ?? (error instanceof Error ? error.message : String(error));
    throw new HttpConnectionError(message, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

function flatten(headers: IncomingMessage["headers"]): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  return flat;
}
