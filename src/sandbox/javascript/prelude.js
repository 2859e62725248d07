// Guest runtime of the RLM JavaScript REPL. It runs inside QuickJS (a JavaScript interpreter compiled
// to WebAssembly, with no access to Node), once per guest, before any model code. The worker calls it
// as a function of the host's capabilities and keeps the object it returns; model code sees only the
// globals defined here plus what it defines itself.
(function install(host) {
  "use strict";

  const RESERVED = [
    "context",
    "llm_query",
    "llm_query_batched",
    "rlm_query",
    "rlm_query_batched",
    "SHOW_VARS",
    "budget",
    "answer",
    "FINAL_VAR",
    "FINAL",
    "print",
    "console",
  ];
  const MAX_LOCALS = 50;
  const state = { submitted: null, submittedVia: null, notes: [], originals: {} };
  const baseline = new Set(Object.getOwnPropertyNames(globalThis));

  class SubcallError extends Error {}
  SubcallError.prototype.name = "SubcallError";

  function call(kind, payload) {
    const reply = host.call(JSON.stringify(Object.assign({ kind }, payload)));
    // null: the cell is being interrupted; the host keeps interrupting until it stops.
    if (reply === null) throw new Error("interrupted");
    const parsed = JSON.parse(reply);
    if (!parsed.ok) throw new SubcallError(parsed.error);
    return parsed.value;
  }

  const asPrompt = (prompt) => (typeof prompt === "string" ? prompt : String(prompt));
  function asPrompts(prompts) {
    if (typeof prompts === "string") {
      throw new TypeError("expected an array of prompts, got a single string; use llm_query for one prompt");
    }
    return Array.from(prompts, asPrompt);
  }
  /** The second argument: a model name, or an options object. */
  function optionsOf(second) {
    if (second === undefined || second === null) return {};
    if (typeof second === "string") return { model: second };
    if (typeof second === "object") return second;
    throw new TypeError("the second argument is a model name or an options object");
  }

  function llm_query(prompt, model) {
    return call("llm_query", { prompt: asPrompt(prompt), model: optionsOf(model).model ?? null });
  }
  function llm_query_batched(prompts, model) {
    return call("llm_query_batched", { prompts: asPrompts(prompts), model: optionsOf(model).model ?? null });
  }
  function rlm_query(prompt, options) {
    const { model = null, context = null } = optionsOf(options);
    return call("rlm_query", { prompt: asPrompt(prompt), model, context });
  }
  function rlm_query_batched(prompts, options) {
    const { model = null, contexts = null } = optionsOf(options);
    return call("rlm_query_batched", {
      prompts: asPrompts(prompts),
      model,
      contexts: contexts && Array.from(contexts),
    });
  }
  function budget() {
    return call("budget", {});
  }

  /** The first submission of a cell stands; `via` says which form made it (answer, FINAL, FINAL_VAR). */
  function submit(value, via) {
    if (state.submitted !== null) return;
    state.submitted = typeof value === "string" ? value : stringify(value);
    state.submittedVia = via;
  }
  const isEmpty = (content) => content === null || content === undefined || content === "";
  function submitAnswerObject(object) {
    if (isEmpty(object.content)) {
      state.notes.push(
        "answer.ready was set but answer.content is empty: set the content first, then ready.",
      );
      return;
    }
    submit(object.content, "answer");
  }

  function makeAnswer() {
    const answer = { content: "" };
    let ready = false;
    Object.defineProperty(answer, "ready", {
      enumerable: true,
      get: () => ready,
      set: (value) => {
        ready = value;
        if (value) submitAnswerObject(answer);
      },
    });
    return answer;
  }

  function FINAL_VAR(nameOrValue) {
    if (
      typeof nameOrValue === "string" &&
      /^[A-Za-z_$][\w$]*$/.test(nameOrValue) &&
      nameOrValue in globalThis
    ) {
      submit(globalThis[nameOrValue], "FINAL_VAR");
    } else {
      submit(nameOrValue, "FINAL_VAR");
    }
  }
  function FINAL(value) {
    submit(value, "FINAL");
  }

  function stringify(value) {
    if (typeof value === "string") return value;
    if (value === undefined) return "undefined";
    if (typeof value === "function") return `[Function ${value.name || "anonymous"}]`;
    try {
      const json = JSON.stringify(value);
      return json === undefined ? String(value) : json;
    } catch {
      return String(value);
    }
  }
  const write =
    (stream) =>
    (...args) =>
      host.write(stream, `${args.map(stringify).join(" ")}\n`);
  const print = write(1);
  const console = { log: print, info: print, debug: print, warn: write(2), error: write(2) };

  function userVariables() {
    return Object.getOwnPropertyNames(globalThis).filter(
      (name) => !baseline.has(name) && !RESERVED.includes(name) && !name.startsWith("__"),
    );
  }

  function describe(value) {
    const type =
      value === null
        ? "null"
        : Array.isArray(value)
          ? "Array"
          : typeof value === "object"
            ? (value.constructor?.name ?? "Object")
            : typeof value;
    const entry = { type };
    if (typeof value === "string" || Array.isArray(value)) entry.size = value.length;
    else if (value instanceof Map || value instanceof Set) entry.size = value.size;
    else if (type === "Object") entry.size = Object.keys(value).length;
    let preview = stringify(value);
    if (preview.length > 80) preview = `${preview.slice(0, 77)}...`;
    entry.preview = preview;
    return entry;
  }

  function SHOW_VARS() {
    const names = userVariables();
    if (names.length === 0) {
      print("No variables yet (context, llm_query and the other built-ins are not listed).");
      return;
    }
    for (const name of names) {
      const { type, size, preview } = describe(globalThis[name]);
      print(`${name}: ${type}${size === undefined ? "" : ` (length ${size})`} = ${preview}`);
    }
  }

  const originals = {
    context: null,
    llm_query,
    llm_query_batched,
    rlm_query,
    rlm_query_batched,
    SHOW_VARS,
    budget,
    answer: makeAnswer(),
    FINAL_VAR,
    FINAL,
    print,
    console,
  };
  state.originals = originals;
  for (const name of RESERVED) globalThis[name] = originals[name];

  /** Rebinding `answer` to an object with a truthy `ready` submits; then every reserved name is restored. */
  function settle() {
    const current = globalThis.answer;
    const ours = originals.answer;
    if (current !== ours && current !== null && typeof current === "object") {
      ours.content = current.content === undefined ? ours.content : current.content;
      if (current.ready) submitAnswerObject(current);
    }
    const notes = [];
    for (const name of RESERVED) {
      if (globalThis[name] !== originals[name]) {
        globalThis[name] = originals[name];
        if (name !== "answer")
          notes.push(`\`${name}\` is reserved and was restored; keep your own data in another variable.`);
      }
    }
    return notes;
  }

  /**
   * Replaces `Math.random` with a generator seeded by `seed` (a 32-bit integer), so a seeded run draws
   * the same numbers again. Unseeded, QuickJS's own generator is seeded per interpreter.
   */
  function seedRandom(seed) {
    let state = seed >>> 0;
    // mulberry32: 32 bits per step; two steps make the 53 bits of a double.
    const next = () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 15), z | 1);
      z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
      return (z ^ (z >>> 14)) >>> 0;
    };
    Math.random = function random() {
      return (next() * 2 ** 21 + (next() >>> 11)) / 2 ** 53;
    };
  }

  return {
    seedRandom,
    setContext(value) {
      originals.context = value;
      globalThis.context = value;
    },
    beforeCell() {
      state.submitted = null;
      state.submittedVia = null;
      state.notes = [];
    },
    afterCell() {
      const notes = state.notes.concat(settle());
      const content = originals.answer.content;
      const locals = {};
      for (const name of userVariables().slice(0, MAX_LOCALS)) locals[name] = describe(globalThis[name]);
      return JSON.stringify({
        submitted: state.submitted,
        submittedVia: state.submittedVia,
        draft: isEmpty(content) ? null : stringify(content),
        notes,
        locals,
      });
    },
  };
});
