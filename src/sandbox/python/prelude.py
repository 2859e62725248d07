"""Guest runtime of the RLM Python REPL.

Imported once per guest, before the memory snapshot is taken, so it must not touch the host at import
time: the bridge module `_rlm_host` is registered only after start-up and imported lazily. The worker
drives the REPL through `install`, `load_context`, `run_cell` and `drop_session`; model-written code
sees the names in `RESERVED` plus whatever it defines itself.

One interpreter may hold several sessions (the REPLs of a run and of its child runs), each with a
namespace of its own, identified by a number. Where the runtime can suspend a cell while the host
serves its call (WebAssembly stack switching), the cells of different sessions interleave at their
host calls; otherwise one cell runs at a time.
"""

import builtins
import collections.abc as _abc
import json
import random
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


class ToolError(RuntimeError):
    """A custom tool failed on the host (its message says why)."""


class ToolArgumentError(ToolError):
    """A custom tool was called with arguments its schema refuses (each one is named)."""


# Tracebacks name them as the model's code does (`ToolError`), not by the prelude's module.
ToolError.__module__ = ToolArgumentError.__module__ = "builtins"
_ERRORS = {"ToolError": ToolError, "ToolArgumentError": ToolArgumentError}


class _Session:
    """One REPL: its namespace, its reserved names and the answer it submitted in the current cell."""

    def __init__(self, sid):
        self.id = sid
        self.ns = {}
        self.originals = {}
        self.submitted = None
        self.submitted_via = None
        # The run's answer has a schema: submissions that are not a str must be JSON values.
        self.typed = False
        self.submitted_json = False
        self.cells = 0
        self.messages = []


_sessions = {}
# The session whose code runs now: cells of different sessions interleave only at host calls.
_active = None


def _session_for(sid):
    session = _sessions.get(sid)
    if session is None:
        session = _new_session(sid)
    return session


def _host():
    import _rlm_host  # registered by the worker after start-up

    return _rlm_host


def _wait(session, start):
    """Suspend this cell until what `start()` began is done, letting other sessions' cells run."""
    global _active
    from pyodide.ffi import run_sync

    # What this cell printed so far is its own: write it out before another session's code runs.
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        return run_sync(start())
    finally:
        _active = session
        _host().resume(session.id)


def _call(session, kind, **payload):
    request = json.dumps({"kind": kind, **payload})
    host = _host()
    if host.suspends:
        reply = _wait(session, lambda: host.call_async(session.id, request))
    else:
        reply = host.call(session.id, request)
    if reply is None:
        raise KeyboardInterrupt
    reply = json.loads(reply)
    if not reply["ok"]:
        raise _ERRORS.get(reply.get("errorType"), SubcallError)(reply["error"])
    return reply["value"]


def _tool_function(session, spec):
    """A custom tool as a function: its arguments go to the host as one dict, checked there."""
    name = spec["name"]
    params = spec.get("params")

    def tool(*args, **kwargs):
        return _call(session, "tool", name=name, args=_tool_args(name, params, args, kwargs))

    tool.__name__ = tool.__qualname__ = name
    tool.__doc__ = spec.get("description") or None
    return tool


def _tool_args(name, params, args, kwargs):
    """The dict of named arguments a call means: keywords, positionals named in order, or one dict."""
    if len(args) == 1 and not kwargs and isinstance(args[0], dict):
        given = dict(args[0])
    else:
        names = [p["name"] for p in params or []]
        if len(args) > len(names):
            if params is None:
                raise TypeError(f"{name}() takes keyword arguments (or one dict of them), not positional ones")
            raise TypeError(f"{name}() takes {len(names)} positional argument(s) but {len(args)} were given")
        given = dict(zip(names, args))
        for key, value in kwargs.items():
            if key in given:
                raise TypeError(f"{name}() got multiple values for argument '{key}'")
            given[key] = value
    # None for an optional argument means "not given", as the signature's `= None` says.
    optional = {p["name"] for p in params or [] if p["optional"]}
    given = {key: value for key, value in given.items() if not (value is None and key in optional)}
    try:
        json.dumps(given, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"{name}() takes plain data only (dict, list, str, int, float, bool, None): {e}"
        ) from None
    return given


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


