"""The REPL server of the container guest: native CPython, driven over stdin and stdout.

It runs the Pyodide guest's own prelude (`src/sandbox/python/prelude.py`, sent by the host as the
first message), so both guests have one set of REPL semantics; this file supplies only what Pyodide's
worker supplies there: the `_rlm_host` bridge module, output capture and interrupts.

The host starts it as `python3 -I -X utf8 -c BOOTSTRAP` (see `container-guest.ts`): the bootstrap reads
a 10-digit length and this file's source from stdin, unbuffered, and runs it. Tests run the file
directly. From then on:

- host to guest: one JSON object per line; one with a `bytes` field is followed by that many raw bytes
  (the prelude, a context sent over the pipe). `boot`, `load`, `execute`, `reply`, `interrupt`,
  `drop`, `new-question`, `define-tools`.
- guest to host: one JSON object per line, ASCII only: `ready`, `loaded`/`load-failed`, `call` (a host
  call made by the running cell), `executed`.

The protocol moves off file descriptors 0 and 1 at once: fd 0 becomes /dev/null, and fds 1 and 2 are
captured in memory files read back after each cell (what subprocesses and C code print), while
`sys.stdout`/`sys.stderr` count and keep output up to the cell's limit. Model code writing to fd 1
therefore never reaches the protocol.

An `interrupt` for the running cell wakes a host call or sleep it waits in (the prelude then raises
KeyboardInterrupt), or sends SIGINT to the main thread; the handler raises only where the cell's own
code or the prelude runs, never inside this server's protocol code. A cell that will not stop is the
host's to kill, with its container. End of stdin ends the process, whatever the cell is doing.
"""

import codecs
import io
import itertools
import json
import os
import re
import signal
import sys
import threading
import traceback
import types

SERVER_FILE = __file__
PRELUDE_FILE = "/rlm/_rlm_prelude.py"
# Bytes read from a capture file at a time.
_CHUNK = 1 << 20


class _Collector:
    """A cell's output on one stream: the first `limit` characters kept, every character counted."""

    def __init__(self, limit):
        self.limit = limit
        self.parts = []
        self.kept = 0
        self.total = 0

    def add(self, text):
        length = len(text)
        self.total += length
        room = self.limit - self.kept
        if room > 0 and length:
            piece = text if length <= room else text[:room]
            self.parts.append(piece)
            self.kept += len(piece)

    def result(self):
        return {"text": "".join(self.parts), "totalChars": self.total}


class _Output(io.TextIOBase):
    """`sys.stdout` or `sys.stderr`: writes go to the running cell's collector."""

    def __init__(self, fd, name):
        super().__init__()
        self._fd = fd
        self.name = f"<{name}>"
        self.collector = _Collector(0)
        # `sys.stdout.buffer.write(b"...")`, as some libraries write.
        self.buffer = _BinaryOutput(self)

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "strict"

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        # Code that writes to the descriptor (subprocess, faulthandler) reaches the capture file.
        return self._fd

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.collector.add(text)
        return len(text)

    def flush(self):
        pass


class _BinaryOutput(io.RawIOBase):
    """`sys.stdout.buffer`: UTF-8 bytes decoded into the text stream."""

    def __init__(self, text):
        super().__init__()
        self._text = text
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def writable(self):
        return True

    def write(self, data):
        self._text.write(self._decoder.decode(bytes(data)))
        return len(data)


def _capture_file(name):
    try:
        return os.memfd_create(name)
    except (AttributeError, OSError):  # no memfd: an unlinked temporary file does the same
        import tempfile

        handle, path = tempfile.mkstemp(prefix=name)
        os.unlink(path)
        return handle


