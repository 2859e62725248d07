/**
 * Renders one run (the `/api/run` answer) as a tree: turns → the model's reply → code blocks with
 * their output → sub-calls, and child runs nested recursively with their own turns. Every element that
 * holds text from the file is marked `searchable` for the run's search box.
 */
import { h } from "./dom.js";
import { formatCost, formatSeconds, formatTokens, formatUsage, preview } from "./format.js";
import { tokenizePython } from "./highlight-python.js";
import { renderTimeline } from "./timeline.js";

/** The whole run: a header with the tree's usage, then its body; a session's file, each question in turn. */
export function renderRun(loaded) {
  const { run, warnings } = loaded;
  const session = (run.questions ?? []).length > 0;
  return h(
    "article",
    { class: "run", "data-testid": "run-view", "data-run-id": run.metadata.run_id },
    session ? renderSessionHeader(run, warnings) : renderHeader(run, warnings),
    session ? [run, ...run.questions].map(renderQuestion) : renderRunBody(run),
  );
}

function renderHeader(run, warnings) {
  const m = run.metadata;
  return h(
    "header",
    { class: "run-header" },
    h("h2", { class: "question searchable" }, m.question),
    h(
      "dl",
      { class: "facts" },
      fact("Tree usage", h("span", { "data-testid": "run-tokens" }, formatUsage(run.totals))),
      fact("Tree cost", h("span", { class: "cost", "data-testid": "run-cost" }, formatCost(run.totals))),
      fact("Status", statusText(run)),
      fact("Models", modelsText(m)),
      fact("Started", new Date(m.timestamp).toLocaleString()),
      fact("Max depth", String(m.max_depth)),
      fact("File", run.file ?? "(nested in its parent's file)"),
    ),
    readWarnings(run, warnings),
    h("details", { class: "context" }, h("summary", {}, "Context description"), pre(m.context_description)),
    finalAnswer(run),
  );
}

/** A session's file: the session's usage over all its questions, and what every question shares. */
function renderSessionHeader(run, warnings) {
  const m = run.metadata;
  const questions = [run, ...run.questions];
  const last = questions.at(-1);
  const totals = run.sessionTotals ?? run.totals;
  return h(
    "header",
    { class: "run-header" },
    h("h2", { class: "question" }, `Session: ${questions.length} questions`),
    h(
      "dl",
      { class: "facts" },
      fact("Session usage", h("span", { "data-testid": "run-tokens" }, formatUsage(totals))),
      fact("Session cost", h("span", { class: "cost", "data-testid": "run-cost" }, formatCost(totals))),
      fact("Last question", last.runEnd ? last.runEnd.stop_reason : "running or killed"),
      fact("Models", modelsText(m)),
      fact("Started", new Date(m.timestamp).toLocaleString()),
      fact("Max depth", String(m.max_depth)),
      fact("File", run.file ?? ""),
      m.session ? fact("Session", m.session.id) : null,
    ),
    readWarnings(run, warnings),
  );
}

/** The root and sub-model, as the header shows them. */
function modelsText(m) {
  return m.sub_model && m.sub_model !== m.root_model
    ? `${m.root_model}, sub-model ${m.sub_model}`
    : m.root_model;
}

/** What went wrong reading the file: lines that could not be read, then the loader's warnings. */
function readWarnings(run, warnings) {
  return [
    run.skippedLines > 0
      ? h(
          "p",
          { class: "warning" },
          `${run.skippedLines} line(s) could not be read (a line cut short by a crash?).`,
        )
      : null,
    warnings.length > 0
      ? h(
          "details",
          { class: "warning" },
          h("summary", {}, `${warnings.length} warning(s)`),
          warnings.map((w) => h("div", {}, w)),
        )
      : null,
  ];
}

