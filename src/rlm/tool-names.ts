/**
 * Which names a custom tool may have. A tool becomes a function of the REPL's namespace, restored after
 * every cell like `llm_query`, so a name the language or the REPL already uses would take that away
 * from the model's code: a keyword cannot be called at all, a built-in (`len`, `JSON`) or a standard
 * module (`json`, imported by a cell) would be replaced by the tool after every cell.
 *
 * The lists are Python 3.14's (`keyword.kwlist`, `softkwlist`, `dir(builtins)`,
 * `sys.stdlib_module_names`, as Pyodide ships them) and QuickJS's global object, without the names that
 * start with `_` (refused anyway: they are the REPL's own).
 */

/** Names every REPL defines (`context_1`, ... are added by sessions). */
const REPL_NAMES = [
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
  "print",
  "console",
];

const PYTHON_KEYWORDS =
  "False None True and as assert async await break class continue def del elif else except finally for " +
  "from global if import in is lambda nonlocal not or pass raise return try while with yield case match type";

const PYTHON_BUILTINS =
  "ArithmeticError AssertionError AttributeError BaseException BaseExceptionGroup BlockingIOError " +
  "BrokenPipeError BufferError BytesWarning ChildProcessError ConnectionAbortedError ConnectionError " +
  "ConnectionRefusedError ConnectionResetError DeprecationWarning EOFError Ellipsis EncodingWarning " +
  "EnvironmentError Exception ExceptionGroup FileExistsError FileNotFoundError FloatingPointError " +
  "FutureWarning GeneratorExit IOError ImportError ImportWarning IndentationError IndexError " +
  "InterruptedError IsADirectoryError KeyError KeyboardInterrupt LookupError MemoryError " +
  "ModuleNotFoundError NameError NotADirectoryError NotImplemented NotImplementedError OSError " +
  "OverflowError PendingDeprecationWarning PermissionError ProcessLookupError PythonFinalizationError " +
  "RecursionError ReferenceError ResourceWarning RuntimeError RuntimeWarning StopAsyncIteration " +
  "StopIteration SyntaxError SyntaxWarning SystemError SystemExit TabError TimeoutError TypeError " +
  "UnboundLocalError UnicodeDecodeError UnicodeEncodeError UnicodeError UnicodeTranslateError " +
  "UnicodeWarning UserWarning ValueError Warning ZeroDivisionError abs aiter all anext any ascii bin bool " +
  "breakpoint bytearray bytes callable chr classmethod compile complex copyright credits delattr dict dir " +
  "divmod enumerate eval exec exit filter float format frozenset getattr globals hasattr hash help hex id " +
  "input int isinstance issubclass iter len license list locals map max memoryview min next object oct " +
  "open ord pow print property quit range repr reversed round set setattr slice sorted staticmethod str " +
  "sum super tuple type vars zip";

const PYTHON_MODULES =
  "abc annotationlib antigravity argparse array ast asyncio atexit base64 bdb binascii bisect builtins bz2 " +
  "cProfile calendar cmath cmd code codecs codeop collections colorsys compileall compression concurrent " +
  "configparser contextlib contextvars copy copyreg csv ctypes curses dataclasses datetime dbm decimal " +
  "difflib dis doctest email encodings ensurepip enum errno faulthandler fcntl filecmp fileinput fnmatch " +
  "fractions ftplib functools gc genericpath getopt getpass gettext glob graphlib grp gzip hashlib heapq " +
  "hmac html http idlelib imaplib importlib inspect io ipaddress itertools json keyword linecache locale " +
  "logging lzma mailbox marshal math mimetypes mmap modulefinder msvcrt multiprocessing netrc nt ntpath " +
  "nturl2path numbers opcode operator optparse os pathlib pdb pickle pickletools pkgutil platform plistlib " +
  "poplib posix posixpath pprint profile pstats pty pwd py_compile pyclbr pydoc pydoc_data pyexpat queue " +
  "quopri random re readline reprlib resource rlcompleter runpy sched secrets select selectors shelve " +
  "shlex shutil signal site smtplib socket socketserver sqlite3 sre_compile sre_constants sre_parse ssl " +
  "stat statistics string stringprep struct subprocess symtable sys sysconfig syslog tabnanny tarfile " +
  "tempfile termios textwrap this threading time timeit tkinter token tokenize tomllib trace traceback " +
  "tracemalloc tty turtle turtledemo types typing unicodedata unittest urllib uuid venv warnings wave " +
  "weakref webbrowser winreg winsound wsgiref xml xmlrpc zipapp zipfile zipimport zlib zoneinfo " +
  // Pyodide's own modules, importable in every cell.
  "pyodide js micropip";

const JAVASCRIPT_KEYWORDS =
  "await break case catch class const continue debugger default delete do else enum export extends false " +
  "finally for function if implements import in instanceof interface let new null package private " +
  "protected public return static super switch this throw true try typeof var void while with yield " +
  "arguments async of get set";

const JAVASCRIPT_GLOBALS =
  "Object Function Error EvalError RangeError ReferenceError SyntaxError TypeError URIError InternalError " +
  "AggregateError Iterator Array parseInt parseFloat isNaN isFinite queueMicrotask decodeURI " +
  "decodeURIComponent encodeURI encodeURIComponent escape unescape Infinity NaN undefined Number Boolean " +
  "String Math Reflect Symbol eval globalThis Date RegExp JSON Proxy Map Set WeakMap WeakSet ArrayBuffer " +
  "SharedArrayBuffer Uint8ClampedArray Int8Array Uint8Array Int16Array Uint16Array Int32Array Uint32Array " +
  "BigInt64Array BigUint64Array Float16Array Float32Array Float64Array DataView Promise BigInt WeakRef " +
  "FinalizationRegistry DOMException performance Atomics";

const words = (list: string) => new Set(list.split(" "));
const TAKEN: Record<"python" | "javascript", [Set<string>, string][]> = {
  python: [
    [words(PYTHON_KEYWORDS), "a Python keyword"],
    [words(PYTHON_BUILTINS), "a Python built-in"],
    [words(PYTHON_MODULES), "a Python standard module (a cell that imports it would lose the tool)"],
  ],
  javascript: [
    [words(JAVASCRIPT_KEYWORDS), "a JavaScript keyword"],
    [words(JAVASCRIPT_GLOBALS), "a JavaScript built-in"],
  ],
};

/** A name of the form both REPL languages call a function by. */
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * Why `name` cannot be a tool's name in a REPL of `language`, or `undefined` when it can.
 *
 * @example
 * toolNameProblem("len", "python") // "is a Python built-in"
 */
export function toolNameProblem(name: string, language: "python" | "javascript"): string | undefined {
  if (!IDENTIFIER.test(name))
    return "is not a plain name: start with a letter, then letters, digits and _ (names starting with _ are the REPL's own)";
  if (REPL_NAMES.includes(name) || /^context_\d+$/.test(name)) return "is one of the REPL's own names";
  for (const [taken, what] of TAKEN[language]) if (taken.has(name)) return `is ${what}`;
  return undefined;
}
