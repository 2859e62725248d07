import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "src/sandbox/**/*.py", "docs/", ".scratch/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Guest preludes run inside the guest's interpreter: the file is one expression the worker evaluates.
    files: ["src/sandbox/javascript/prelude.js"],
    rules: { "@typescript-eslint/no-unused-expressions": "off" },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    // dependency-cruiser reads its configuration as CommonJS.
    files: [".dependency-cruiser.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { module: "writable" } },
  },
  {
    // The trajectory viewer's page: plain browser modules, served as they are (no build step).
    files: ["src/trace/viewer/**/*.js"],
    languageOptions: {
      sourceType: "module",
      globals: Object.fromEntries(
        ["window", "document", "location", "fetch", "setTimeout", "clearTimeout", "NodeFilter"].map(
          (name) => [name, "readonly"],
        ),
      ),
    },
  },
);
