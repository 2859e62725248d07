/**
 * The layering of src/, checked by `npm run lint` (dependency-cruiser). LAYERS is written once here and
 * mirrored in docs/architecture.md ("Layers"): each folder lists what it may import besides itself.
 * Tests may import anything; everything else that breaks a rule, or closes a circle, fails lint.
 */
const BASE = ["errors.ts", "abort.ts", "format-count.ts", "code-points.ts", "describe-issue.ts", "types/"];

/** folder (or top-level file) of src/ -> what it may import. */
const LAYERS = {
  base: [], // errors, abort, format-count, code-points: nothing but each other
  "context/": [],
  "models/": [],
  // What shape a value must have (tool arguments, typed answers): Standard Schema or JSON Schema.
  "schema/": [],
  "budget/": ["models/"],
  "sandbox/": ["context/"],
  "testing/": ["models/", "sandbox/"],
  "trace/": ["context/", "models/", "budget/", "sandbox/"],
  "rlm/": ["context/", "models/", "budget/", "sandbox/", "trace/", "schema/"],
  // The job queue (BullMQ on Redis): submitters and workers, a client of the engine like the server.
  "queue/": ["context/", "models/", "budget/", "sandbox/", "trace/", "rlm/", "schema/"],
  // The HTTP server is a client of the engine like the CLI, and below it; its jobs endpoint submits to queue/.
  "server/": ["context/", "models/", "budget/", "sandbox/", "trace/", "rlm/", "schema/", "queue/"],
  "mcp/": ["context/", "models/", "budget/", "sandbox/", "trace/", "rlm/", "schema/"],
  // The AI SDK provider (`rlm/ai-sdk`) is a client of the engine like the server: nothing imports it.
  "ai-sdk/": ["context/", "models/", "budget/", "sandbox/", "trace/", "rlm/", "schema/"],
  "index.ts": ["context/", "models/", "budget/", "sandbox/", "trace/", "rlm/", "testing/", "schema/"],
  // The benchmark is a client of the engine: the public API (index.ts, testing/), plus trace/ and context/.
  "bench/": ["index.ts", "testing/", "trace/", "context/"],
  "cli/": [
    "context/",
    "models/",
    "budget/",
    "sandbox/",
    "trace/",
    "rlm/",
    "schema/",
    "server/",
    "queue/",
    "mcp/",
    "bench/",
    "index.ts",
  ],
};

const literal = (path) => path.replace(/[.]/g, "\\.");
const pathsOf = (entries) => entries.map((entry) => `^src/${literal(entry)}`).join("|");

const layerRules = Object.entries(LAYERS).map(([layer, allowed]) => {
  const own = layer === "base" ? BASE : [layer];
  return {
    name: `layer-${layer.replace(/\W/g, "") || "base"}`,
    comment: `${layer} may import only ${[...allowed, "the base files"].join(", ")} (see .dependency-cruiser.cjs)`,
    severity: "error",
    from: { path: pathsOf(own), pathNot: "\\.test\\.ts$" },
    to: { path: "^src/", pathNot: pathsOf([...own, ...allowed, ...BASE]) },
  };
});

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "An import circle: cut one edge (move the shared type down a layer).",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "node_modules" },
    // Type-only imports count: a circle through types is still a circle in the design.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
