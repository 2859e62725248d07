/**
 * A server-sent events reader for streamed model replies: text goes in as it arrives, in pieces cut
 * anywhere, and each complete event comes out once its blank line has arrived.
 */

export interface SseEvent {
  /** The `event:` field, when the server names its events (Anthropic does, OpenAI does not). */
  event: string | undefined;
  /** The `data:` lines joined with newlines. */
  data: string;
}

export class SseParser {
  readonly #onEvent: (event: SseEvent) => void;
  #buffer = "";

  constructor(onEvent: (event: SseEvent) => void) {
    this.#onEvent = onEvent;
  }

  push(text: string): void {
    this.#buffer += text;
    for (;;) {
      const end = /\r?\n\r?\n/.exec(this.#buffer);
      if (!end) return;
      const block = this.#buffer.slice(0, end.index);
      this.#buffer = this.#buffer.slice(end.index + end[0].length);
      this.#dispatch(block);
    }
  }

  /** Delivers an event left without its closing blank line when the stream ended. */
  end(): void {
    if (this.#buffer.trim()) this.#dispatch(this.#buffer);
    this.#buffer = "";
  }

  #dispatch(block: string): void {
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (data.length > 0) this.#onEvent({ event, data: data.join("\n") });
  }
}
