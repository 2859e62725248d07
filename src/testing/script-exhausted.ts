/**
 * The error a scripted fake raises when it is asked for more than its script holds. A test that runs
 * past its script has a bug (or the code under test made a call nobody expected); making one up would
 * let the test pass on a reply nobody wrote, so the fake fails loudly instead, saying where.
 */
export class ScriptExhaustedError extends Error {
  override readonly name = "ScriptExhaustedError";
  /** Which call (0-based) found the script used up. */
  readonly index: number;
  /** How many entries the script holds. */
  readonly length: number;

  constructor(what: string, index: number, length: number, detail: string) {
    super(
      `${what} has no scripted reply for call #${index + 1} (its script has ${length}). ${detail}`.trim(),
    );
    this.index = index;
    this.length = length;
  }
}

/** A short, one-line preview of text for an error message. */
export function preview(text: string, max = 120): string {
  const line = text.replace(/\s+/g, " ").trim();
  return JSON.stringify(line.length > max ? `${line.slice(0, max)}…` : line);
}
