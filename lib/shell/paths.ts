/**
 * Path arithmetic for the shell: resolving what a user typed against the working directory.
 * Paths never leave the hypervisor's root: `..` at `/` stays at `/`.
 *
 * @module
 */

/** Normalises an absolute path: folds `.`, `..` and repeated slashes; `/a/../b/` gives `/b`. */
export function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return "/" + parts.join("/");
}

/** Resolves `path` against the working directory `cwd` (absolute paths ignore `cwd`). */
export function resolvePath(cwd: string, path: string): string {
  return normalize(path.startsWith("/") ? path : `${cwd}/${path}`);
}

/** Last component of a path (`/a/b.toml` gives `b.toml`; `/` gives `/`). */
export function basename(path: string): string {
  const n = normalize(path);
  return n === "/" ? "/" : n.slice(n.lastIndexOf("/") + 1);
}

/** Parent directory of a path (`/a/b` gives `/a`; `/` gives `/`). */
export function dirname(path: string): string {
  const n = normalize(path);
  const i = n.lastIndexOf("/");
  return i <= 0 ? "/" : n.slice(0, i);
}

/** Joins path pieces and normalises the result. */
export function joinPath(...parts: string[]): string {
  return normalize(parts.join("/"));
}
