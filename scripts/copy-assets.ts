/**
 * Copies the non-TypeScript files the package loads at run time (guest preludes, viewer assets) from
 * src/ to dist/, keeping their paths, and makes the `rlm` executable executable (tsc writes it 0644, and
 * `npm ci` runs the build after it would have set the bit, so `npx rlm` failed with "Permission
 * denied"). Run by `npm run build` after tsc.
 */
import { chmodSync, cpSync } from "node:fs";
import { extname } from "node:path";

const ASSET_EXTENSIONS = new Set([".py", ".js", ".html", ".css", ".svg"]);

cpSync("src", "dist", {
  recursive: true,
  filter: (source) => !extname(source) || ASSET_EXTENSIONS.has(extname(source)),
});

chmodSync("dist/cli/bin.js", 0o755);
