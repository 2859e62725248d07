"""Guest runtime of the RLM Python REPL.

Imported once per guest, before the memory snapshot is taken, so it must not touch the host at import
time: the bridge module `_rlm_host` is registered only after start-up and imported lazily. The worker
drives the REPL through `install`, `load_context` and `run_cell`; model-written code sees the names in
`RESERVED` plus whatever it defines itself.
"""

import builtins
import json
import linecache
import reprlib
import sys
import time
import traceback

RESERVED = (
    "context",
    "budget",
    "llm_query",
    "llm_query_batched",
    "rlm_query",
    "rlm_query_batched",
    "SHOW_VARS",
    "answer",
    "FINAL_VAR",
    "FINAL",
)

_PRELUDE_FILE = __file__


class SubcallError(RuntimeError):
    """A sub-call (llm_query, rlm_query) failed on the host after its retries."""


class _Session:
    def __init__(self):
        self.ns = {}
        self.originals = {}
        self.submitted = None
        self.cells = 0
        self.messages = []


_session = _Session()


def _host():
    import _rlm_host  # registered by the worker after start-up

    return _rlm_host


def _call(kind, **payload):
    reply = _host().call(json.dumps({"kind": kind, **payload}))
    if reply is None:
        raise KeyboardInterrupt
    reply = json.loads(reply)
    if not reply["ok"]:
        raise SubcallError(reply["error"])
    return reply["value"]


def _as_prompt(prompt):
    return prompt if isinstance(prompt, str) else str(prompt)


def _as_prompts(prompts):
    if isinstance(prompts, str):
        raise TypeError("expected a list of prompts, got a single str; use llm_query for one prompt")
    return [_as_prompt(p) for p in prompts]


def _as_model(model):
    if model is not None and not isinstance(model, str):
        raise TypeError(f"model must be a str or None, got {type(model).__name__}")
    return model


def llm_query(prompt, model=None):
    """Ask a sub-model one question and return its reply as a str."""
    return _call("llm_query", prompt=_as_prompt(prompt), model=_as_model(model))


def llm_query_batched(prompts, model=None):
    """Ask a sub-model many questions concurrently; replies come back in input order.

    A prompt that fails yields a str starting with "Error:" in its place instead of sinking the batch.
    """
    return _call("llm_query_batched", prompts=_as_prompts(prompts), model=_as_model(model))


def rlm_query(prompt, model=None, context=None):
    """Hand a sub-task to a child RLM with a REPL of its own (a plain sub-call at the depth limit).

    The child's `context` is `context` when given (a str, list or dict), else the prompt itself.
    """
    return _call("rlm_query", prompt=_as_prompt(prompt), model=_as_model(model), context=context)


def rlm_query_batched(prompts, model=None, contexts=None):
    """Run several child RLMs concurrently; results in input order, failures as "Error:" strs.

    `contexts`, when given, holds one context (or None) per prompt.
    """
    prompts = _as_prompts(prompts)
    if contexts is not None:
        contexts = list(contexts)
    return _call("rlm_query_batched", prompts=prompts, model=_as_model(model), contexts=contexts)


def budget():
    """What is left: tokens, cost, sub-calls, seconds (None where there is no limit), and turns."""
    return _call("budget")


def _submit(value):
    if _session.submitted is None:
        _session.submitted = value if isinstance(value, str) else str(value)


class Answer(dict):
    """The answer slot: set answer["content"], then answer["ready"] = True to submit."""

    def __init__(self):
        super().__init__(content=None, ready=False)

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        if key == "ready" and value:
            _submit_answer_dict(self)

    def update(self, *args, **kwargs):
        items = dict(*args, **kwargs)
        has_ready = "ready" in items
        ready = items.pop("ready", None)
        for key, value in items.items():
            super().__setitem__(key, value)
        if has_ready:
            self["ready"] = ready

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]


def _submit_answer_dict(d):
    content = d.get("content")
    if content is None:
        _session.messages.append(
            'answer["ready"] was set but answer["content"] is empty: set the content first, then ready.'
        )
        return
    _submit(content)


def FINAL_VAR(name_or_value):
    """Submit a variable (by name) or a value as the final answer."""
    ns = _session.ns
    if isinstance(name_or_value, str) and name_or_value.isidentifier() and name_or_value in ns:
        _submit(ns[name_or_value])
    else:
        _submit(name_or_value)


def FINAL(value):
    """Submit a value as the final answer."""
    _submit(value)


def _describe(value):
    kind = type(value).__name__
    try:
        size = f"len {len(value):,}"
    except TypeError:
        size = ""
    preview = repr(value)
    if len(preview) > 80:
        preview = preview[:77] + "..."
    return kind, size, preview


_preview = reprlib.Repr(maxlevel=2, maxlist=5, maxtuple=5, maxdict=5, maxset=5, maxstring=60, maxother=60)
MAX_LOCALS = 50


def _user_vars():
    for name, value in _session.ns.items():
        if name.startswith("_") or name in RESERVED or type(value).__name__ == "module":
            continue
        yield name, value


