/**
 * What Anthropic prompt caching saves on an RLM's growing root conversation. A scripted 20-turn run
 * (19 cells that each print about 2,000 characters of the context, then an answer) on the fake
 * server's Anthropic Messages API, through the real loop, the Anthropic adapter and the Python guest,
 * priced at Anthropic's published rates; once with automatic cache breakpoints (the default), once with
 * `promptCaching: false`. The fake models Anthropic's cache (a prefix up to a breakpoint is written once
 * it is 1,024 tokens long, later requests starting with it read it), so the token counts are what the
 * API would report for these prompts.
 *
 *   npm run bench:prompt-cache                 # claude-sonnet-4-5, 20 turns
 *   npm run bench:prompt-cache -- --turns 40 --model claude-haiku-4-5
 *
 * Prints a markdown table on stdout; docs/benchmarks.md records the figures.
 */
import { parseArgs } from "node:util";
import { DEFAULT_PRICING } from "../src/models/pricing.ts";
import { RLM } from "../src/rlm/rlm.ts";
import { conversation, startFakeOpenAIServer } from "../src/testing/index.ts";
import { TEST_CACHE_DIR } from "../test/support.ts";

const { values } = parseArgs({
  options: {
    turns: { type: "string", default: "20" },
    model: { type: "string", default: "claude-sonnet-4-5" },
  },
});
const turns = Number(values.turns);
const modelId = values.model;
const name = `anthropic/${modelId}`;
const price = DEFAULT_PRICING[name];
if (!price) throw new Error(`No published price for ${name} in the table: pick another --model.`);

const repl = (code: string) => "```repl\n" + code + "\n```";
const CHUNK = 2000;
const replies = [
  ...Array.from({ length: turns - 1 }, (_, i) =>
    repl(`print(context[${i * CHUNK}:${(i + 1) * CHUNK}])  # look at part ${i + 1}`),
  ),
  repl('answer["content"] = "done"\nanswer["ready"] = True'),
];
const words = ["error", "request", "timeout", "user", "cache", "disk", "retry", "ok", "latency", "shard"];
const context = Array.from(
  { length: 20_000 },
  (_, i) => `line ${i}: ${words[i % words.length]} ${i * 7919}`,
).join("\n");

interface Row {
  caching: boolean;
  input: number;
  fresh: number;
  written: number;
  read: number;
  output: number;
  cost: number;
}

async function run(caching: boolean): Promise<Row> {
  const server = await startFakeOpenAIServer({ handler: conversation(replies) });
  try {
    const rlm = new RLM({
      model: name,
      baseURL: server.url,
      apiKey: "bench",
      promptCaching: caching,
      maxTurns: turns,
      isolation: "thread",
      cacheDir: TEST_CACHE_DIR,
      logDir: false,
    });
    const result = await rlm.completion({ prompt: "What does the log say?", context });
    if (result.answer !== "done" || result.turns !== turns)
      throw new Error(
        `The scripted run went wrong: ${result.turns} turns, answer ${JSON.stringify(result.answer)}`,
      );
    const t = result.usage.total;
    return {
      caching,
      input: t.inputTokens,
      fresh: t.inputTokens - t.cachedInputTokens - t.cacheWriteTokens,
      written: t.cacheWriteTokens,
      read: t.cachedInputTokens,
      output: t.outputTokens,
      cost: t.costUsd,
    };
  } finally {
    await server.close();
  }
}

const off = await run(false);
const on = await run(true);
const billedInput = (r: Row) =>
  r.fresh * price.inputPerMTok +
  r.written * (price.cacheWritePerMTok ?? 0) +
  r.read * (price.cachedInputPerMTok ?? 0);
const fmt = (n: number) => n.toLocaleString("en-US");
console.log(
  `${turns}-turn run on ${name} ($${price.inputPerMTok} in / $${price.outputPerMTok} out per MTok; cache writes $${price.cacheWritePerMTok}, reads $${price.cachedInputPerMTok})\n`,
);
console.log(
  "| prompt caching | input tokens | uncached | cache writes | cache reads | output tokens | input cost | total cost |",
);
console.log("|---|---|---|---|---|---|---|---|");
for (const r of [off, on])
  console.log(
    `| ${r.caching ? "on (default)" : "off"} | ${fmt(r.input)} | ${fmt(r.fresh)} | ${fmt(r.written)} | ${fmt(r.read)} | ${fmt(r.output)} | $${(billedInput(r) / 1e6).toFixed(4)} | $${r.cost.toFixed(4)} |`,
  );
console.log(`\nWith caching the run costs ${((on.cost / off.cost) * 100).toFixed(1)}% of the uncached run.`);
