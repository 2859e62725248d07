/**
 * The container guest against a real engine: the sandbox contract, then what the container stops
 * (docs/security.md, "The container guest"). Skipped, with the reason printed, where no Docker or
 * Podman can run the image (`probeContainerEngine` says what each engine answered). Set
 * `RLM_TEST_CONTAINER_ENGINE` to pick an engine, `RLM_TEST_CONTAINER_IMAGE` for another image.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createSandbox } from "../create-sandbox.ts";
import { GuestSandbox } from "../guest/guest-sandbox.ts";
import { pythonDialect, runSandboxContract } from "../sandbox-contract.ts";
import type { ExecuteOptions, Sandbox } from "../sandbox.ts";
import type { ContainerSettings } from "./container-args.ts";
import { probeContainerEngine } from "./container-fixtures.ts";
import { ContainerRuntime } from "./container-runtime.ts";

const probe = await probeContainerEngine();
const skip = "reason" in probe ? probe.reason : false;
const settings: ContainerSettings = "settings" in probe ? probe.settings : {};
console.log(
  skip
    ? `# the container sandbox tests are skipped: ${skip}`
    : `# the container sandbox tests run on ${JSON.stringify(settings)}`,
);

const runtimes: ContainerRuntime[] = [];
function runtime(more: ContainerSettings = {}, memoryMb = 512): ContainerRuntime {
  const created = new ContainerRuntime({ container: { ...settings, ...more }, memoryMb });
  runtimes.push(created);
  return created;
}
const sandboxOn = (from: ContainerRuntime): Sandbox =>
  new GuestSandbox({ language: "python", acquire: (signal) => from.acquire(signal), killGraceMs: 2000 });
after(() => Promise.all(runtimes.map((r) => r.close())));

if (skip) {
  // A skipped suite registers no tests; this one shows in the counts, with the reason.
  test("container sandbox contract and escape tests", { skip }, () => {});
} else {
  const mounted = runtime();
  const piped = runtime({ contexts: "stdin" });
  runSandboxContract(
    `container (${settings.engine}, contexts mounted)`,
    () => sandboxOn(mounted),
    pythonDialect,
  );
  runSandboxContract(
    `container (${settings.engine}, contexts over stdin)`,
    () => sandboxOn(piped),
    pythonDialect,
  );
}

const options: ExecuteOptions = {
  timeoutMs: 20_000,
  maxOutputChars: 5000,
  onHostCall: async () => ({ ok: true, value: null }),
};

describe("what code in the container cannot do", { skip }, () => {
  let sandbox: Sandbox;
  let hostDir: string;
  let port = 0;
  const server = createServer((socket) => socket.end("hello from the host\n"));
  const run = (code: string) => sandbox.execute(code, options);

  before(async () => {
    hostDir = mkdtempSync(join(tmpdir(), "rlm-container-escape-"));
    writeFileSync(join(hostDir, "secret.txt"), "host secret");
    await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
    port = (server.address() as { port: number }).port;
    process.env.RLM_TEST_SECRET = "sk-should-never-be-seen";
    // Through the default wiring, as `isolation: "container"` starts it.
    sandbox = createSandbox({
      language: "python",
      isolation: "container",
      container: settings,
      memoryMb: 512,
    });
    await sandbox.load("the context");
  });
  after(async () => {
    delete process.env.RLM_TEST_SECRET;
    await sandbox.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(hostDir, { recursive: true, force: true });
  });

  test("numpy and pandas are there, and compute", async () => {
    const result = await run(
      "import numpy as np, pandas as pd\nprint(int(np.arange(10).sum()), int(pd.DataFrame({'a': [1, 2]}).a.sum()))",
    );
    assert.equal(result.stdout.trim(), "45 3", result.error?.traceback);
  });

  test("the host's environment is not visible", async () => {
    const result = await run("import os\nprint(sorted(os.environ))");
    assert.doesNotMatch(result.stdout, /RLM_TEST_SECRET/);
    assert.equal((await run("import os\nprint('sk-should' in str(os.environ))")).stdout.trim(), "False");
  });

  test("no file of the host can be read: not a folder of it, not the engine's code", async () => {
    const result = await run(
      `import os\nprint(os.path.exists(${JSON.stringify(join(hostDir, "secret.txt"))}), os.path.exists(${JSON.stringify(process.cwd())}))`,
    );
    assert.equal(result.stdout.trim(), "False False");
  });

  test("the root file system and the context folder are read-only; only /tmp is writable", async () => {
    const result = await run(
      "import errno\nresults = []\n" +
        "for path in ['/usr/lib/x', '/etc/x', '/rlm/contexts/x', '/x']:\n" +
        "    try:\n        open(path, 'w')\n        results.append('wrote ' + path)\n" +
        "    except OSError as e:\n        results.append(errno.errorcode[e.errno])\n" +
        "open('/tmp/x', 'w').write('ok')\nprint(results, open('/tmp/x').read())",
    );
    assert.equal(result.error, undefined, result.error?.traceback);
    assert.doesNotMatch(result.stdout, /wrote/);
    assert.match(result.stdout, /'EROFS'/);
    assert.match(result.stdout, / ok$/m);
  });

  test("there is no network: loopback only, the host unreachable, no name resolution", async () => {
    const hostAddress = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
    const result = await run(
      "import os, socket\nprint(sorted(os.listdir('/sys/class/net')))\n" +
        `for host in [${JSON.stringify(hostAddress ?? "10.0.0.1")}, '127.0.0.1']:\n` +
        `    try:\n        socket.create_connection((host, ${port}), timeout=3)\n        print('connected', host)\n` +
        "    except OSError as e:\n        print('refused', host, type(e).__name__)\n" +
        "try:\n    socket.getaddrinfo('deb.debian.org', 80)\n    print('resolved')\nexcept OSError:\n    print('no dns')",
    );
    assert.equal(result.error, undefined, result.error?.traceback);
    assert.match(result.stdout, /^\['lo'\]$/m);
    assert.doesNotMatch(result.stdout, /connected|resolved/);
    assert.match(result.stdout, /no dns/);
  });

  test("no capabilities, no privilege gain, an unprivileged user", async () => {
    const result = await run(
      "import os\nstatus = dict(line.split(':\\t') for line in open('/proc/self/status').read().splitlines() if ':\\t' in line)\n" +
        "print(os.getuid(), os.getgid(), status['CapEff'].strip(), status['CapBnd'].strip(), status['NoNewPrivs'].strip())\n" +
        "try:\n    os.setuid(0)\nexcept PermissionError:\n    print('setuid refused')",
    );
    assert.equal(result.stdout.trim(), "65534 65534 0000000000000000 0000000000000000 1\nsetuid refused");
  });

  test("processes and threads are capped", async () => {
    const result = await run(
      "import threading\nstop = threading.Event()\nstarted = 0\n" +
        "try:\n    for _ in range(1000):\n        threading.Thread(target=stop.wait, daemon=True).start()\n        started += 1\n" +
        "finally:\n    stop.set()",
    );
    assert.equal(result.error?.type, "RuntimeError", `started threads: ${result.stdout}`);
    assert.match(result.error?.message ?? "", /can't start new thread/);
  });

  test("the memory and CPU caps are the container's own (read from its cgroup)", async () => {
    const result = await run(
      "import os\n" +
        "def read(*paths):\n    for p in paths:\n        if os.path.exists(p):\n            return open(p).read().split()\n" +
        "memory = read('/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes')\n" +
        "cpu = read('/sys/fs/cgroup/cpu.max') or read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us') + read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')\n" +
        "print(int(memory[0]) // 2**20, int(cpu[0]) / int(cpu[1]))",
    );
    assert.equal(result.stdout.trim(), "512 1.0", result.error?.traceback);
  });
});

describe("the container is killed when its cell will not stop, or runs out of memory", { skip }, () => {
  test("a cell that holds the interpreter in C code is killed with its container, and the REPL restarts", async () => {
    const sandbox = sandboxOn(runtime());
    try {
      await sandbox.load("abc");
      // sum() over a range loops in C without checking for signals, so no interrupt can land.
      const result = await sandbox.execute("sum(range(10**15))", { ...options, timeoutMs: 300 });
      assert.equal(result.timedOut, true);
      assert.equal(result.restarted, true);
      assert.equal((await sandbox.execute("print(len(context))", options)).stdout.trim(), "3");
    } finally {
      await sandbox.close();
    }
  });

  test("a cell past the memory cap takes its container down; a new one starts with the context", async () => {
    const sandbox = sandboxOn(runtime({}, 128));
    try {
      await sandbox.load("abc");
      const result = await sandbox.execute("x = b'a' * (512 * 2**20)", options);
      assert.equal(result.restarted, true, result.error?.traceback);
      assert.equal(result.error?.type, "GuestCrashed");
      assert.match(result.error?.message ?? "", /memory cap of 128 MB/);
      assert.equal((await sandbox.execute("print(len(context))", options)).stdout.trim(), "3");
    } finally {
      await sandbox.close();
    }
  });

  test("no container is left once every sandbox is closed", async () => {
    await Promise.all(runtimes.map((r) => r.close()));
    const engine = settings.engine ?? "docker";
    const left = await new Promise<string>((resolve, reject) =>
      execFile(
        engine,
        [...(settings.engineArgs ?? []), "ps", "--all", "--quiet", "--filter", "label=rlm.sandbox=container"],
        (error, stdout) => (error ? reject(error) : resolve(stdout.trim())),
      ),
    );
    assert.equal(left, "", "containers still there");
  });
});