def _drain(fd, collector):
    """Adds what was written to a capture file during the cell, then empties it."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    offset = 0
    while True:
        chunk = os.pread(fd, _CHUNK, offset)
        if not chunk:
            break
        offset += len(chunk)
        collector.add(decoder.decode(chunk))
    collector.add(decoder.decode(b"", True))
    if offset:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)


class _repr_limits_as_keywords:
    """While the prelude is imported: `reprlib.Repr(maxlevel=...)` on Pythons before 3.12, which
    take no keywords there (Debian bookworm's python3 is 3.11; Pyodide's is newer)."""

    def __enter__(self):
        import reprlib

        self.original = reprlib.Repr
        if sys.version_info < (3, 12):

            class Repr(reprlib.Repr):
                def __init__(self, **limits):
                    super().__init__()
                    for name, value in limits.items():
                        setattr(self, name, value)

            reprlib.Repr = Repr

    def __exit__(self, *exc):
        import reprlib

        reprlib.Repr = self.original


class _Waiter:
    """A host call or sleep some thread waits in; `value` None means it was interrupted."""

    def __init__(self, call):
        self.call = call
        self.thread = threading.get_ident()
        self.event = threading.Event()
        self.value = None
        self.interrupted = False


class _Server:
    def __init__(self, proto_in, proto_out, diagnostics):
        self.proto_in = proto_in
        self.proto_out = proto_out
        self.diagnostics = diagnostics
        self.write_lock = threading.Lock()
        self.lock = threading.Lock()
        # The id of the running cell, and the host calls and sleeps its threads wait in (model code may
        # call llm_query from threads of its own); all guarded by `lock`.
        self.cell = None
        self.waiters = set()
        self.calls = itertools.count(1)
        self.commands = []
        self.commands_ready = threading.Condition(self.lock)
        self.prelude = None
        self.stdout = _Output(1, "stdout")
        self.stderr = _Output(2, "stderr")
        self.main_thread = threading.main_thread().ident

    # Both directions of the protocol.

    def send(self, message):
        self.send_line(json.dumps(message))

    def send_line(self, line):
        data = line.encode("ascii") + b"\n"
        with self.write_lock:
            self.proto_out.write(data)
            self.proto_out.flush()

    def receive(self):
        """The next message and its raw bytes (None without); None at the end of stdin."""
        line = self.proto_in.readline()
        if not line:
            return None
        message = json.loads(line)
        size = message.get("bytes")
        payload = None
        if size is not None:
            payload = self.proto_in.read(size)
            if len(payload) != size:
                return None
        return message, payload

    # The `_rlm_host` module the prelude imports.

    def host_module(self):
        module = types.ModuleType("_rlm_host")
        module.suspends = False
        module.call = self.host_call
        module.sleep = self.host_sleep
        module.resume = lambda session: None
        return module

    def host_call(self, session, request):
        """Sends a host call of the cell and waits for its reply (JSON text), or None when interrupted."""
        waiter = _Waiter(next(self.calls))
        with self.lock:
            cell = self.cell
            self.waiters.add(waiter)
        try:
            self.send({"type": "call", "cell": cell, "call": waiter.call, "request": request})
            waiter.event.wait()
            return waiter.value
        finally:
            with self.lock:
                self.waiters.discard(waiter)

    def host_sleep(self, ms):
        """Sleeps `ms` milliseconds; False when an interrupt cut it short."""
        waiter = _Waiter(None)
        with self.lock:
            self.waiters.add(waiter)
        try:
            waiter.event.wait(max(0.0, float(ms)) / 1000.0)
            return not waiter.interrupted
        finally:
            with self.lock:
                self.waiters.discard(waiter)

    # The reader thread: replies and interrupts are handled at once, the rest queued for the main thread.

    def read_forever(self):
        try:
            while True:
                received = self.receive()
                if received is None:
                    break
                message, payload = received
                kind = message.get("type")
                if kind == "reply":
                    self.on_reply(message)
                elif kind == "interrupt":
                    self.on_interrupt(message.get("cell"))
                else:
                    with self.lock:
                        self.commands.append((message, payload))
                        self.commands_ready.notify()
        except Exception as error:  # noqa: BLE001 - a broken pipe or a malformed frame ends the guest
            self.diagnostics.write(f"rlm repl server: {error!r}\n")
            self.diagnostics.flush()
            os._exit(3)
        # The host closed stdin: it is done with this guest, whatever the cell is doing.
        os._exit(0)

    def on_reply(self, message):
        call = message.get("call")
        with self.lock:
            for waiter in self.waiters:
                if waiter.call is not None and waiter.call == call and not waiter.event.is_set():
                    waiter.value = json.dumps(message.get("reply"))
                    waiter.event.set()

    def on_interrupt(self, cell):
        """Wakes every host call and sleep of the cell; signals the main thread unless it was one."""
        with self.lock:
            if cell is None or self.cell != cell:
                return
            main_waits = False
            for waiter in self.waiters:
                if not waiter.event.is_set():
                    waiter.interrupted = True
                    waiter.value = None
                    waiter.event.set()
                main_waits = main_waits or waiter.thread == self.main_thread
            if main_waits:
                return
        signal.pthread_kill(self.main_thread, signal.SIGINT)

    def on_sigint(self, signum, frame):
        """Raises KeyboardInterrupt where the cell's code or the prelude runs; ignores it in ours."""
        if self.cell is None:
            return
        while frame is not None:
            code = frame.f_code
            name = code.co_filename
            if name == SERVER_FILE and code not in _TRANSPARENT:
                return
            if name == PRELUDE_FILE or name.startswith("<cell"):
                raise KeyboardInterrupt
            frame = frame.f_back

    # The main thread: boot, then one command at a time.

    def next_command(self):
        with self.lock:
            while not self.commands:
                self.commands_ready.wait()
            return self.commands.pop(0)

    def boot(self):
        received = self.receive()
        if received is None or received[0].get("type") != "boot":
            raise SystemExit("the first message must be boot")
        source = received[1].decode("utf-8")
        prelude = types.ModuleType("_rlm_prelude")
        prelude.__file__ = PRELUDE_FILE
        sys.modules["_rlm_prelude"] = prelude
        sys.modules["_rlm_host"] = self.host_module()
        with _repr_limits_as_keywords():
            exec(compile(source, PRELUDE_FILE, "exec"), prelude.__dict__)
        prelude.install()
        self.prelude = prelude
        sys.stdout = self.stdout
        sys.stderr = self.stderr
        signal.signal(signal.SIGINT, self.on_sigint)
        threading.Thread(target=self.read_forever, name="rlm-protocol", daemon=True).start()
        self.send({"type": "ready", "python": sys.version.split()[0]})

    def serve(self):
        while True:
            message, payload = self.next_command()
            kind = message.get("type")
            if kind == "load":
                self.load(message, payload)
            elif kind == "execute":
                self.execute(message)
            elif kind == "drop":
                self.prelude.drop_session(message.get("session", 0))
            elif kind == "new-question":
                self.prelude.new_question(message.get("session", 0))
            elif kind == "define-tools":
                self.prelude.define_tools(json.dumps(message.get("tools", [])), message.get("session", 0))

    def load(self, message, payload):
        try:
            if payload is None:
                with open(message["path"], "rb") as file:
                    payload = file.read()
            session, seed = message.get("session", 0), message.get("seed")
            name = message.get("name", "context")
            self.prelude.load_context(payload, message["kind"], session, seed, name)
            payload = None
            self.send({"type": "loaded", "id": message["id"]})
        except Exception as error:  # noqa: BLE001 - reported to the host, which decides
            failure = f"{type(error).__name__}: {error}"
            self.send({"type": "load-failed", "id": message["id"], "message": failure})

    def execute(self, message):
        limit = int(message.get("maxOutputChars", 0))
        self.stdout.collector = _Collector(limit)
        self.stderr.collector = _Collector(limit)
        with self.lock:
            self.cell = message["id"]
        try:
            typed = message.get("typedAnswer") is True
            summary = self.prelude.run_cell(message["code"], message.get("session", 0), typed)
        except KeyboardInterrupt:
            # Landed before the prelude's own guards (the cell had only just started): an interrupted cell.
            summary = _bare_summary(error=_INTERRUPTED)
        except BaseException as error:  # noqa: BLE001 - the prelude never raises; if it did, the REPL is broken
            summary = _bare_summary(fatal=f"{type(error).__name__}: {error}")
        finally:
            with self.lock:
                self.cell = None
        summary = _without_server_frames(summary)
        for output in (self.stdout, self.stderr):
            _drain(output.fileno(), output.collector)
        self.send_line(
            '{"type": "executed", "id": %d, "summary": %s, "stdout": %s, "stderr": %s}'
            % (
                message["id"],
                summary,
                json.dumps(self.stdout.collector.result()),
                json.dumps(self.stderr.collector.result()),
            )
        )
        self.stdout.collector = self.stderr.collector = _Collector(0)


