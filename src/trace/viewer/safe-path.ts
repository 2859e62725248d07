/**
 * Turns a path from a request into a file under the served folder, or refuses it. Requests name files
 * relative to the root with `/` separators; absolute paths, `..`, backslashes and NUL are refused
 * outright, and a symbolic link that leads outside the root is treated as missing, so the server never
 * reads a file the user did not point it at.
 */
import { realpath } from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";
import { isInside } from "../../context/confine.ts";
import { ViewerRequestError } from "./viewer-error.ts";

/** Longest relative path accepted. @unit characters */
const MAX_PATH_CHARS = 4096;

/**
 * The real path of `relPath` under `realRoot` (itself already a real path).
 * @throws ViewerRequestError 400 for a malformed or escaping path, 404 when the file does not exist
 * or its real location is outside the root.
 */
export async function resolveInside(realRoot: string, relPath: string): Promise<string> {
  if (!relPath || relPath.length > MAX_PATH_CHARS)
    throw new ViewerRequestError(400, "Expected `file` to be a path relative to the served folder.");
  if (relPath.includes("\0") || relPath.includes("\\") || isAbsolute(relPath) || relPath.startsWith("/"))
    throw new ViewerRequestError(400, "Expected `file` to be a relative path with / separators.");
  if (relPath.split("/").some((part) => part === ".." || part === "."))
    throw new ViewerRequestError(400, "Expected `file` to stay inside the served folder (no . or ..).");
  let real: string;
  try {
    real = await realpath(join(realRoot, relPath));
  } catch {
    throw new ViewerRequestError(404, `No such file: ${relPath}`);
  }
  if (!isInside(realRoot, real)) throw new ViewerRequestError(404, `No such file: ${relPath}`);
  return real;
}

/** `absPath` relative to `realRoot`, with `/` separators, as the API names files. */
export function toRelative(realRoot: string, absPath: string): string {
  return relative(realRoot, absPath).split(sep).join("/");
}
