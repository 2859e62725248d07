/**
 * The benchmark's table in markdown: score, cost, tokens and time per task, length and method.
 */
import { formatLength } from "./lengths.ts";
import type { SummaryCell } from "./summary.ts";

/** What the table's heading names. */
export interface ReportHeader {
  model: string;
  subModel: string | undefined;
  /** @unit tokens */
  contextWindowTokens: number;
}

/** Made on first use: building it loads ICU data, which cost ~26 ms at start-up here. */
let compactFormat: Intl.NumberFormat | undefined;
const compact = () =>
  (compactFormat ??= new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 }));

/** The markdown report: a heading, one table row per cell, and notes on cut contexts and failures. */
export function markdownReport(header: ReportHeader, cells: readonly SummaryCell[]): string {
  const runs = cells.reduce((sum, c) => sum + c.runs, 0);
  const errors = cells.reduce((sum, c) => sum + c.errors, 0);
  const lines = [
    "# Benchmark results",
    "",
    `Model \`${header.model}\`${header.subModel ? `, sub-model \`${header.subModel}\`` : ""}; ${runs} run(s)` +
      `${errors ? `, ${errors} failed (scored 0)` : ""}. Scores are means over seeds; cost, tokens and time are ` +
      "means per run.",
    "",
    "| task | length | method | score | cost | tokens | time | runs |",
    "| ---- | ------ | ------ | ----: | ---: | -----: | ---: | ---: |",
    ...cells.map(
      (c) =>
        `| ${c.task} | ${formatLength(c.lengthTokens)} | ${c.method} | ${(c.meanScore * 100).toFixed(1)}% | ` +
        `${cost(c)} | ${compact().format(c.meanTokens)} | ${seconds(c.meanDurationMs)} | ${c.runs} |`,
    ),
  ];
  const notes = cells.flatMap((c) => {
    const where = `${c.task} at ${formatLength(c.lengthTokens)}, ${c.method}`;
    return [
      ...(c.cutRuns
        ? [
            `${where}: the context was cut to the ${compact().format(header.contextWindowTokens)}-token window in ${c.cutRuns} of ${c.runs} run(s).`,
          ]
        : []),
      ...(c.errors ? [`${where}: ${c.errors} of ${c.runs} run(s) failed; results.json has the errors.`] : []),
    ];
  });
  const unpriced = cells.reduce((sum, c) => sum + c.unpricedCalls, 0);
  if (unpriced > 0) {
    notes.push(
      `${unpriced} call(s) had no known price and are not in the cost column ("unknown", or "≥" where some calls were priced).`,
    );
  }
  if (notes.length) lines.push("", "Notes:", "", ...notes.map((note) => `- ${note}`));
  return `${lines.join("\n")}\n`;
}

function cost(cell: SummaryCell): string {
  if (cell.unpricedCalls > 0 && cell.meanCostUsd === 0) return "unknown";
  const text =
    cell.meanCostUsd < 0.01 ? `$${cell.meanCostUsd.toFixed(4)}` : `$${cell.meanCostUsd.toFixed(3)}`;
  return cell.unpricedCalls > 0 ? `≥ ${text}` : text;
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(0)} s`;
}