_INTERRUPTED = {"type": "KeyboardInterrupt", "message": "interrupted", "traceback": "KeyboardInterrupt"}


def _bare_summary(error=None, fatal=None):
    """A cell's summary where the prelude made none."""
    summary = {"error": error, "submitted": None, "submittedVia": None, "draft": None}
    summary.update(notes=[], locals={})
    if fatal:
        summary["fatal"] = fatal
    return json.dumps(summary)


# A frame of this file in a formatted traceback: its `File` line and any source lines under it.
_SERVER_FRAME = re.compile(
    r'^  File "%s", line \d+, in [^\n]*\n(?:    [^\n]*\n)*' % re.escape(SERVER_FILE), re.M
)


def _without_server_frames(summary):
    """The summary with this file's frames cut from the traceback, as the prelude cuts its own."""
    if SERVER_FILE not in summary:
        return summary
    parsed = json.loads(summary)
    error = parsed.get("error")
    if error and isinstance(error.get("traceback"), str):
        error["traceback"] = _SERVER_FRAME.sub("", error["traceback"])
    return json.dumps(parsed)


# Our own functions that run on behalf of the cell's code: an interrupt landing in them is the cell's.
_TRANSPARENT = frozenset(
    f.__code__
    for f in (
        _Output.write,
        _Output.flush,
        _Output.isatty,
        _Output.fileno,
        _Output.writable,
        _BinaryOutput.write,
        _Collector.add,
    )
)


def main():
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    # The real stderr stays open for what ends the server, so the host can say why.
    diagnostics = os.fdopen(os.dup(2), "w")
    server = _Server(proto_in, proto_out, diagnostics)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for fd, name in ((1, "rlm-stdout"), (2, "rlm-stderr")):
        capture = _capture_file(name)
        os.dup2(capture, fd)
        os.close(capture)
    try:
        server.boot()
        server.serve()
    except BaseException:
        traceback.print_exc(file=diagnostics)
        diagnostics.flush()
        os._exit(4)


if __name__ == "__main__":
    main()
