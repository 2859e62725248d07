/**
 * Bearer keys for `rlm serve` (`RLM_SERVE_API_KEYS=k1,k2`). A presented key is hashed and compared with
 * every configured key's hash in constant time, all of them each time, so neither the time taken nor an
 * early exit says how much of a key was right or which key matched.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { ApiError } from "./api-error.ts";

export class ApiKeys {
  readonly #digests: Buffer[];

  /** `keys` as given; blanks are dropped. */
  constructor(keys: readonly string[]) {
    this.#digests = keys
      .map((key) => key.trim())
      .filter(Boolean)
      .map(digest);
  }

  /** The `RLM_SERVE_API_KEYS` value: keys separated by commas. */
  static fromEnv(value: string | undefined): ApiKeys {
    return new ApiKeys((value ?? "").split(","));
  }

  /** True when requests must present a key. */
  get required(): boolean {
    return this.#digests.length > 0;
  }

  /**
   * Which key the `Authorization` header holds (`key-1`, `key-2`, ... in the order configured; `local`
   * when no keys are configured), for per-key limits and logs that never show the key itself.
   * @throws ApiError 401 when keys are required and the header holds none of them.
   */
  identify(authorization: string | undefined): string {
    if (!this.required) return "local";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!match?.[1])
      throw new ApiError(
        401,
        "authentication_error",
        "missing_api_key",
        "This server needs an API key: send `Authorization: Bearer <key>` with one of the keys in its RLM_SERVE_API_KEYS.",
      );
    const presented = digest(match[1]);
    let found = -1;
    for (const [index, known] of this.#digests.entries())
      if (timingSafeEqual(presented, known) && found === -1) found = index;
    if (found === -1)
      throw new ApiError(
        401,
        "authentication_error",
        "invalid_api_key",
        "Incorrect API key: it is not one of this server's RLM_SERVE_API_KEYS.",
      );
    return `key-${found + 1}`;
  }
}

function digest(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}
