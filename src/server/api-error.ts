/**
 * Failures `rlm serve` reports to its clients, shaped as OpenAI's API shapes them
 * (`{"error": {"message", "type", "param", "code"}}`) so every OpenAI client surfaces the message.
 */
export type ApiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "not_found_error"
  | "rate_limit_error"
  | "upstream_error"
  | "server_error";

export class ApiError extends Error {
  override name = "ApiError";
  readonly status: 400 | 401 | 404 | 413 | 429 | 500 | 502 | 503;
  readonly type: ApiErrorType;
  readonly code: string;
  /** The request field at fault, when one is. */
  readonly param: string | null;

  constructor(
    status: ApiError["status"],
    type: ApiErrorType,
    code: string,
    message: string,
    param: string | null = null,
  ) {
    super(message);
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = param;
  }

  /** A bad request body: `param` names the field, the message says how to fix it. */
  static invalid(message: string, param: string | null = null, code = "invalid_request"): ApiError {
    return new ApiError(400, "invalid_request_error", code, message, param);
  }
}

/** The JSON body of an error response. */
export function errorBody(error: ApiError): {
  error: { message: string; type: ApiErrorType; param: string | null; code: string };
} {
  return { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
}
