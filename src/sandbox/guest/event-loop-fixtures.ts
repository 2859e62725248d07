/**
 * A worker script for worker-support.test.ts: the real JavaScript guest, booting as usual, except that
 * once WebAssembly has compiled its interpreter the result is handed on from an unreferenced timer.
 * That is the kind of wait the compile itself is (no libuv handle stands for it), made observable: if
 * nothing else holds the worker's event loop meanwhile, the loop runs empty, Node drains the process's
 * background tasks on this thread and, finding the loop still empty, lets the worker exit mid-boot.
 */
import "../javascript/javascript-worker.ts";

// The guest's `main()` awaits its first import before it compiles anything, so this patch, run once the
// guest's module has been evaluated, is in place before the compile starts.
const instantiate = WebAssembly.instantiate.bind(WebAssembly) as (
  ...args: unknown[]
) => Promise<WebAssembly.WebAssemblyInstantiatedSource>;
WebAssembly.instantiate = (async (...args: unknown[]) => {
  const instantiated = await instantiate(...args);
  await new Promise((resolve) => setTimeout(resolve, 20).unref());
  return instantiated;
}) as typeof WebAssembly.instantiate;
