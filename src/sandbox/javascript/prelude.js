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
  // `typed`: the run's answer has a schema, so a submitted value that is not a string goes as JSON.
  const state = {
    submitted: null,
    submittedVia: null,
    submittedJson: false,
    typed: false,
    notes: [],
    originals: {},
  };
  const baseline = new Set(Object.getOwnPropertyNames(globalThis));

  class SubcallError extends Error {}
  SubcallError.prototype.name = "SubcallError";
  /** A custom tool failed on the host (its message says why). */
  class ToolError extends Error {}
  ToolError.prototype.name = "ToolError";
  /** A custom tool was called with arguments its schema refuses (each one is named). */
  class ToolArgumentError extends ToolError {}
  ToolArgumentError.prototype.name = "ToolArgumentError";
  const ERRORS = new Map([
    ["ToolError", ToolError],
    ["ToolArgumentError", ToolArgumentError],
  ]);

  function call(kind, payload) {
    const reply = host.call(JSON.stringify(Object.assign({ kind }, payload)));
    // null: the cell is being interrupted; the host keeps interrupting until it stops.
    if (reply === null) throw new Error("interrupted");
    const parsed = JSON.parse(reply);
    if (!parsed.ok) throw new (ERRORS.get(parsed.errorType) ?? SubcallError)(parsed.error);
    return parsed.value;
  }

  /** A read of a lazy context failed on the host (its message says why). */
  class ContextError extends Error {}
  ContextError.prototype.name = "ContextError";
  ERRORS.set("ContextError", ContextError);
  // Lines asked for per host call by `lines(start, end)`; the host returns fewer when they are long.
  const LINES_PER_CALL = 10000;
  const STRING_METHODS = Object.getOwnPropertyNames(String.prototype).filter(
    (name) => !["constructor", "length", "slice", "includes", "indexOf", "toString"].includes(name),
  );

  function splitLines(text) {
    const lines = text.split("\n");
    if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    return lines.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  }

  function grepWith(read, pattern, options) {
    const { limit = 100, ignoreCase = false, fixed = false } = optionsOf(options);
    const source = pattern instanceof RegExp ? pattern.source : pattern;
    if (typeof source !== "string") throw new TypeError("grep() takes the pattern as a string or a RegExp");
    const found = read("context_grep", {
      pattern: source,
      fixed: fixed === true,
      ignoreCase: ignoreCase === true || (pattern instanceof RegExp && pattern.ignoreCase),
      limit: Math.max(0, Math.floor(Number(limit) || 0)),
    });
    const matches = found.matches.map(([path, line, text]) => ({ path, line, text }));
    Object.defineProperty(matches, "count", { value: found.count });
    return matches;
  }

  /**
   * A read-only, string-like handle to one file of a lazy context, read from the host in pieces.
   * `length` counts UTF-8 bytes and `slice` takes byte offsets; a slice is a real string.
   */
  class LazyFile {
    #name;
    #size;
    #limits;
    constructor(name, path, size, limits) {
      this.#name = name;
      this.#size = size;
      this.#limits = limits;
      Object.defineProperty(this, "path", { value: path, enumerable: true });
    }
    #read(kind, payload) {
      return call(kind, Object.assign({ name: this.#name, path: this.path }, payload));
    }
    get length() {
      return this.#size;
    }
    toString() {
      const what = this.path === null ? `\`${this.#name}\`` : JSON.stringify(this.path);
      return `<lazy file ${what}: ${this.#size} bytes; slice(a, b) it (up to ${this.#limits.maxRead} bytes), iterate its lines(), grep() it>`;
    }
    toJSON() {
      return this.toString();
    }
    /** Bytes `start` to `end` as a string; negative offsets count from the end, as String's slice. */
    slice(start = 0, end = this.#size) {
      const at = (offset) => {
        const n = Math.trunc(Number(offset) || 0);
        return n < 0 ? Math.max(0, this.#size + n) : Math.min(n, this.#size);
      };
      const from = at(start);
      const to = at(end);
      if (to <= from) return "";
      if (to - from > this.#limits.maxRead)
        throw new RangeError(
          `One slice of a lazy context reads at most ${this.#limits.maxRead} bytes (asked for ${to - from}); read smaller slices, or iterate over lines().`,
        );
      return this.#read("context_read", { start: from, end: to });
    }
    /** Whether the file holds `needle`, searched on the host. */
    includes(needle) {
      return this.indexOf(needle) !== -1;
    }
    /** The byte offset of the first `needle` at or after byte `from`, or -1 (searched on the host). */
    indexOf(needle, from = 0) {
      return this.#read("context_find", {
        needle: String(needle),
        start: Math.max(0, Math.trunc(from) || 0),
      });
    }
    /** Its lines without their breaks; `start`/`end` (0-based line numbers) for some only. */
    *lines(start, end) {
      if (start === undefined && end === undefined) {
        let offset = 0;
        while (offset < this.#size) {
          const piece = this.#read("context_chunk", { start: offset });
          if (piece.end <= offset) return;
          offset = piece.end;
          yield* splitLines(piece.text);
        }
        return;
      }
      let first = start ?? 0;
      if (first < 0 || (end !== undefined && end < 0)) {
        const count = this.lineCount();
        if (first < 0) first += count;
        if (end !== undefined && end < 0) end += count;
      }
      while (end === undefined || first < end) {
        const want = end === undefined ? LINES_PER_CALL : Math.min(LINES_PER_CALL, end - first);
        const got = this.#read("context_lines", { start: first, end: first + want });
        if (got.length === 0) return;
        yield* got;
        first += got.length;
      }
    }
    [Symbol.iterator]() {
      return this.lines();
    }
    /** Its lines, counted on the host (the first call reads the whole file once). */
    lineCount() {
      return this.#read("context_line_count", {});
    }
    /**
     * Lines matching `pattern` (a regular expression, or a plain string with `{ fixed: true }`),
     * searched on the host: the first `limit` (100) as `{ path, line, text }`, with `.count` of all.
     */
    grep(pattern, options) {
      return grepWith((kind, payload) => this.#read(kind, payload), pattern, options);
    }
  }
  for (const method of STRING_METHODS) {
    Object.defineProperty(LazyFile.prototype, method, {
      value() {
        throw new TypeError(
          `This is a lazy handle to ${this.length} bytes, not a string: .${method}() would read it all. ` +
            `Slice it first (handle.slice(a, b).${method}(...)), iterate its lines (for (const line of handle.lines())), or search it with .grep(pattern).`,
        );
      },
    });
  }

  /**
   * A read-only object of path to `LazyFile`, for a folder too large to load: `Object.keys`,
   * `Object.entries` and `context[path]` as for an object of texts; `grep()` searches every file.
   */
  class LazyFolder {
    constructor(name, files, limits) {
      let total = 0;
      for (const [key, size] of files) {
        Object.defineProperty(this, key, { value: new LazyFile(name, key, size, limits), enumerable: true });
        total += size;
      }
      Object.defineProperty(this, "totalBytes", { value: total });
      Object.defineProperty(this, "_read", {
        value: (kind, payload) => call(kind, Object.assign({ name, path: null }, payload)),
      });
      Object.freeze(this);
    }
    toString() {
      return `<lazy folder: ${Object.keys(this).length} files, ${this.totalBytes} bytes; context[path] is a file handle, grep() searches them all>`;
    }
    toJSON() {
      return this.toString();
    }
    /** Lines matching `pattern` in every file, searched on the host; see `LazyFile.grep`. */
    grep(pattern, options) {
      return grepWith(this._read, pattern, options);
    }
  }

  function lazyHandle(manifest, name) {
    const limits = { maxRead: manifest.maxRead };
    if (manifest.shape === "file") return new LazyFile(name, null, manifest.files[0][1], limits);
    return new LazyFolder(name, manifest.files, limits);
  }

  const isPlainObject = (value) =>
    typeof value === "object" &&
    value !== null &&
    (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);

  /** A custom tool as a function: its arguments go to the host as one object, checked there. */
  function makeTool({ name, params }) {
    const tool = function (...args) {
      let given;
      if (args.length === 1 && isPlainObject(args[0])) given = Object.assign({}, args[0]);
      else {
        const names = (params ?? []).map((p) => p.name);
        if (args.length > names.length) {
          throw new TypeError(
            params
              ? `${name}() takes ${names.length} positional argument(s) but ${args.length} were given`
              : `${name}() takes one object of named arguments`,
          );
        }
        given = {};
        args.forEach((value, i) => (given[names[i]] = value));
      }
      // null (or undefined) for an optional argument means "not given".
      for (const p of params ?? [])
        if (p.optional && (given[p.name] === null || given[p.name] === undefined)) delete given[p.name];
      return call("tool", { name, args: given });
    };
    Object.defineProperty(tool, "name", { value: name });
    return tool;
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

  /**
   * The first submission of a cell stands; `via` says which form made it (answer, FINAL, FINAL_VAR).
   * With an answer schema, a value that is not a string is captured as JSON text, and one that is not
   * a JSON value throws here, in the model's code.
   */
  function submit(value, via) {
    if (state.submitted !== null) return;
    if (typeof value === "string") state.submitted = value;
    else if (state.typed) {
      state.submitted = jsonText(value, via === "answer" ? "answer.content" : `${via}(value): value`);
      state.submittedJson = true;
    } else state.submitted = stringify(value);
    state.submittedVia = via;
  }

  /** `value` as JSON text, or a TypeError naming the first part of it that is not plain JSON. */
  function jsonText(value, where) {
    const problem = jsonProblem(value, where, new Set());
    if (problem) {
      throw new TypeError(
        `${problem}. This run's answer is checked against a schema, so submit plain objects, arrays, ` +
          "strings, finite numbers, booleans and null only (a Set or Map becomes an array or object, a Date its toISOString()).",
      );
    }
    return JSON.stringify(value);
  }

  /** Where `value` stops being plain JSON, said for the model; null when it is JSON. */
  function jsonProblem(value, where, seen) {
    if (value === null || typeof value === "string" || typeof value === "boolean") return null;
    if (typeof value === "number")
      return Number.isFinite(value) ? null : `${where} is ${value}, which JSON cannot hold`;
    if (typeof value !== "object") return `${where} is ${describe(value).type}, which is not a JSON value`;
    if (seen.has(value)) return `${where} contains itself`;
    seen.add(value);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const problem = jsonProblem(value[i], `${where}[${i}]`, seen);
        if (problem) return problem;
      }
    } else {
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null)
        return `${where} is a ${describe(value).type}, which is not a JSON value`;
      for (const key of Object.keys(value)) {
        const problem = jsonProblem(value[key], `${where}.${key}`, seen);
        if (problem) return problem;
      }
    }
    seen.delete(value);
    return null;
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

  /** A draft that is not a string: plain JSON with a schema when it is JSON, else as printed. */
  function draftText(content) {
    if (typeof content === "string") return content;
    if (state.typed && jsonProblem(content, "", new Set()) === null) return JSON.stringify(content);
    return stringify(content);
  }

  function stringify(value) {
    if (typeof value === "string") return value;
    if (value instanceof LazyFile || value instanceof LazyFolder) return value.toString();
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
      // `name in originals`: the contexts a session added (context_1, ...) are reserved too.
      (name) =>
        !baseline.has(name) && !RESERVED.includes(name) && !(name in originals) && !name.startsWith("__"),
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
    let error = null;
    if (current !== ours && current !== null && typeof current === "object") {
      ours.content = current.content === undefined ? ours.content : current.content;
      try {
        if (current.ready) submitAnswerObject(current);
      } catch (e) {
        // With a schema, content that is not JSON: reported as the cell's error.
        error = { type: e.name, message: e.message, traceback: `${e.name}: ${e.message}` };
      }
    }
    const notes = [];
    for (const name of Object.keys(originals)) {
      if (globalThis[name] !== originals[name]) {
        globalThis[name] = originals[name];
        if (name !== "answer")
          notes.push(`\`${name}\` is reserved and was restored; keep your own data in another variable.`);
      }
    }
    return { notes, error };
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
    /** `context`, or another reserved name a session adds beside it (`context_1`, ...). */
    setContext(value, name = "context") {
      originals[name] = value;
      globalThis[name] = value;
    },
    /** A lazy context (`json`: its manifest): a handle that reads the files on the host in pieces. */
    setLazyContext(json, name = "context") {
      const value = lazyHandle(JSON.parse(json), name);
      originals[name] = value;
      globalThis[name] = value;
    },
    /** Defines the custom tools (`json`: their signatures), reserved like `llm_query`. */
    defineTools(json) {
      for (const spec of JSON.parse(json)) {
        // The host refuses such names; never let one replace a built-in of the REPL.
        if (RESERVED.includes(spec.name) || spec.name.startsWith("_")) continue;
        originals[spec.name] = makeTool(spec);
        globalThis[spec.name] = originals[spec.name];
      }
    },
    /** A session's next question: `answer` starts empty and not ready; every variable stays. */
    newQuestion() {
      originals.answer = makeAnswer();
      globalThis.answer = originals.answer;
    },
    beforeCell(typed) {
      state.submitted = null;
      state.submittedVia = null;
      state.submittedJson = false;
      state.typed = typed === true;
      state.notes = [];
    },
    afterCell() {
      const settled = settle();
      const notes = state.notes.concat(settled.notes);
      const content = originals.answer.content;
      const locals = {};
      for (const name of userVariables().slice(0, MAX_LOCALS)) locals[name] = describe(globalThis[name]);
      return JSON.stringify({
        submitted: state.submitted,
        submittedVia: state.submittedVia,
        submittedJson: state.submittedJson,
        draft: isEmpty(content) ? null : draftText(content),
        notes,
        locals,
        ...(settled.error ? { error: settled.error } : {}),
      });
    },
  };
});