/** One question of a session: what was asked, how it ended and what it used, its answer, then its turns. */
function renderQuestion(run, index) {
  const m = run.metadata;
  return h(
    "details",
    { class: "session-question", "data-testid": "session-question", "data-run-id": m.run_id, open: true },
    h(
      "summary",
      {},
      h("span", { class: "turn-no" }, `Question ${index + 1}`),
      " ",
      h("span", { class: "question searchable" }, m.question),
      h(
        "span",
        { class: "meta" },
        ` · ${statusText(run)} · ${formatUsage(run.totals)} · `,
        h("span", { class: "cost", "data-testid": "question-cost" }, formatCost(run.totals)),
      ),
    ),
    h("details", { class: "context" }, h("summary", {}, "Context description"), pre(m.context_description)),
    finalAnswer(run),
    renderRunBody(run),
  );
}

function fact(name, value) {
  return [h("dt", {}, name), h("dd", {}, value)];
}

function statusText(run) {
  if (!run.runEnd) {
    return `running or killed · ${run.iterations.length} turn(s) in the file (usage counts only what the files hold; calls in flight are missing)`;
  }
  const end = run.runEnd;
  const detail = end.stop_detail ? ` (${end.stop_detail})` : "";
  const abandoned = end.usage.abandoned_calls;
  const saved = end.usage.saved_calls ?? 0;
  const note =
    (abandoned > 0
      ? ` · ${abandoned} call(s) abandoned (sent, never answered; the provider may bill them)`
      : "") +
    (saved > 0 ? ` · ${saved} sub-call(s) answered from the cache (not sent)` : "") +
    (end.usage.tool_calls > 0 ? ` · ${end.usage.tool_calls} tool call(s)` : "");
  return `${end.stop_reason}${detail} · ${end.turns} turn(s) · ${formatSeconds(end.duration)}${note}`;
}

function finalAnswer(run) {
  const last = run.iterations.findLast((iteration) => iteration.final_answer !== null);
  if (!last) return null;
  return h(
    "section",
    { class: "final" },
    h("div", { class: "label" }, "Final answer"),
    pre(last.final_answer),
    citationList(run.runEnd?.citations ?? []),
  );
}

/**
 * The answer's sources (`run_end.citations`): each cited location with the text `grep`/`search`
 * returned there, linked to the tool call that returned it (opened and scrolled to on click).
 */
function citationList(citations) {
  if (citations.length === 0) return null;
  return h(
    "div",
    { class: "citations", "data-testid": "citations" },
    h("div", { class: "label" }, "Sources"),
    h(
      "ol",
      {},
      citations.map((c) =>
        h(
          "li",
          { "data-testid": "citation" },
          c.call_id
            ? h(
                "a",
                {
                  href: `#${toolCallAnchor(c.call_id)}`,
                  class: "cite",
                  onclick: (e) => showToolCall(e, c.call_id),
                },
                `[${c.cite}]`,
              )
            : h("span", { class: "cite" }, `[${c.cite}]`),
          " ",
          h("span", { class: "cited-text searchable" }, c.text ?? ""),
        ),
      ),
    ),
  );
}

function toolCallAnchor(callId) {
  return `call-${callId}`;
}

/** Opens the tool call `callId` and every section around it, and scrolls to it; the page's hash (its route) stays. */
function showToolCall(event, callId) {
  event.preventDefault();
  const target = document.getElementById(toolCallAnchor(callId));
  if (!target) return;
  for (let node = target; node; node = node.parentElement) if (node.tagName === "DETAILS") node.open = true;
  target.scrollIntoView({ block: "center", behavior: "smooth" });
  target.classList.add("flash");
  setTimeout(() => target.classList.remove("flash"), 1500);
}

