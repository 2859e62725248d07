import { after } from "node:test";
import { TEST_CACHE_DIR } from "../../test/support.ts";
import { GuestSandbox } from "./guest/guest-sandbox.ts";
import type { GuestRuntime } from "./guest/guest-runtime.ts";
import { JavascriptRuntime } from "./javascript/javascript-runtime.ts";
import { PythonRuntime } from "./python/python-runtime.ts";
import { javascriptDialect, pythonDialect, runSandboxContract } from "./sandbox-contract.ts";
import type { Sandbox } from "./sandbox.ts";

const runtimes: GuestRuntime[] = [];
after(() => Promise.all(runtimes.map((runtime) => runtime.close())));

for (const isolation of ["process", "thread"] as const) {
  const py = new PythonRuntime({ cacheDir: TEST_CACHE_DIR, isolation });
  const js = new JavascriptRuntime({ isolation });
  runtimes.push(py, js);
  const sandbox = (language: Sandbox["language"], runtime: GuestRuntime) => () =>
    new GuestSandbox({ language, acquire: () => runtime.acquire(), killGraceMs: 2000 });
  runSandboxContract(`python (${isolation})`, sandbox("python", py), pythonDialect);
  runSandboxContract(`javascript (${isolation})`, sandbox("javascript", js), javascriptDialect);
}
