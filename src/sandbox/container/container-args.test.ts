import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  CONTAINER_DEFAULTS,
  containerKillArgs,
  containerRunArgs,
  PYTHON_COMMAND,
  resolveContainerSettings,
} from "./container-args.ts";

describe("containerRunArgs", () => {
  test("every cap is a flag: no network, read-only root, memory, CPU and process caps, no privileges", () => {
    const args = containerRunArgs(CONTAINER_DEFAULTS, {
      name: "rlm-abc",
      memoryMb: 512,
      contextsDir: "/tmp/rlm-container-x/rlm-abc",
    });
    assert.deepEqual(args, [
      "run",
      "--rm",
      "--interactive",
      "--pull",
      "never",
      "--name",
      "rlm-abc",
      "--label",
      "rlm.sandbox=container",
      "--network",
      "none",
      "--read-only",
      "--tmpfs",
      "/tmp:rw,nosuid,nodev,size=64m",
      "--memory",
      "512m",
      "--memory-swap",
      "512m",
      "--cpus",
      "1",
      "--pids-limit",
      "128",
      "--ulimit",
      "nofile=1024:1024",
      "--ulimit",
      "nproc=4096:4096",
      "--cap-drop",
      "ALL",
      "--security-opt",
      "no-new-privileges",
      "--user",
      "65534:65534",
      "--workdir",
      "/tmp",
      "--log-driver",
      "none",
      "--env",
      "HOME=/tmp",
      "--env",
      "LANG=C.UTF-8",
      "--env",
      "OPENBLAS_NUM_THREADS=1",
      "--env",
      "OMP_NUM_THREADS=1",
      "--volume",
      "/tmp/rlm-container-x/rlm-abc:/rlm/contexts:ro",
      "rlm-python:trixie",
      ...PYTHON_COMMAND,
    ]);
  });

  test("engine arguments go first; contexts over stdin mount nothing; threads follow the CPUs", () => {
    const settings = resolveContainerSettings({
      engine: "podman",
      engineArgs: ["--runtime", "runc"],
      cpus: 2.5,
      contexts: "stdin",
      image: "example/rlm:1",
    });
    const args = containerRunArgs(settings, { name: "rlm-x", memoryMb: 1024, contextsDir: undefined });
    assert.deepEqual(args.slice(0, 3), ["--runtime", "runc", "run"]);
    assert.equal(args.includes("--volume"), false);
    assert.equal(args[args.indexOf("--cpus") + 1], "2.5");
    assert.ok(args.includes("OPENBLAS_NUM_THREADS=3"));
    assert.equal(args[args.indexOf("example/rlm:1") + 1], "python3");
    assert.deepEqual(containerKillArgs(settings, "rlm-x"), ["--runtime", "runc", "kill", "rlm-x"]);
  });

  test("the REPL server starts isolated from PYTHON* variables and in UTF-8 mode", () => {
    assert.deepEqual(PYTHON_COMMAND.slice(0, 5), ["python3", "-I", "-X", "utf8", "-c"]);
  });
});

describe("resolveContainerSettings", () => {
  test("no settings: the defaults", () => {
    assert.equal(resolveContainerSettings(undefined), CONTAINER_DEFAULTS);
    assert.deepEqual(resolveContainerSettings({}), CONTAINER_DEFAULTS);
  });

  test("a wrong value names the setting", () => {
    const cases: [unknown, string][] = [
      [{ cpus: 0 }, "container.cpus"],
      [{ pidsLimit: 2.5 }, "container.pidsLimit"],
      [{ tmpMb: -1 }, "container.tmpMb"],
      [{ image: "" }, "container.image"],
      [{ engine: "--privileged" }, "container.engine"],
      [{ engineArgs: "--remote" }, "container.engineArgs"],
      [{ contexts: "copy" }, "container.contexts"],
      [{ network: "host" }, "container.network"],
      ["podman", "container"],
    ];
    for (const [settings, option] of cases)
      assert.throws(() => resolveContainerSettings(settings as never), {
        code: "RLM_INVALID_OPTION",
        option,
      });
  });
});