def _api(session):
    """The functions model code calls, bound to one session."""

    def llm_query(prompt, model=None):
        """Ask a sub-model one question and return its reply as a str."""
        return _call(session, "llm_query", prompt=_as_prompt(prompt), model=_as_model(model))

    def llm_query_batched(prompts, model=None):
        """Ask a sub-model many questions concurrently; replies come back in input order.

        A prompt that fails yields a str starting with "Error:" in its place instead of sinking the batch.
        """
        return _call(session, "llm_query_batched", prompts=_as_prompts(prompts), model=_as_model(model))

    def rlm_query(prompt, model=None, context=None):
        """Hand a sub-task to a child RLM with a REPL of its own (a plain sub-call at the depth limit).

        The child's `context` is `context` when given (a str, list or dict), else the prompt itself.
        """
        return _call(
            session, "rlm_query", prompt=_as_prompt(prompt), model=_as_model(model), context=context
        )

    def rlm_query_batched(prompts, model=None, contexts=None):
        """Run several child RLMs concurrently; results in input order, failures as "Error:" strs.

        `contexts`, when given, holds one context (or None) per prompt.
        """
        prompts = _as_prompts(prompts)
        if contexts is not None:
            contexts = list(contexts)
        return _call(
            session, "rlm_query_batched", prompts=prompts, model=_as_model(model), contexts=contexts
        )

    def budget():
        """What is left: tokens, cost, sub-calls, seconds (None where there is no limit), and turns."""
        return _call(session, "budget")

    def FINAL_VAR(name_or_value):
        """Submit a variable (by name) or a value as the final answer."""
        ns = session.ns
        if isinstance(name_or_value, str) and name_or_value.isidentifier() and name_or_value in ns:
            _submit(session, ns[name_or_value], "FINAL_VAR")
        else:
            _submit(session, name_or_value, "FINAL_VAR")

    def FINAL(value):
        """Submit a value as the final answer."""
        _submit(session, value, "FINAL")

    def SHOW_VARS():
        """Print the variables you have defined: name, type, size and a short preview."""
        rows = [(name, *_describe(value)) for name, value in _user_vars(session)]
        if not rows:
            print("No variables yet (context, llm_query and the other built-ins are not listed).")
            return
        for name, kind, size, preview in rows:
            print(f"{name}: {kind}{' (' + size + ')' if size else ''} = {preview}")

    return {
        "llm_query": llm_query,
        "llm_query_batched": llm_query_batched,
        "rlm_query": rlm_query,
        "rlm_query_batched": rlm_query_batched,
        "SHOW_VARS": SHOW_VARS,
        "budget": budget,
        "FINAL_VAR": FINAL_VAR,
        "FINAL": FINAL,
    }


def _submit(session, value, via):
    """The first submission of a cell stands; `via` says which form made it (answer, FINAL, FINAL_VAR).

    With an answer schema, a value that is not a str is captured as JSON text, and one that is not a
    JSON value raises here, in the model's code.
    """
    if session.submitted is not None:
        return
    if isinstance(value, str):
        session.submitted = value
    elif session.typed:
        session.submitted = _json_text(value, 'answer["content"]' if via == "answer" else f"{via}(value): value")
        session.submitted_json = True
    else:
        session.submitted = str(value)
    session.submitted_via = via


_JSON_SCALARS = (str, int, float, bool, type(None))