/** Timeline, turns and orphaned children of one run; used for the root and for every child. */
function renderRunBody(run) {
  const turns = run.iterations.map((iteration) => renderTurn(iteration));
  const openTurn = (index) => {
    const turn = turns[index];
    if (!turn) return;
    turn.open = true;
    turn.scrollIntoView({ block: "start", behavior: "smooth" });
  };
  return h(
    "div",
    { class: "run-body" },
    renderTimeline(run.iterations, openTurn),
    h("div", { class: "turns" }, turns),
    run.orphans.length > 0
      ? h(
          "section",
          { class: "orphans" },
          h(
            "div",
            { class: "label" },
            "Child runs whose call never finished (the run was killed or is still going)",
          ),
          run.orphans.map((child) => renderChild(child, null)),
        )
      : null,
  );
}

function renderTurn(iteration) {
  const all = iteration.code_blocks.flatMap((block) => block.result.rlm_calls);
  const tools = all.filter((call) => call.kind === "tool").length;
  const calls = all.length - tools;
  return h(
    "details",
    { class: "turn", "data-testid": "turn", open: true },
    h(
      "summary",
      {},
      h("span", { class: "turn-no" }, `Turn ${iteration.iteration}`),
      h(
        "span",
        { class: "meta" },
        `${formatSeconds(iteration.iteration_time)} · ${iteration.code_blocks.length} block(s) · ${calls} sub-call(s) · ${tools > 0 ? `${tools} tool call(s) · ` : ""}${formatUsage(iteration.totals)} · `,
        h("span", { class: "cost" }, formatCost(iteration.totals)),
      ),
      iteration.best_effort ? badge("best effort", "warn") : null,
      iteration.compaction ? badge("compacted", "warn") : null,
      iteration.rejected_answers?.length ? badge("answer rejected", "warn") : null,
      iteration.final_answer !== null ? badge("final answer", "good") : null,
    ),
    iteration.compaction ? renderCompaction(iteration.compaction) : null,
    renderPrompt(iteration.prompt, iteration.prompt_is_delta),
    h("div", { class: "label" }, "Model reply"),
    renderReply(iteration.response, iteration.code_blocks.length),
    iteration.code_blocks.map((block, index) => renderBlock(block, index)),
    (iteration.rejected_answers ?? []).map(renderRejectedAnswer),
    iteration.final_answer !== null
      ? h(
          "section",
          { class: "final" },
          h("div", { class: "label" }, "Final answer"),
          pre(iteration.final_answer),
        )
      : null,
  );
}

/** A submitted answer the run's schema rejected: what was wrong, and what was submitted. */
function renderRejectedAnswer(r) {
  const next =
    r.retries_left > 0 ? `sent back to be fixed, ${r.retries_left} more allowed` : "no retries left";
  return h(
    "section",
    { class: "rejected", "data-testid": "rejected-answer" },
    h("div", { class: "label" }, `Answer rejected by the schema (rejection ${r.attempt}; ${next})`),
    h(
      "ul",
      { class: "issues" },
      r.issues.map((issue) => h("li", {}, issue)),
    ),
    pre(r.answer),
  );
}

/** Older turns summarised before this turn's request: which, by how much, and the summary itself. */
function renderCompaction(c) {
  const [first, last] = c.compacted_turns;
  return h(
    "details",
    { class: "compaction", "data-testid": "compaction" },
    h(
      "summary",
      {},
      `Turns ${first}-${last} compacted to fit the ${formatTokens(c.window)}-token window: about ${formatTokens(c.tokens_before)} → ${formatTokens(c.tokens_after)} tokens, ${formatSeconds(c.duration)}`,
    ),
    pre(c.summary),
  );
}

function renderPrompt(messages, isDelta = true) {
  if (messages.length === 0) return null;
  const chars = messages.reduce((n, message) => n + message.content.length, 0);
  return h(
    "details",
    { class: "prompt" },
    h(
      "summary",
      {},
      `Prompt: ${messages.length} ${isDelta ? "new" : "(the whole conversation)"} message(s) (${messages.map((m) => m.role).join(", ")}) · ${formatTokens(chars)} chars`,
    ),
    messages.map((message) =>
      h("div", { class: "message" }, h("div", { class: "role" }, message.role), pre(message.content)),
    ),
  );
}

