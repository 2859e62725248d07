/**
 * Top-level runs of one group sharing booted interpreters (`shareInterpreters`), each run in a
 * namespace of its own, as a run's children already share its interpreter. A run then starts without
 * a boot and costs only what its variables hold. Runs in one interpreter share its modules and
 * builtins: a group must be one caller (`rlm serve` groups by API key), never several.
 */
import type { ExecuteOptions, ExecuteResult, LoadOptions, Sandbox } from "../sandbox/sandbox.ts";
import type { RlmContext } from "../context/context.ts";

interface Host {
  sandbox: Sandbox;
  booted: Promise<void>;
  runs: number;
}

export class SharedInterpreters {
  readonly #create: () => Sandbox;
  readonly #perInterpreter: number;
  readonly #language: Sandbox["language"];
  readonly #groups = new Map<string, Host[]>();

  /** `create` makes a sandbox with an interpreter of its own; each holds up to `perInterpreter` runs. */
  constructor(create: () => Sandbox, perInterpreter: number, language: Sandbox["language"]) {
    this.#create = create;
    this.#perInterpreter = perInterpreter;
    this.#language = language;
  }

  /** A sandbox for a top-level run of `group`: a namespace in one of the group's interpreters. */
  sandbox(group: string): Sandbox {
    return new SharedNamespace(this.#language, () => this.#namespace(group), this.#create);
  }

  /** Boots the group's first interpreter ahead of its first run. */
  prewarm(group: string): void {
    if (!this.#groups.get(group)?.length) this.#boot(group).booted.catch(() => {});
  }

  async #namespace(group: string): Promise<{ sandbox: Sandbox; release: () => void } | undefined> {
    const hosts = this.#groups.get(group) ?? [];
    let host = hosts.find((h) => h.runs < this.#perInterpreter);
    host ??= this.#boot(group);
    host.runs += 1;
    const release = () => {
      host.runs -= 1;
    };
    try {
      await host.booted;
    } catch {
      release();
      this.#drop(group, host);
      return undefined;
    }
    let namespace = host.sandbox.child?.();
    if (!namespace) {
      // The interpreter's sessions are known a moment after its boot resolves.
      await new Promise((resolve) => setImmediate(resolve));
      namespace = host.sandbox.child?.();
    }
    if (!namespace) {
      // The interpreter holds one session only (the JavaScript REPL), or it died: no sharing.
      release();
      this.#drop(group, host);
      return undefined;
    }
    return { sandbox: namespace, release };
  }

  #boot(group: string): Host {
    const sandbox = this.#create();
    const host: Host = { sandbox, booted: sandbox.start(), runs: 0 };
    const hosts = this.#groups.get(group) ?? [];
    hosts.push(host);
    this.#groups.set(group, hosts);
    return host;
  }

  #drop(group: string, host: Host): void {
    const hosts = this.#groups.get(group) ?? [];
    const at = hosts.indexOf(host);
    if (at !== -1) hosts.splice(at, 1);
    if (host.runs === 0) void host.sandbox.close().catch(() => {});
  }
}

/** A run's sandbox that becomes a namespace in a shared interpreter (or one of its own) on first use. */
class SharedNamespace implements Sandbox {
  readonly language: Sandbox["language"];
  readonly #inner: Promise<{ sandbox: Sandbox; release: () => void }>;
  #resolved: Sandbox | undefined;
  #closed = false;

  constructor(
    language: Sandbox["language"],
    namespace: () => Promise<{ sandbox: Sandbox; release: () => void } | undefined>,
    create: () => Sandbox,
  ) {
    this.language = language;
    this.#inner = namespace().then((shared) => shared ?? { sandbox: create(), release: () => {} });
    this.#inner.then(
      ({ sandbox }) => (this.#resolved = sandbox),
      () => {},
    );
  }

  async start(): Promise<void> {
    await (await this.#inner).sandbox.start();
  }

  async load(context: RlmContext, options?: LoadOptions): Promise<void> {
    await (await this.#inner).sandbox.load(context, options);
  }

  async newQuestion(): Promise<void> {
    await (await this.#inner).sandbox.newQuestion?.();
  }

  async execute(code: string, options: ExecuteOptions): Promise<ExecuteResult> {
    return (await this.#inner).sandbox.execute(code, options);
  }

  child(): Sandbox | undefined {
    return this.#resolved?.child?.();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const { sandbox, release } = await this.#inner;
    try {
      await sandbox.close();
    } finally {
      release();
    }
  }
}
