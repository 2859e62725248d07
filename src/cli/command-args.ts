/**
 * Flag parsing shared by the commands that take flags only (rlm serve, worker, mcp): one parse with
 * `-h/--help`, one refusal of stray arguments, and the number checks their flags share.
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { UsageError, type CommandIO } from "./command.ts";

const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const;

type Parsed<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; allowPositionals: true; options: O & typeof HELP_OPTION }>
>["values"];

export interface FlagCommand<O extends ParseArgsOptionsConfig> {
  /** The command's name after `rlm`, as in its messages: `serve`. */
  name: string;
  /** Printed for `-h/--help`. */
  help: string;
  /** The command's flags; `-h/--help` is added. */
  options: O;
  /** What the refusal of stray arguments ends with (default: `. See rlm NAME --help.`). */
  positionalsHint?: string;
}

/**
 * Parses `argv` against the command's flags. With `--help` it prints the help and returns undefined
 * (the command then exits 0); an argument that is not a flag is a {@link UsageError}.
 */
export function commandArgs<const O extends ParseArgsOptionsConfig>(
  argv: readonly string[],
  io: Pick<CommandIO, "stdout">,
  command: FlagCommand<O>,
): Parsed<O> | undefined {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { ...command.options, ...HELP_OPTION },
  });
  if ((values as { help?: boolean }).help) {
    io.stdout.write(`${command.help}\n`);
    return undefined;
  }
  if (positionals.length > 0)
    throw new UsageError(
      `rlm ${command.name} takes no arguments, got "${positionals.join(" ")}"${command.positionalsHint ?? `. See rlm ${command.name} --help.`}`,
    );
  return values as Parsed<O>;
}

/** A whole-number flag from `min` (to `max`, if given); `fallback` when the flag is absent. */
export function wholeFlag(
  flag: string,
  text: string | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    throw new UsageError(
      `${flag} takes a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : " up"}, got "${text}".`,
    );
  return n;
}

/**
 * A number flag above 0 (from 0 with `zeroOk`); `fallback` when the flag is absent. `unit` names what
 * it counts in the message: `--drain-timeout takes a number of seconds from 0`.
 */
export function positiveFlag(
  flag: string,
  text: string | undefined,
  fallback: number,
  { zeroOk = false, unit }: { zeroOk?: boolean; unit?: string } = {},
): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0 || (!zeroOk && n === 0))
    throw new UsageError(
      `${flag} takes a number ${unit ? `of ${unit} ` : ""}${zeroOk ? "from 0" : "above 0"}, got "${text}".`,
    );
  return n;
}
