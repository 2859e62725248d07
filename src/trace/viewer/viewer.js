/**
 * The viewer's page: the list of runs (filtered by the search box) and the run chosen in the address's
 * hash (`#/run/FILE`), with a search box that finds text anywhere in that run, children included.
 */
import { h } from "./dom.js";
import { formatCost, formatSeconds, formatTokens, preview } from "./format.js";
import { renderRun } from "./run-view.js";
import { clearMarks, markMatches } from "./search.js";

const list = document.getElementById("runs");
const filter = document.getElementById("runs-filter");
const listNote = document.getElementById("runs-note");
const main = document.getElementById("main");

let runs = [];

async function fetchJson(url) {
  const response = await fetch(url);
  const body = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

async function loadRuns() {
  try {
    const answer = await fetchJson("/api/runs");
    runs = answer.runs;
    const skipped = answer.skipped.length ? ` · ${answer.skipped.length} other .jsonl file(s) skipped` : "";
    listNote.textContent = `${runs.length} run(s)${skipped}`;
    listNote.title = answer.skipped.map((s) => `${s.file}: ${s.reason}`).join("\n");
  } catch (error) {
    listNote.textContent = `Could not list runs: ${error.message}`;
  }
  renderList();
}

function renderList() {
  const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
  const current = fileFromHash();
  const shown = runs.filter((run) => {
    const questions = (run.questions ?? [run.question]).join(" ");
    const text = `${questions} ${run.rootModel} ${run.subModel} ${run.file}`.toLowerCase();
    return words.every((word) => text.includes(word));
  });
  list.replaceChildren(
    ...shown.map((run) =>
      h(
        "li",
        {},
        h(
          "a",
          {
            href: `#/run/${encodeURIComponent(run.file)}`,
            class: run.file === current ? "run-item current" : "run-item",
            "data-testid": "run-item",
            "data-file": run.file,
          },
          h("div", { class: "run-question" }, preview(run.question, 140) || "(no question)"),
          (run.questions?.length ?? 1) > 1
            ? h(
                "div",
                { class: "run-meta", "data-testid": "run-session" },
                `session · ${run.questions.length} questions · last: ${preview(run.questions.at(-1), 80)}`,
              )
            : null,
          h(
            "div",
            { class: "run-meta" },
            `${new Date(run.startedAt).toLocaleString()} · ${run.rootModel} · ${run.turns} turn(s) · `,
            h("span", { class: run.finished ? "status" : "status unfinished" }, run.status),
            run.duration !== null ? ` · ${formatSeconds(run.duration)}` : "",
          ),
          run.usage
            ? h(
                "div",
                { class: "run-meta" },
                `${formatTokens(run.usage.input_tokens + run.usage.output_tokens)} tokens · ${formatCost({
                  calls: run.usage.calls,
                  costUsd: run.usage.cost_usd,
                  unpricedCalls: run.usage.unpriced_calls,
                })}`,
              )
            : null,
          h("div", { class: "run-file" }, run.file),
        ),
      ),
    ),
  );
  if (shown.length === 0)
    list.append(h("li", { class: "muted" }, runs.length ? "No run matches." : "No runs here yet."));
}

function fileFromHash() {
  const match = /^#\/run\/(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : undefined;
}

async function route() {
  renderList();
  const file = fileFromHash();
  if (!file) {
    if (runs.length === 1) location.replace(`#/run/${encodeURIComponent(runs[0].file)}`);
    else main.replaceChildren(h("p", { class: "muted" }, "Choose a run on the left."));
    return;
  }
  main.replaceChildren(h("p", { class: "muted" }, `Loading ${file}…`));
  try {
    const loaded = await fetchJson(`/api/run?file=${encodeURIComponent(file)}`);
    if (fileFromHash() !== file) return;
    const view = renderRun(loaded);
    main.replaceChildren(renderSearchBar(view), view);
  } catch (error) {
    main.replaceChildren(h("p", { class: "error" }, `Could not open ${file}: ${error.message}`));
  }
}

/** The search box above a run: marks matches as you type; Enter and the arrows step through them. */
function renderSearchBar(view) {
  let marks = [];
  let current = -1;
  let timer;
  const count = h("span", { class: "search-count", "data-testid": "search-count" });
  const step = (delta) => {
    if (marks.length === 0) return;
    marks[current]?.classList.remove("current");
    current = (current + delta + marks.length) % marks.length;
    marks[current].classList.add("current");
    marks[current].scrollIntoView({ block: "center" });
    count.textContent = `${current + 1} of ${marks.length}`;
  };
  const search = () => {
    const query = input.value.trim();
    if (query) marks = markMatches(view, query);
    else {
      clearMarks(view);
      marks = [];
    }
    current = -1;
    count.textContent = query ? `${marks.length} match(es)` : "";
  };
  const input = h("input", {
    type: "search",
    placeholder: "Search this run (children included)",
    "data-testid": "run-search",
    oninput: () => {
      clearTimeout(timer);
      timer = setTimeout(search, 150);
    },
    onkeydown: (event) => {
      if (event.key !== "Enter") return;
      clearTimeout(timer);
      if (input.value.trim() && marks.length === 0) search();
      step(event.shiftKey ? -1 : 1);
    },
  });
  return h(
    "div",
    { class: "search-bar" },
    input,
    h("button", { type: "button", title: "Previous match", onclick: () => step(-1) }, "↑"),
    h("button", { type: "button", title: "Next match", onclick: () => step(1) }, "↓"),
    count,
  );
}

filter.addEventListener("input", renderList);
document.getElementById("reload").addEventListener("click", async () => {
  await loadRuns();
  await route();
});
window.addEventListener("hashchange", route);
await loadRuns();
await route();
