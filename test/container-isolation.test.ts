/**
 * `isolation: "container"` end to end: an RLM whose REPL is native CPython in a container, driven by the
 * fake server, with numpy in the root's cell and a sub-call from it. Skipped, with the reason printed,
 * where no engine can run the image (see `probeContainerEngine`).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { probeContainerEngine } from "../src/sandbox/container/container-fixtures.ts";
import { lastUserMessage, startFakeOpenAIServer, type FakeOpenAIServer } from "../src/testing/index.ts";
import { repl, rlmOnFake } from "./support.ts";

const probe = await probeContainerEngine();
const skip = "reason" in probe ? probe.reason : false;
if (skip) {
  console.log(`# the container isolation test is skipped: ${skip}`);
  // A skipped suite registers no tests; this one shows in the counts, with the reason.
  test("isolation: container", { skip }, () => {});
}

describe("isolation: container", { skip }, () => {
  let fake: FakeOpenAIServer;
  before(async () => {
    fake = await startFakeOpenAIServer({
      handler: (request) => {
        if (request.model === "sub") return `sub saw ${lastUserMessage(request).length} characters`;
        if (lastUserMessage(request).includes("sub saw"))
          return repl('answer["content"] = f"{total} / {reply}"\nanswer["ready"] = True');
        return repl(
          "import numpy as np\ntotal = int(np.array([len(line) for line in context.splitlines()]).sum())\n" +
            "reply = llm_query(context[:5])\nprint(reply)",
        );
      },
    });
  });
  after(() => fake.close());

  test("a run answers from code run in the container, sub-calls included", async () => {
    const rlm = rlmOnFake(fake, {
      isolation: "container",
      container: "settings" in probe ? probe.settings : {},
      guestMemoryMb: 512,
    });
    const result = await rlm.completion({ prompt: "How long are the lines?", context: "abc\ndefgh\n" });
    assert.equal(result.answer, "8 / sub saw 5 characters");
    assert.equal(result.submitted, true);
  });
});
