/**
 * The request-body checks of the POST routes (chat completions, jobs): a size limit answered with 413,
 * and JSON answered with 400 when it does not parse.
 */
import type { HonoRequest, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { formatCount } from "../format-count.ts";
import { ApiError } from "./api-error.ts";

/** Refuses a body over `maxBytes` (413 request_too_large); the message ends with `hint`, what to do instead. */
export function limitBody(maxBytes: number, hint: string): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ApiError(
        413,
        "invalid_request_error",
        "request_too_large",
        `The request body is over this server's limit of ${formatCount(maxBytes)} bytes (--max-body-mb). ${hint}`,
      );
    },
  });
}

/** The request's body parsed as JSON; 400 invalid_json when it is not JSON. */
export function jsonBody(req: HonoRequest): Promise<unknown> {
  return req.json<unknown>().catch(() => {
    throw ApiError.invalid("The request body is not valid JSON.", null, "invalid_json");
  });
}
