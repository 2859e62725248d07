/**
 * The short description of a context that the root model sees instead of the context itself: its type,
 * its size, and for collections a glimpse of the items. It costs O(items), never O(characters) beyond
 * the strings' lengths, so describing 100 MB takes microseconds.
 */
import { formatCount } from "../format-count.ts";
import type { JsonValue, RlmContext } from "./context.ts";

/** Extra facts a loader knows, e.g. where files came from and which were skipped. */
export interface ContextNotes {
  /** One line on where the context came from, e.g. "files under ./src". */
  source?: string;
  /** Things the model should know were left out. */
  skipped?: string[];
}

const LIST_SAMPLE = 10;
const KEY_LISTING = 100;
/** Up to this length lines are counted exactly; beyond it, estimated from evenly spread samples. */
const EXACT_LINE_COUNT_CHARS = 1_000_000;
const LINE_SAMPLES = 16;
const LINE_SAMPLE_CHARS = 16_384;

export function describeContext(context: RlmContext, notes: ContextNotes = {}): string {
  const lines: string[] = [];
  if (typeof context === "string") {
    lines.push(
      `\`context\` is a str of ${formatCount(context.length)} characters (${lineCount(context)} lines).`,
    );
  } else if (Array.isArray(context)) {
    const items = context as readonly (string | { readonly [key: string]: JsonValue })[];
    const lengths = items.map(sizeOf);
    const total = lengths.reduce((a, b) => a + b, 0);
    const kind = typeof items[0] === "string" || items.length === 0 ? "str" : "dict";
    lines.push(
      `\`context\` is a list of ${formatCount(items.length)} ${kind} items, ${formatCount(total)} characters in total.`,
      items.length > 0
        ? `Lengths of the first ${Math.min(LIST_SAMPLE, items.length)} items: ${lengths.slice(0, LIST_SAMPLE).map(formatCount).join(", ")}` +
            (items.length > LIST_SAMPLE
              ? ` (max ${formatCount(Math.max(...lengths))}, min ${formatCount(Math.min(...lengths))}).`
              : ".")
        : "The list is empty.",
    );
    if (kind === "dict" && items.length > 0) {
      lines.push(
        `Keys of the first item: ${Object.keys(items[0] as object)
          .slice(0, 20)
          .join(", ")}.`,
      );
    }
  } else {
    const entries = Object.entries(context);
    const sizes = entries.map(([, v]) => sizeOf(v));
    const total = sizes.reduce((a, b) => a + b, 0);
    lines.push(
      `\`context\` is a dict with ${formatCount(entries.length)} keys, ${formatCount(total)} characters of values in total.`,
    );
    const shown = entries
      .slice(0, KEY_LISTING)
      .map(([k], i) => `  ${k} (${formatCount(sizes[i] ?? 0)} chars)`);
    if (shown.length > 0) {
      lines.push(
        `Keys${entries.length > KEY_LISTING ? ` (first ${KEY_LISTING}; print(list(context)) for all)` : ""}:`,
        ...shown,
      );
    }
  }
  if (notes.source) lines.push(`It holds ${notes.source}.`);
  if (notes.skipped && notes.skipped.length > 0) {
    lines.push(
      `Left out when loading: ${notes.skipped.slice(0, 20).join("; ")}${notes.skipped.length > 20 ? `; and ${notes.skipped.length - 20} more` : ""}.`,
    );
  }
  return lines.join("\n");
}

/** Character size of a value as the model would read it. */
function sizeOf(value: JsonValue | undefined): number {
  if (typeof value === "string") return value.length;
  if (value === undefined) return 0;
  return JSON.stringify(value).length;
}

/**
 * Lines in the text: counted exactly up to `EXACT_LINE_COUNT_CHARS`, estimated beyond it ("about N")
 * from samples spread over the whole text, so describing a huge context never delays the first
 * request (a full count of 10 MB of short lines took ~20 ms).
 */
function lineCount(text: string): string {
  if (text.length === 0) return "0";
  if (text.length <= EXACT_LINE_COUNT_CHARS) {
    const breaks = countBreaks(text, 0, text.length);
    return formatCount(text.endsWith("\n") ? breaks : breaks + 1);
  }
  const stride = Math.floor(text.length / LINE_SAMPLES);
  let breaks = 0;
  for (let s = 0; s < LINE_SAMPLES; s++)
    breaks += countBreaks(text, s * stride, s * stride + LINE_SAMPLE_CHARS);
  const estimate = (breaks * text.length) / (LINE_SAMPLES * LINE_SAMPLE_CHARS);
  return `about ${formatCount(Number(Math.max(1, estimate).toPrecision(3)))}`;
}

/** Newlines in `text` from `start` up to (not including) `end`. */
function countBreaks(text: string, start: number, end: number): number {
  let breaks = 0;
  for (let i = text.indexOf("\n", start); i !== -1 && i < end; i = text.indexOf("\n", i + 1)) breaks++;
  return breaks;
}
