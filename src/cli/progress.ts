/**
 * Progress of a run on stderr. On a terminal: one status line, redrawn in place (current turn of each
 * running RLM, blocks, batched sub-calls as done/total, tokens, cost, time). Elsewhere: plain lines, one
 * per step worth a line, so logs stay readable.
 */
import { emptyTotals, type UsageTotals } from "../budget/ledger.ts";
import type { Usage } from "../models/model.ts";
import type { RlmEvent } from "../trace/events.ts";
import type { OutputStream } from "./command.ts";
import { formatCost, formatDuration, formatSaved, formatTokens } from "./format.ts";

export interface ProgressOptions {
  stream: OutputStream;
  /** Redraw a status line (true on a terminal) or print plain lines. */
  live: boolean;
}

interface RunState {
  depth: number;
  turn: number;
  maxTurns: number;
  step: string;
}

const REDRAW_MS = 100;
const MAX_CHILDREN_SHOWN = 4;
const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export class Progress {
  readonly #out: OutputStream;
  readonly #live: boolean;
  readonly #runs = new Map<string, RunState>();
  readonly #usage: UsageTotals = emptyTotals();
  readonly #started = Date.now();
  #subcallsDone = 0;
  #subcallsStarted = 0;
  #subcallErrors = 0;
  #timer: NodeJS.Timeout | undefined;
  #frame = 0;
  #drawn = false;

  constructor(options: ProgressOptions) {
    this.#out = options.stream;
    this.#live = options.live;
    if (this.#live) {
      this.#timer = setInterval(() => this.#draw(), REDRAW_MS);
      this.#timer.unref();
    }
  }

  /** The event sink. */
  readonly onEvent = (event: RlmEvent): void => {
    switch (event.type) {
      case "run-start":
        this.#runs.set(event.runId, {
          depth: event.depth,
          turn: 0,
          maxTurns: event.maxTurns,
          step: "starting",
        });
        if (event.depth > 0) this.#line(`child run started at depth ${event.depth}`);
        return;
      case "turn-start":
        this.#update(event.runId, { turn: event.turn, step: "model thinking" });
        return;
      case "model-reply": {
        this.#addUsage(event.usage);
        const label = event.bestEffort ? "asked for a best-effort answer" : `turn ${event.turn}`;
        this.#update(event.runId, { step: "reply received" });
        this.#line(`${this.#prefix(event.depth)}${label}: reply in ${formatDuration(event.durationMs)}`);
        return;
      }
      case "code-start":
        this.#update(event.runId, { step: `running block ${event.block + 1}/${event.blocks}` });
        return;
      case "code-result": {
        const r = event.result;
        const what = r.error ? `${r.error.type}` : `printed ${formatTokens(r.stdoutChars)} chars`;
        this.#line(
          `${this.#prefix(event.depth)}  block ${event.block + 1} ran in ${formatDuration(r.durationMs)}: ${what}`,
        );
        return;
      }
      case "subcall-start":
        this.#subcallsStarted++;
        if (event.batch?.index === 0) {
          this.#line(
            `${this.#prefix(event.depth)}  ${event.batch.size} batched ${event.kind} calls to ${event.model}`,
          );
        }
        return;
      case "subcall-end":
        this.#subcallsDone++;
        if (event.error) this.#subcallErrors++;
        if (event.usage) this.#addUsage(event.usage);
        if (!this.#live && event.batch && event.batch.index === event.batch.size - 1) {
          this.#line(
            `${this.#prefix(event.depth)}  sub-calls done: ${this.#subcallsDone}/${this.#subcallsStarted}`,
          );
        }
        return;
      case "limit":
        this.#line(`limit reached (${event.limit}): ${event.message}`);
        return;
      case "warning":
        this.#line(`warning: ${event.message}`);
        return;
      case "compaction":
        this.#addUsage(event.usage);
        this.#line(
          `${this.#prefix(event.depth)}compacted turns ${event.compactedTurns[0]}-${event.compactedTurns[1]} to fit the ` +
            `${formatTokens(event.window)}-token window (about ${formatTokens(event.tokensBefore)} → ${formatTokens(event.tokensAfter)} tokens)`,
        );
        return;
      case "answer-rejected": {
        const more = event.issues.length > 1 ? ` (and ${event.issues.length - 1} more)` : "";
        const next = event.retriesLeft > 0 ? "sent back to be fixed" : "no retries left";
        this.#line(
          `${this.#prefix(event.depth)}  answer rejected by the schema (${event.attempt}): ${event.issues[0] ?? ""}${more}; ${next}`,
        );
        return;
      }
      case "answer":
        if (event.depth === 0)
          this.#line(
            event.submitted
              ? "answer submitted"
              : event.source === "best-effort"
                ? "no answer submitted; using the best-effort reply"
                : "no answer accepted",
          );
        return;
      case "run-end":
        this.#runs.delete(event.runId);
        if (event.depth === 0) {
          this.#line(
            `done: ${event.stopReason}, ${event.turns} turn(s), ${formatTokens(event.usage.total.inputTokens + event.usage.total.outputTokens)} tokens, ` +
              `${formatCost(event.usage.total)}${formatSaved(event.usage.total)}, ${formatDuration(event.durationMs)}`,
          );
        }
        return;
    }
  };

  /** Prints a line of its own, in the same style as the progress lines. */
  note(text: string): void {
    this.#line(text);
  }

  /** Stops redrawing and clears the status line. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#clear();
  }

  #update(runId: string, patch: Partial<RunState>): void {
    const run = this.#runs.get(runId);
    if (run) Object.assign(run, patch);
  }

  #addUsage(usage: Usage): void {
    this.#usage.calls++;
    this.#usage.inputTokens += usage.inputTokens ?? 0;
    this.#usage.outputTokens += usage.outputTokens ?? 0;
    if (usage.costUsd === undefined) this.#usage.unpricedCalls++;
    else this.#usage.costUsd += usage.costUsd;
  }

  #prefix(depth: number): string {
    return depth > 0 ? `${"  ".repeat(depth)}[depth ${depth}] ` : "";
  }

  /** A line that stays: printed above the status line on a terminal, as-is elsewhere. */
  #line(text: string): void {
    if (this.#live) {
      this.#clear();
      this.#out.write(`${text}\n`);
      this.#draw();
    } else {
      this.#out.write(`[rlm] ${text}\n`);
    }
  }

  #status(): string {
    const runs = [...this.#runs.values()];
    const root = runs.find((r) => r.depth === 0);
    const parts: string[] = [];
    if (root) parts.push(`turn ${root.turn}/${root.maxTurns}: ${root.step}`);
    const children = runs.filter((r) => r.depth > 0);
    if (children.length > 0) {
      // Each running child's depth and turn: "3 children: d1 t2, d1 t1, d2 t1".
      const shown = children.slice(0, MAX_CHILDREN_SHOWN).map((c) => `d${c.depth} t${c.turn}`);
      const more = children.length > MAX_CHILDREN_SHOWN ? `, +${children.length - MAX_CHILDREN_SHOWN}` : "";
      parts.push(`${children.length} child run(s): ${shown.join(", ")}${more}`);
    }
    if (this.#subcallsStarted > 0) {
      parts.push(
        `sub-calls ${bar(this.#subcallsDone, this.#subcallsStarted)} ${this.#subcallsDone}/${this.#subcallsStarted}${this.#subcallErrors ? ` (${this.#subcallErrors} failed)` : ""}`,
      );
    }
    parts.push(`${formatTokens(this.#usage.inputTokens + this.#usage.outputTokens)} tok`);
    parts.push(formatCost(this.#usage));
    parts.push(formatDuration(Date.now() - this.#started));
    return `${SPINNER[this.#frame++ % SPINNER.length]} ${parts.join(" · ")}`;
  }

  #draw(): void {
    if (!this.#live) return;
    const width = this.#out.columns || 100;
    const text = this.#status();
    this.#out.write(`\r\x1b[2K${text.length > width - 1 ? text.slice(0, width - 2) + "…" : text}`);
    this.#drawn = true;
  }

  #clear(): void {
    if (this.#drawn) this.#out.write("\r\x1b[2K");
    this.#drawn = false;
  }
}

function bar(done: number, total: number, width = 12): string {
  const filled = total === 0 ? 0 : Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}