def _json_text(value, where):
    """`value` as JSON text, or a TypeError naming the first part of it that is not JSON."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        problem = _json_problem(value, where, set())
        raise TypeError(
            f"{problem or where + ' is not a JSON value'}. This run's answer is checked against a schema, "
            "so submit dicts, lists, str, int, float, bool and None only (a set becomes a list, an object "
            "a dict of its fields)."
        ) from None


def _json_problem(value, where, seen):
    """Where `value` stops being JSON, said for the model; None when it is JSON."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return f"{where} is {value!r}, which JSON cannot hold"
    if isinstance(value, _JSON_SCALARS):
        return None
    if id(value) in seen:
        return f"{where} contains itself"
    if isinstance(value, dict):
        seen.add(id(value))
        for key, item in value.items():
            if not isinstance(key, _JSON_SCALARS):
                return f"{where} has a key of type {type(key).__name__} ({key!r}); JSON keys are str"
            problem = _json_problem(item, f"{where}[{key!r}]", seen)
            if problem:
                return problem
        return None
    if isinstance(value, (list, tuple)):
        seen.add(id(value))
        for index, item in enumerate(value):
            problem = _json_problem(item, f"{where}[{index}]", seen)
            if problem:
                return problem
        return None
    return f"{where} is a {type(value).__name__}, which is not a JSON value"


class Answer(dict):
    """The answer slot: set answer["content"], then answer["ready"] = True to submit."""

    def __init__(self, session):
        super().__init__(content="", ready=False)
        self._session = session

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        if key == "ready" and value:
            _submit_answer_dict(self._session, self)

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


def _submit_answer_dict(session, d):
    content = d.get("content")
    if content is None or content == "":
        session.messages.append(
            'answer["ready"] was set but answer["content"] is empty: set the content first, then ready.'
        )
        return
    _submit(session, content, "answer")


_preview = reprlib.Repr(maxlevel=2, maxlist=5, maxtuple=5, maxdict=5, maxset=5, maxstring=60, maxother=60)
MAX_LOCALS = 50


def _bounded_preview(value, kind):
    """A short repr built piece by piece, so a huge value is never turned into one huge string."""
    try:
        return _preview.repr(value)
    except Exception:  # noqa: BLE001 - repr() of arbitrary objects may fail in any way
        return f"<{kind}>"


def _describe(value):
    kind = type(value).__name__
    try:
        size = f"len {len(value):,}"
    except Exception:  # noqa: BLE001 - len() of arbitrary objects may fail in any way
        size = ""
    return kind, size, _bounded_preview(value, kind)


def _user_vars(session):
    for name, value in session.ns.items():
        if (
            name.startswith("_")
            or name in RESERVED
            or name in session.originals  # contexts added by a session (context_1, ...)
            or type(value).__name__ == "module"
        ):
            continue
        yield name, value


def _locals_summary(session):
    """Each user variable's type, size and a short preview: never a copy of the data."""
    summary = {}
    for name, value in _user_vars(session):
        if len(summary) >= MAX_LOCALS:
            break
        entry = {"type": type(value).__name__}
        try:
            entry["size"] = len(value)
        except Exception:  # noqa: BLE001 - len() of arbitrary objects may fail in any way
            pass
        entry["preview"] = _bounded_preview(value, entry["type"])
        summary[name] = entry
    return summary


def _sleep(seconds):
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    host = _host()
    ms = float(seconds) * 1000.0
    session = _active
    if host.suspends and session is not None:
        finished = _wait(session, lambda: host.sleep_async(session.id, ms))
    else:
        finished = host.sleep(ms)
    if not finished:
        raise KeyboardInterrupt


def _no_input(prompt=""):
    raise RuntimeError("input() is not available: the REPL has no keyboard. Use variables instead.")


def install():
    """Patch what the REPL replaces for every session. Called once per guest, after the bridge exists."""
    time.sleep = _sleep
    builtins.input = _no_input
    # The guest was restored from a snapshot: `random` holds the snapshot's state until reseeded.
    seed_random(None)


def seed_random(seed):
    """Seed `random` from `seed`, or from the OS (`os.urandom`) when it is None."""
    random.seed(seed)


def _new_session(sid):
    session = _Session(sid)
    session.originals = {"context": None, **_api(session), "answer": Answer(session)}
    session.ns = {"__name__": "__main__", "__builtins__": builtins, **session.originals}
    _sessions[sid] = session
    return session


