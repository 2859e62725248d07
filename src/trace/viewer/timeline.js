/**
 * The timeline of one run: each turn is a horizontal bar, placed after the turns before it and as long
 * as its `iteration_time`, split into the model's reply and each code block (as long as its
 * `execution_time`), with one tick per sub-call inside its block. Sub-calls run concurrently and the
 * file records only their durations, so ticks show how many there were, not when.
 */
import { h } from "./dom.js";
import { formatSeconds } from "./format.js";

/** @param onSelect called with a turn's index when its row is clicked. */
export function renderTimeline(iterations, onSelect) {
  const total = iterations.reduce((sum, iteration) => sum + Math.max(0, iteration.iteration_time), 0);
  if (iterations.length === 0) return null;
  let start = 0;
  const rows = iterations.map((iteration, index) => {
    const time = Math.max(0, iteration.iteration_time);
    const row = renderRow(iteration, start, time, total, () => onSelect(index));
    start += time;
    return row;
  });
  return h(
    "section",
    { class: "timeline", "data-testid": "timeline" },
    h("div", { class: "label" }, `Timeline · ${formatSeconds(total)} over ${iterations.length} turn(s)`),
    rows,
  );
}

function renderRow(iteration, start, time, total, onclick) {
  const blocksTime = iteration.code_blocks.reduce(
    (sum, block) => sum + Math.max(0, block.result.execution_time),
    0,
  );
  // The turn's time is the model call, then the blocks one after the other.
  const modelTime = Math.max(0, time - blocksTime);
  const span = Math.max(time, blocksTime) || 1;
  const bar = h(
    "div",
    { class: "tl-bar", title: `Turn ${iteration.iteration}: ${formatSeconds(time)}` },
    segment("tl-model", modelTime / span, `model reply: ${formatSeconds(modelTime)}`),
    iteration.code_blocks.map((block, index) => renderBlockSegment(block, index, span)),
  );
  bar.style.marginLeft = percent(total ? start / total : 0);
  bar.style.width = percent(total ? time / total : 1);
  return h(
    "div",
    { class: "tl-row", "data-testid": "timeline-turn", onclick },
    h("span", { class: "tl-label" }, `T${iteration.iteration}`),
    h("div", { class: "tl-track" }, bar),
    h("span", { class: "tl-time" }, formatSeconds(time)),
  );
}

function renderBlockSegment(block, index, span) {
  const calls = block.result.rlm_calls;
  const seconds = block.result.execution_time;
  const tools = calls.filter((call) => call.kind === "tool").length;
  const title = `code block ${index + 1}: ${formatSeconds(seconds)}, ${calls.length - tools} sub-call(s)${tools > 0 ? `, ${tools} tool call(s)` : ""}`;
  const element = segment(block.result.error ? "tl-block tl-error" : "tl-block", seconds / span, title);
  element.append(
    ...calls.map((call) =>
      h("span", {
        class: call.child ? "tl-tick tl-child" : call.kind === "tool" ? "tl-tick tl-tool" : "tl-tick",
        title: `${call.kind === "tool" ? `tool ${call.tool}` : call.kind}: ${formatSeconds(call.execution_time)}`,
      }),
    ),
  );
  return element;
}

function segment(kind, fraction, title) {
  const element = h("span", { class: `tl-seg ${kind}`, title });
  element.style.width = percent(fraction);
  return element;
}

function percent(fraction) {
  return `${(Math.min(1, Math.max(0, fraction)) * 100).toFixed(2)}%`;
}
