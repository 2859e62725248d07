/**
 * Sizes on the command line: `--lazy-above 500MB`. Units are powers of 1024 (KB, MB, GB, TB; the `i`
 * forms and a bare number of bytes too); `off` or `none` turns the threshold off.
 */
import { UsageError } from "./command.ts";

const UNITS: Record<string, number> = { "": 1, B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** The bytes `value` names (`1GB`, `250M`, `4096`), or `Infinity` for `off`; a bad value is a usage error. */
export function sizeFlag(flag: string, value: string): number {
  if (/^(off|none)$/i.test(value.trim())) return Infinity;
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?$/i.exec(value.trim());
  const unit = UNITS[(match?.[2] ?? "").toUpperCase()];
  if (!match || unit === undefined)
    throw new UsageError(`${flag} takes a size such as 500MB, 1GB or 4096 (bytes), or off; got "${value}".`);
  return Math.round(Number(match[1]) * unit);
}