def drop_session(sid):
    """Forget a session and everything its code defined."""
    _sessions.pop(sid, None)


def define_tools(tools, sid=0):
    """Define the custom tools (`tools`: their signatures as JSON) in a session, reserved like llm_query."""
    session = _session_for(sid)
    for spec in json.loads(tools):
        name = spec["name"]
        if name in RESERVED or name.startswith("_"):
            continue  # the host refuses such names; never let one replace a built-in of the REPL
        session.originals[name] = session.ns[name] = _tool_function(session, spec)


class ContextError(OSError):
    """A read of a lazy context failed on the host (its message says why)."""


ContextError.__module__ = "builtins"
_ERRORS["ContextError"] = ContextError
_STR_METHODS = frozenset(n for n in dir(str) if not n.startswith("_"))
# Lines asked for per host call by `lines(start, end)`; the host returns fewer when they are long.
_LINES_PER_CALL = 10_000


class GrepMatch(tuple):
    """One matching line: `(path, line, text)`, also as attributes; `line` counts from 1."""

    __slots__ = ()

    def __new__(cls, path, line, text):
        return tuple.__new__(cls, (path, line, text))

    path = property(lambda self: self[0])
    line = property(lambda self: self[1])
    text = property(lambda self: self[2])

    def __repr__(self):
        return f"GrepMatch(path={self[0]!r}, line={self[1]}, text={self[2]!r})"


class GrepResult(list):
    """The first `limit` matching lines (`GrepMatch`), with `count`: how many lines matched in all."""

    count = 0


def _split_lines(text):
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


class LazyFile:
    """A read-only, str-like handle to one file of a lazy context, read from the host in pieces.

    `len()` counts UTF-8 bytes and slices take byte offsets (a cut character reads as U+FFFD); a slice
    is a real `str`. Reads are bounded: one slice returns at most `max_read` bytes.
    """

    __slots__ = ("_session", "_name", "_path", "_size", "_limits", "path")

    def __init__(self, session, name, path, size, limits):
        self._session = session
        self._name = name
        self._path = path
        self._size = size
        self._limits = limits
        self.path = path

    def _read(self, kind, **payload):
        return _call(self._session, kind, name=self._name, path=self._path, **payload)

    def __len__(self):
        return self._size

    def __repr__(self):
        what = f"{self._path!r}" if self._path is not None else f"`{self._name}`"
        return (
            f"<lazy file {what}: {self._size:,} bytes; slice it ([a:b], up to {self._limits['maxRead']:,}"
            " bytes), iterate its lines(), grep() it>"
        )

    __str__ = __repr__

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, step = key.indices(self._size)
            if step != 1:
                raise ValueError("A lazy context is sliced with step 1 only: context[a:b].")
            if stop <= start:
                return ""
            if stop - start > self._limits["maxRead"]:
                raise ValueError(
                    f"One slice of a lazy context reads at most {self._limits['maxRead']:,} bytes"
                    f" (asked for {stop - start:,}); read smaller slices, or iterate over lines()."
                )
            return self._read("context_read", start=start, end=stop)
        if isinstance(key, int):
            at = key + self._size if key < 0 else key
            if not 0 <= at < self._size:
                raise IndexError("lazy context index out of range")
            return self._read("context_read", start=at, end=at + 1)
        raise TypeError(f"lazy context indices must be integers or slices, not {type(key).__name__}")

    def __contains__(self, needle):
        if not isinstance(needle, str):
            raise TypeError(f"'in <lazy file>' requires a str, not {type(needle).__name__}")
        return self._read("context_find", needle=needle, start=0) != -1

    def find(self, sub, start=0):
        """The byte offset of the first `sub` at or after byte `start`, or -1 (searched on the host)."""
        return self._read("context_find", needle=str(sub), start=max(0, int(start)))

    def __iter__(self):
        return self.lines()

    def lines(self, start=None, end=None):
        """Its lines without their line breaks; `start`/`end` (0-based line numbers) for some only."""
        if start is None and end is None:
            return self._stream()
        return self._numbered(start or 0, end)

    def _stream(self):
        offset = 0
        while offset < self._size:
            piece = self._read("context_chunk", start=offset)
            if piece["end"] <= offset:
                return
            offset = piece["end"]
            yield from _split_lines(piece["text"])

    def _numbered(self, start, end):
        if start < 0 or (end is not None and end < 0):
            count = self.line_count()
            start = start + count if start < 0 else start
            end = end + count if end is not None and end < 0 else end
        while end is None or start < end:
            want = _LINES_PER_CALL if end is None else min(_LINES_PER_CALL, end - start)
            got = self._read("context_lines", start=start, end=start + want)
            if not got:
                return
            yield from got
            start += len(got)

    def line_count(self):
        """Its lines, counted on the host (the first call reads the whole file once)."""
        return self._read("context_line_count")

    def grep(self, pattern, limit=100, ignore_case=False, fixed=False):
        """Lines matching `pattern` (a regular expression; `fixed=True`: a plain string), searched on the
        host: a list of the first `limit` `GrepMatch(path, line, text)`, with `.count` of all matches."""
        return _grep(self, self._path, pattern, limit, ignore_case, fixed)

    def __getattr__(self, attr):
        if attr in _STR_METHODS:
            raise TypeError(
                f"`{self._name}` is a lazy handle to {self._size:,} bytes, not a str: .{attr}() would read it"
                f" all. Slice it first ({self._name}[a:b].{attr}(...)), iterate its lines"
                " (for line in handle.lines(): ...), or search it with .grep(pattern)."
            )
        raise AttributeError(f"'LazyFile' object has no attribute '{attr}'")