/**
 * The reply as text. Its ```repl blocks that ran are shown once, below with their output, so here they
 * are a pointer; a block that did not run (one before it submitted) and other fenced code are shown
 * as code.
 */
function renderReply(text, blocksRun) {
  const parts = [];
  const fence = /```([\w-]*)\n([\s\S]*?)(?:```|$)/g;
  let at = 0;
  let repl = 0;
  for (const match of text.matchAll(fence)) {
    parts.push(prose(text.slice(at, match.index)));
    if (match[1] === "repl" && ++repl <= blocksRun)
      parts.push(h("div", { class: "pointer" }, `↓ code block ${repl}`));
    else {
      if (match[1] === "repl") parts.push(h("div", { class: "muted" }, "not run:"));
      parts.push(renderCode(match[2].replace(/\n$/, ""), match[1]));
    }
    at = match.index + match[0].length;
  }
  parts.push(prose(text.slice(at)));
  return h("div", { class: "reply" }, text.trim() ? parts : h("div", { class: "muted" }, "(empty reply)"));
}

function prose(text) {
  const trimmed = text.replace(/^\s*\n|\n\s*$/g, "");
  return trimmed ? h("div", { class: "prose searchable" }, trimmed) : null;
}

function renderCode(code, language = "python") {
  const python = ["python", "py", "repl", ""].includes(language);
  const tokens = python ? tokenizePython(code) : [{ type: "plain", text: code }];
  return h(
    "pre",
    { class: "code searchable", "data-testid": "code" },
    tokens.map((token) =>
      token.type === "plain" ? token.text : h("span", { class: `tok-${token.type}` }, token.text),
    ),
  );
}

function renderBlock(block, index) {
  const r = block.result;
  return h(
    "section",
    { class: "block" },
    h(
      "div",
      { class: "block-head" },
      `Code block ${index + 1} · ran ${formatSeconds(r.execution_time)}`,
      r.timed_out ? badge("timed out", "bad") : null,
      r.error ? badge(r.error.type, "bad") : null,
      r.submitted ? badge("submitted the answer", "good") : null,
    ),
    renderCode(block.code),
    r.stdout
      ? output(
          "stdout",
          r.stdout,
          r.stdout_chars > r.stdout.length
            ? ` (first ${formatTokens(r.stdout.length)} of ${formatTokens(r.stdout_chars)} chars)`
            : "",
        )
      : null,
    r.stderr ? output("stderr", r.stderr, "") : null,
    !r.stdout && !r.stderr ? h("div", { class: "muted" }, "no output") : null,
    renderLocals(r.locals),
    r.rlm_calls.length > 0
      ? h(
          "div",
          { class: "calls" },
          r.rlm_calls.map((call) =>
            call.kind === "tool"
              ? renderToolCall(call)
              : call.child
                ? renderChild(call.child, call)
                : renderCall(call),
          ),
        )
      : null,
  );
}

function output(stream, text, note) {
  return h(
    "div",
    { class: `output ${stream}` },
    h("div", { class: "label" }, stream + note),
    h("pre", { class: "searchable", "data-testid": stream }, text),
  );
}

function renderLocals(locals) {
  const names = Object.keys(locals ?? {});
  if (names.length === 0) return null;
  return h(
    "details",
    { class: "locals" },
    h("summary", {}, `Variables: ${names.join(", ")}`),
    h(
      "table",
      {},
      h("tr", {}, h("th", {}, "name"), h("th", {}, "type"), h("th", {}, "size"), h("th", {}, "preview")),
      names.map((name) => {
        const local = locals[name];
        return h(
          "tr",
          {},
          h("td", { class: "searchable" }, name),
          h("td", {}, local.type),
          h("td", {}, local.size === undefined ? "" : formatTokens(local.size)),
          h("td", { class: "searchable mono" }, local.preview),
        );
      }),
    ),
  );
}