def _locals_summary():
    """Each user variable's type, size and a short preview: never a copy of the data."""
    summary = {}
    for name, value in _user_vars():
        if len(summary) >= MAX_LOCALS:
            break
        entry = {"type": type(value).__name__}
        try:
            entry["size"] = len(value)
        except Exception:  # noqa: BLE001 - len() of arbitrary objects may fail in any way
            pass
        try:
            entry["preview"] = _preview.repr(value)
        except Exception:  # noqa: BLE001 - so may repr()
            entry["preview"] = f"<{entry['type']}>"
        summary[name] = entry
    return summary


def SHOW_VARS():
    """Print the variables you have defined: name, type, size and a short preview."""
    rows = [(name, *_describe(value)) for name, value in _user_vars()]
    if not rows:
        print("No variables yet (context, llm_query and the other built-ins are not listed).")
        return
    for name, kind, size, preview in rows:
        print(f"{name}: {kind}{' (' + size + ')' if size else ''} = {preview}")


def _sleep(seconds):
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    if not _host().sleep(float(seconds) * 1000.0):
        raise KeyboardInterrupt


def _no_input(prompt=""):
    raise RuntimeError("input() is not available: the REPL has no keyboard. Use variables instead.")


def install():
    """Create the namespace model code runs in. Called once per guest, after the bridge exists."""
    answer = Answer()
    originals = {
        "context": None,
        "llm_query": llm_query,
        "llm_query_batched": llm_query_batched,
        "rlm_query": rlm_query,
        "rlm_query_batched": rlm_query_batched,
        "SHOW_VARS": SHOW_VARS,
        "budget": budget,
        "answer": answer,
        "FINAL_VAR": FINAL_VAR,
        "FINAL": FINAL,
    }
    _session.originals = originals
    _session.ns = {"__name__": "__main__", "__builtins__": builtins, **originals}
    time.sleep = _sleep
    builtins.input = _no_input


def new_buffer(size):
    """A zeroed buffer the host fills with the context's UTF-8 bytes."""
    return bytearray(size)


def load_context(data, kind):
    """Make the bytes the host put in `data` the REPL's `context`."""
    text = data.decode("utf-8")
    value = text if kind == "text" else json.loads(text)
    _session.originals["context"] = value
    _session.ns["context"] = value


def _format_error(error):
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename != _PRELUDE_FILE
    ]
    lines = []
    if frames:
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_list(frames))
    lines.extend(traceback.format_exception_only(type(error), error))
    message = str(error)
    return {"type": type(error).__name__, "message": message, "traceback": "".join(lines).rstrip()}


def _settle_answer():
    """Handle `answer` rebound by the cell: a dict with a truthy "ready" submits."""
    current = _session.ns.get("answer")
    ours = _session.originals["answer"]
    if current is ours:
        return
    if isinstance(current, dict):
        dict.update(ours, {k: v for k, v in current.items() if k != "ready"})
        if current.get("ready"):
            _submit_answer_dict(current)


def _restore_reserved():
    notes = []
    for name, original in _session.originals.items():
        if _session.ns.get(name) is not original:
            _session.ns[name] = original
            if name != "answer":
                notes.append(f"`{name}` is reserved and was restored; keep your own data in another variable.")
    return notes


def _execute(code, name):
    """Run the cell; return its error, or None. Never raises."""
    try:
        try:
            exec(compile(code, name, "exec"), _session.ns)
            return None
        except SystemExit:
            return {
                "type": "SystemExit",
                "message": "exit() was called",
                "traceback": 'SystemExit: exit() does not end the REPL; submit with answer["ready"] = True.',
            }
        except BaseException as e:  # noqa: BLE001 - every guest failure is reported, never raised
            return _format_error(e)
    except KeyboardInterrupt:
        # The host's interrupt landed while an earlier error was being formatted.
        return {"type": "KeyboardInterrupt", "message": "interrupted", "traceback": "KeyboardInterrupt"}
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def _summary(error):
    _settle_answer()
    notes = _session.messages + _restore_reserved()
    content = _session.originals["answer"].get("content")
    draft = None if content is None else content if isinstance(content, str) else str(content)
    return json.dumps(
        {
            "error": error,
            "submitted": _session.submitted,
            "draft": draft,
            "notes": notes,
            "locals": _locals_summary(),
        }
    )


def run_cell(code):
    """Run one cell of model code; return a JSON summary (error, submitted answer, draft, notes)."""
    _session.cells += 1
    _session.submitted = None
    _session.messages = []
    name = f"<cell {_session.cells}>"
    linecache.cache[name] = (len(code), None, code.splitlines(True), name)
    error = _execute(code, name)
    # The host interrupts a cell at most once, but that interrupt can land after the cell's own code
    # ended; summarising is idempotent, so it simply runs again.
    while True:
        try:
            return _summary(error)
        except KeyboardInterrupt:
            if error is None:
                error = {"type": "KeyboardInterrupt", "message": "interrupted", "traceback": "KeyboardInterrupt"}