def _grep(handle, path, pattern, limit, ignore_case, fixed):
    found = handle._read(
        "context_grep",
        pattern=_pattern_text(pattern),
        fixed=bool(fixed),
        ignoreCase=bool(ignore_case),
        limit=max(0, int(limit)),
    )
    result = GrepResult(GrepMatch(*m) for m in found["matches"])
    result.count = found["count"]
    return result


class LazyFolder(_abc.Mapping):
    """A read-only mapping of path to `LazyFile`, for a folder too large to load: `len()` is the number
    of files, `in` tests a path, keys/items/values as a dict's; `grep()` searches every file on the host."""

    def __init__(self, session, name, files, limits):
        self._session = session
        self._name = name
        self._limits = limits
        self._files = {key: LazyFile(session, name, key, size, limits) for key, size in files}
        self.total_bytes = sum(size for _, size in files)

    def _read(self, kind, **payload):
        return _call(self._session, kind, name=self._name, path=None, **payload)

    def __getitem__(self, key):
        return self._files[key]

    def __iter__(self):
        return iter(self._files)

    def __len__(self):
        return len(self._files)

    def __repr__(self):
        return (
            f"<lazy folder `{self._name}`: {len(self._files):,} files, {self.total_bytes:,} bytes;"
            f" {self._name}[path] is a file handle, grep() searches them all>"
        )

    __str__ = __repr__

    def grep(self, pattern, limit=100, ignore_case=False, fixed=False):
        """Lines matching `pattern` in every file, searched on the host: a list of the first `limit`
        `GrepMatch(path, line, text)` in path order, with `.count` of all matching lines."""
        return _grep(self, None, pattern, limit, ignore_case, fixed)


def _pattern_text(pattern):
    pattern = getattr(pattern, "pattern", pattern)  # a compiled re.Pattern
    if not isinstance(pattern, str):
        raise TypeError("grep() takes the pattern as a str")
    return pattern


def _lazy_handle(session, name, manifest):
    limits = {"maxRead": manifest["maxRead"]}
    if manifest["shape"] == "file":
        [(_, size)] = manifest["files"]
        return LazyFile(session, name, None, size, limits)
    return LazyFolder(session, name, manifest["files"], limits)