/** A plain sub-call: its prompt and reply open on demand. */
function renderCall(call) {
  const cut = call.prompt_chars > call.prompt.length;
  return h(
    "details",
    { class: "call", "data-testid": "call" },
    h(
      "summary",
      {},
      badge(call.kind, "kind"),
      ` ${call.root_model} · ${formatTokens(call.prompt_tokens)} in, ${formatTokens(call.completion_tokens)} out · `,
      h("span", { class: "cost" }, formatCost(call.totals)),
      ` · ${formatSeconds(call.execution_time)}`,
      call.batch ? ` · batch item ${call.batch.index + 1}/${call.batch.size}` : "",
      call.error !== undefined ? badge("failed", "bad") : null,
      h("span", { class: "preview searchable" }, preview(call.prompt, 120)),
    ),
    h(
      "div",
      { class: "label" },
      cut
        ? `Prompt (first ${formatTokens(call.prompt.length)} of ${formatTokens(call.prompt_chars)} chars)`
        : "Prompt",
    ),
    pre(call.prompt),
    h("div", { class: "label" }, "Response"),
    pre(call.response),
    call.error !== undefined ? h("pre", { class: "stderr searchable" }, call.error) : null,
  );
}

/** A custom tool's call: its name and time, then its arguments and its result (or error) on demand. */
function renderToolCall(call) {
  return h(
    "details",
    {
      class: "call tool-call",
      "data-testid": "tool-call",
      id: call.call_id ? toolCallAnchor(call.call_id) : undefined,
    },
    h(
      "summary",
      {},
      badge("tool", "kind tool"),
      ` ${call.tool ?? call.root_model} · ${formatSeconds(call.execution_time)}`,
      call.error !== undefined ? badge("failed", "bad") : null,
      h("span", { class: "preview searchable" }, preview(call.prompt, 120)),
    ),
    h("div", { class: "label" }, "Arguments"),
    pre(call.prompt),
    call.error !== undefined
      ? [h("div", { class: "label" }, "Error"), h("pre", { class: "stderr searchable" }, call.error)]
      : [h("div", { class: "label" }, "Result"), pre(call.response)],
  );
}

/** A child run (`rlm_query` below the depth limit): its subtree's usage in the summary, its run inside. */
function renderChild(child, call) {
  const m = child.metadata;
  const turns = child.runEnd?.turns ?? child.iterations.length;
  const status = child.runEnd ? child.runEnd.stop_reason : "running or killed";
  return h(
    "details",
    { class: "child", "data-testid": "child-run", "data-run-id": m.run_id, "data-depth": String(m.depth) },
    h(
      "summary",
      {},
      badge("rlm_query", "kind"),
      h("span", { class: "depth" }, ` child run · depth ${m.depth}`),
      ` · ${m.root_model} · ${turns} turn(s) · ${status} · subtree: ${formatUsage(child.totals)} · `,
      h("span", { class: "cost", "data-testid": "child-cost" }, formatCost(child.totals)),
      call ? ` · ${formatSeconds(call.execution_time)}` : "",
      call?.batch ? ` · batch item ${call.batch.index + 1}/${call.batch.size}` : "",
      call && call.error !== undefined ? badge("failed", "bad") : null,
      h("span", { class: "preview searchable" }, preview(m.question, 120)),
    ),
    h(
      "div",
      { class: "child-body" },
      h("div", { class: "label" }, "Question"),
      pre(m.question),
      child.file
        ? h(
            "div",
            { class: "muted" },
            "Own file: ",
            h("a", { href: `#/run/${encodeURIComponent(child.file)}` }, child.file),
          )
        : null,
      call?.response
        ? [h("div", { class: "label" }, "Answer returned to the parent"), pre(call.response)]
        : null,
      renderRunBody(child),
    ),
  );
}

function pre(text) {
  return h("pre", { class: "text searchable" }, text);
}

function badge(text, kind) {
  return h("span", { class: `badge ${kind}` }, text);
}
