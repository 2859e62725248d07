/**
 * Keeps context loading inside the folders a caller was granted (`rlm serve --allow-path`, `rlm mcp
 * --root`): a path with `..`, NUL or backslashes is refused outright, a path that names no granted
 * folder is refused with the folders listed, and a file whose real location (after symbolic links) is
 * outside them is never read.
 */
import { realpath, stat } from "node:fs/promises";
import { isAbsolute, resolve, sep } from "node:path";
import picomatch from "picomatch";
import { ContextLoadError } from "../errors.ts";

/** True when `realPath` is `realRoot` or beneath it (both real paths). */
export function isInside(realRoot: string, realPath: string): boolean {
  return realPath === realRoot || realPath.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep);
}

export class PathConfinement {
  /** The granted folders, as real paths. */
  readonly roots: readonly string[];

  private constructor(roots: readonly string[]) {
    this.roots = roots;
  }

  /** Resolves each folder to its real path; throws `ContextLoadError` for one that is not a folder. */
  static async of(dirs: readonly string[], cwd = process.cwd()): Promise<PathConfinement> {
    const roots: string[] = [];
    for (const dir of dirs) {
      const real = await realpath(resolve(cwd, dir)).catch(() => undefined);
      const info = real ? await stat(real).catch(() => undefined) : undefined;
      if (!real || !info?.isDirectory())
        throw new ContextLoadError(
          `${dir} is not a folder; each allowed path must be an existing folder.`,
          dir,
        );
      roots.push(real);
    }
    return new PathConfinement(roots);
  }

  /**
   * Where `spec` (a file, folder or glob, relative to a granted folder or absolute inside one) points,
   * with the granted folder it is under; a relative spec is looked up in each folder in turn.
   * @throws ContextLoadError naming the spec and the granted folders.
   */
  async locate(spec: string): Promise<{ path: string; root: string }> {
    if (!spec || spec.includes("\0") || spec.includes("\\"))
      throw this.#refuse(spec, "is not a path with / separators");
    if (spec.split("/").includes(".."))
      throw this.#refuse(spec, "climbs out with ..; name it from inside an allowed folder");
    if (isAbsolute(spec)) {
      const root = this.roots.find((r) => isInside(r, spec));
      if (!root) throw this.#refuse(spec, "is outside the allowed folders");
      return { path: spec, root };
    }
    const scan = picomatch.scan(spec);
    const base = scan.isGlob ? scan.base || "." : spec;
    for (const root of this.roots) {
      if (await stat(resolve(root, base)).catch(() => undefined)) return { path: resolve(root, spec), root };
    }
    throw this.#refuse(spec, "does not exist in any allowed folder");
  }

  /** True when the file at `path` really lives inside a granted folder (symbolic links followed). */
  async allows(path: string): Promise<boolean> {
    const real = await realpath(path).catch(() => undefined);
    return real !== undefined && this.roots.some((root) => isInside(root, real));
  }

  #refuse(spec: string, why: string): ContextLoadError {
    return new ContextLoadError(
      `The context path "${spec}" ${why}. Allowed folders: ${this.roots.join(", ") || "(none)"}.`,
      spec,
    );
  }
}