def new_buffer(size):
    """A zeroed buffer the host fills with the context's UTF-8 bytes."""
    return bytearray(size)


def load_context(data, kind, sid=0, seed=None, name="context"):
    """Make the bytes the host put in `data` the session's `context`; reseed `random` if `seed` is given.

    Another `name` (a session's `context_1`, `context_2`, ...) is added beside `context` and reserved
    like it: restored after every cell.
    """
    if seed is not None:
        seed_random(seed)
    session = _session_for(sid)
    text = data.decode("utf-8")
    if kind == "lazy":
        value = _lazy_handle(session, name, json.loads(text))
    else:
        value = text if kind == "text" else json.loads(text)
    session.originals[name] = value
    session.ns[name] = value


def new_question(sid=0):
    """A session's next question: `answer` starts empty and not ready; every variable stays."""
    session = _session_for(sid)
    session.originals["answer"] = Answer(session)
    session.ns["answer"] = session.originals["answer"]


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


def _settle_answer(session):
    """Handle `answer` rebound by the cell: a dict with a truthy "ready" submits."""
    current = session.ns.get("answer")
    ours = session.originals["answer"]
    if current is ours:
        return
    if isinstance(current, dict):
        dict.update(ours, {k: v for k, v in current.items() if k != "ready"})
        if current.get("ready"):
            _submit_answer_dict(session, current)


def _restore_reserved(session):
    notes = []
    for name, original in session.originals.items():
        if session.ns.get(name) is not original:
            session.ns[name] = original
            if name != "answer":
                notes.append(f"`{name}` is reserved and was restored; keep your own data in another variable.")
    return notes


def _execute(session, code, name):
    """Run the cell; return its error, or None. Never raises."""
    try:
        try:
            exec(compile(code, name, "exec"), session.ns)
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


def _draft_text(session, content):
    """A draft that is not a str: JSON text when the answer has a schema and it is JSON, else str()."""
    if session.typed:
        try:
            return json.dumps(content, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError, RecursionError):
            pass
    return str(content)


def _summary(session, error):
    try:
        _settle_answer(session)
    except TypeError as e:  # a rebound answer dict whose content is not JSON, with a schema
        error = error or _format_error(e)
    notes = session.messages + _restore_reserved(session)
    content = session.originals["answer"].get("content")
    if content is None or content == "":
        draft = None
    else:
        draft = content if isinstance(content, str) else _draft_text(session, content)
    return json.dumps(
        {
            "error": error,
            "submitted": session.submitted,
            "submittedVia": session.submitted_via,
            "submittedJson": session.submitted_json,
            "draft": draft,
            "notes": notes,
            "locals": _locals_summary(session),
        }
    )


def run_cell(code, sid=0, typed=False):
    """Run one cell of model code in a session; return a JSON summary (error, answer, draft, notes).

    `typed`: the run's answer has a schema, so a submitted value that is not a str goes as JSON.
    """
    global _active
    session = _session_for(sid)
    _active = session
    # From here on this session's code runs: its output and interrupts are routed to it.
    _host().resume(sid)
    session.cells += 1
    session.submitted = None
    session.submitted_via = None
    session.typed = bool(typed)
    session.submitted_json = False
    session.messages = []
    # Cell names carry the session, so two sessions' tracebacks never show each other's code.
    name = f"<cell {session.cells}>" if sid == 0 else f"<cell {session.cells} of REPL {sid}>"
    linecache.cache[name] = (len(code), None, code.splitlines(True), name)
    try:
        error = _execute(session, code, name)
        # The host interrupts a cell at most once, but that interrupt can land after the cell's own
        # code ended; summarising is idempotent, so it simply runs again.
        while True:
            try:
                return _summary(session, error)
            except KeyboardInterrupt:
                if error is None:
                    error = {
                        "type": "KeyboardInterrupt",
                        "message": "interrupted",
                        "traceback": "KeyboardInterrupt",
                    }
    finally:
        _active = None
