/**
 * Starts JavaScript guests: QuickJS boots in milliseconds, so there is no snapshot to manage. Guests
 * run on worker threads of a guest host process under Node's permission model (the default), or on
 * worker threads of this process.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { extname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Guest } from "../guest/guest.ts";
import { GuestPool, readyOrTerminate } from "../guest/guest-pool.ts";
import type { GuestRuntimeOptions } from "../guest/guest-runtime.ts";
import { GuestHost, type HostedGuestSpec } from "../guest/guest-host.ts";
import { WorkerGuest } from "../guest/worker-guest.ts";
import type { JavascriptInit } from "./javascript-worker.ts";

const require = createRequire(import.meta.url);
const WORKER_URL = new URL(`./javascript-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
const PRELUDE_URL = new URL("./prelude.js", import.meta.url);
const LABEL = "JavaScript";

export class JavascriptRuntime extends GuestPool {
  readonly #options: Required<Pick<GuestRuntimeOptions, "isolation" | "memoryMb">>;
  readonly #init: JavascriptInit;
  readonly #host: GuestHost | undefined;

  constructor(options: GuestRuntimeOptions = {}) {
    super(options.spares ?? 0);
    this.#options = { isolation: options.isolation ?? "process", memoryMb: options.memoryMb ?? 2048 };
    this.#init = {
      preludeSource: readFileSync(PRELUDE_URL, "utf8"),
      quickjsCoreUrl: pathToFileURL(require.resolve("quickjs-emscripten-core")).href.replace(/\.js$/, ".mjs"),
      quickjsVariantUrl: pathToFileURL(
        require.resolve("@jitl/quickjs-ng-wasmfile-release-sync"),
      ).href.replace(/\.js$/, ".mjs"),
      memoryMb: this.#options.memoryMb,
    };
    if (this.#options.isolation === "process") this.#host = new GuestHost({ standby: options.standby });
  }

  /** The guest host process's id, while one runs (process isolation), for measurements. */
  get hostPid(): number | undefined {
    return this.#host?.pid;
  }

  override async close(): Promise<void> {
    await super.close();
    await this.#host?.close();
  }

  override async leaveStandby(): Promise<void> {
    // No warm-up (see `WarmUp`): QuickJS holds one namespace, which would keep the warm-up's variables.
    await this.#host?.leaveStandby(this.#spec(true));
  }

  protected override boot(background: boolean, signal?: AbortSignal): Promise<Guest> {
    const guest: Guest = this.#host
      ? this.#host.start(this.#spec(background))
      : new WorkerGuest({ workerUrl: WORKER_URL, init: this.#init, label: LABEL, background });
    return readyOrTerminate(guest, signal);
  }

  #spec(background: boolean): HostedGuestSpec {
    return {
      workerUrl: WORKER_URL,
      label: LABEL,
      init: { ...this.#init },
      heapMb: this.#options.memoryMb,
      background,
    };
  }
}
