/**
 * The best-effort answer as its reply streams. When turns run out the model's reply is the answer,
 * trimmed, and unwrapped when it is a `FINAL(...)`; this hands out pieces of it while it is generated
 * without handing out what may yet be cut: whitespace at either end, a `FINAL(` opening, a closing `)`.
 * The last piece is settled by `finish(answer)` with the answer the loop decided on; should that not
 * continue what was handed out (a `FINAL(...)` further into the reply), the whole answer is handed out
 * again as a reset.
 */

export interface AnswerPiece {
  text: string;
  /** The pieces before this one were wrong: this one is the whole answer. */
  reset: boolean;
}

const FINAL_OPEN = "FINAL(";

export class AnswerStream {
  #reply = "";
  #sent = "";

  /** Adds a piece of the reply; returns the answer text that is now certain, if any. */
  push(piece: string): AnswerPiece | undefined {
    this.#reply += piece;
    let text = this.#reply.trimStart();
    if (FINAL_OPEN.startsWith(text)) return undefined;
    if (text.startsWith(FINAL_OPEN)) text = text.slice(FINAL_OPEN.length);
    // Everything but trailing whitespace and one last character (a possible closing parenthesis).
    const safe = text.trimEnd().slice(0, -1);
    if (safe.length <= this.#sent.length || !safe.startsWith(this.#sent)) return undefined;
    const fresh = safe.slice(this.#sent.length);
    this.#sent = safe;
    return { text: fresh, reset: false };
  }

  /** Starts over: a retried request streams the reply again from its beginning. */
  restart(): void {
    this.#reply = "";
  }

  /** The rest of `answer`, or all of it as a reset when it does not continue what was handed out. */
  finish(answer: string): AnswerPiece | undefined {
    if (!answer.startsWith(this.#sent)) return { text: answer, reset: true };
    const rest = answer.slice(this.#sent.length);
    this.#sent = answer;
    return rest ? { text: rest, reset: false } : undefined;
  }
}
