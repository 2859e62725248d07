/**
 * Lengths and cuts in Unicode code points, the unit the model and the docs count in: an emoji is one
 * character here, where a JavaScript string counts it as two UTF-16 units.
 */

const SURROGATE_PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;
const HIGH_SURROGATE = /[\uD800-\uDBFF]/;

export function codePointLength(text: string): number {
  // Most output is free of astral characters: one regex test instead of a walk.
  if (!HIGH_SURROGATE.test(text)) return text.length;
  return text.length - (text.match(SURROGATE_PAIR)?.length ?? 0);
}

/** The first `count` code points of `text`; never splits a surrogate pair. */
export function sliceCodePoints(text: string, count: number): string {
  if (count <= 0) return "";
  if (!HIGH_SURROGATE.test(text)) return text.slice(0, count);
  let units = 0;
  for (let seen = 0; seen < count && units < text.length; seen++) {
    const code = text.charCodeAt(units);
    const next = text.charCodeAt(units + 1);
    units += code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
  }
  return text.slice(0, units);
}
