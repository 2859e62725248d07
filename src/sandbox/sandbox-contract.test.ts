import { after } from "node:test";
import { TEST_CACHE_DIR } from "../../test/support.ts";
import { GuestSandbox } from "./guest/guest-sandbox.ts";
import type { GuestRuntime } from "./guest/guest-runtime.ts";
import { JavascriptRuntime } from "./javascript/javascript-runtime.ts";
import { PythonRuntime } from "./python/python-runtime.ts";
import { runSandboxContract, type SandboxDialect } from "./sandbox-contract.ts";
import type { Sandbox } from "./sandbox.ts";

const python: SandboxDialect = {
  printContextLength: "print(len(context))",
  printContextType: "print(type(context).__name__)",
  typeNames: { string: "str", list: "list", object: "dict" },
  assignThenFail: "x = 41\nraise ValueError('boom')",
  errorType: "ValueError",
  printX: "print(x)",
  callLlmQuery: "print(llm_query('ping'))",
  callBatched: "print('|'.join(llm_query_batched(['a', 'b', 'c'])))",
  infiniteLoop: "while True:\n    pass",
  longSleep: "import time\ntime.sleep(60)",
  stubbornLoop:
    "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass",
  queryLoopIgnoringErrors:
    "n = 0\nwhile n < 50:\n    try:\n        llm_query('again')\n    except BaseException:\n        n += 1",
  printMany: (n) => `print('a' * ${n})`,
  submitAnswer: "answer['content'] = 'forty-two'\nanswer['ready'] = True",
  rebindContext: "context = 'something else'",
  syntaxError: "def broken(:\n    pass",
  syntaxErrorType: "SyntaxError",
};

const javascript: SandboxDialect = {
  printContextLength: "print(context.length)",
  printContextType: "print(Array.isArray(context) ? 'array' : typeof context)",
  typeNames: { string: "string", list: "array", object: "object" },
  assignThenFail: "x = 41\nthrow new RangeError('boom')",
  errorType: "RangeError",
  printX: "print(x)",
  callLlmQuery: "print(llm_query('ping'))",
  callBatched: "print(llm_query_batched(['a', 'b', 'c']).join('|'))",
  infiniteLoop: "while (true) {}",
  longSleep: "const start = Date.now()\nwhile (Date.now() - start < 60000) {}",
  stubbornLoop: undefined,
  queryLoopIgnoringErrors: "let n = 0\nwhile (n < 50) {\n  try { llm_query('again') } catch { n++ }\n}",
  printMany: (n) => `print('a'.repeat(${n}))`,
  submitAnswer: "answer.content = 'forty-two'\nanswer.ready = true",
  rebindContext: "context = 'something else'",
  syntaxError: "function broken( {",
  syntaxErrorType: "SyntaxError",
};

const runtimes: GuestRuntime[] = [];
after(() => Promise.all(runtimes.map((runtime) => runtime.close())));

for (const isolation of ["process", "thread"] as const) {
  const py = new PythonRuntime({ cacheDir: TEST_CACHE_DIR, isolation });
  const js = new JavascriptRuntime({ isolation });
  runtimes.push(py, js);
  const sandbox = (language: Sandbox["language"], runtime: GuestRuntime) => () =>
    new GuestSandbox({ language, acquire: () => runtime.acquire(), killGraceMs: 2000 });
  runSandboxContract(`python (${isolation})`, sandbox("python", py), python);
  runSandboxContract(`javascript (${isolation})`, sandbox("javascript", js), javascript);
}
