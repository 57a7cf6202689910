/**
 * Filename wildcards for commands that take files (`config check /configs/*.toml`): `*` any
 * run of characters but `/`, `?` one character, `[abc]` / `[a-z]` / `[!a]` a set. Names starting
 * with `.` match only a pattern that starts with `.`, as in a POSIX shell. The expansion is
 * bounded: at most {@linkcode MAX_GLOB_MATCHES} paths and {@linkcode MAX_GLOB_VISITS} directory
 * entries looked at, so no pattern can walk a large tree.
 *
 * @module
 */

import type { FileSystem } from "../vmm/filesystem.ts";
import { normalize } from "./paths.ts";

/** Most paths one pattern may expand to. */
export const MAX_GLOB_MATCHES = 1000;
/** Most directory entries one expansion may look at. */
export const MAX_GLOB_VISITS = 20_000;

/** Raised when a pattern expands to too much. */
export class GlobError extends Error {
  /** Creates the error for `pattern`. */
  constructor(pattern: string, message: string) {
    super(`${pattern}: ${message}`);
    this.name = "GlobError";
  }
}

/** Whether `text` has wildcard characters. */
export function hasWildcards(text: string): boolean {
  return /[*?[]/.test(text);
}

/** The regular expression of one path component's pattern. */
function componentRegex(pattern: string): RegExp {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) {
        re += "\\[";
        continue;
      }
      let set = pattern.slice(i + 1, end);
      const negate = set.startsWith("!") || set.startsWith("^");
      if (negate) set = set.slice(1);
      re += `[${negate ? "^" : ""}${set.replace(/[\\\]]/g, "\\$&")}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(re + "$");
}

/**
 * The existing paths matching absolute pattern `pattern` (already resolved against the working
 * directory), sorted; empty when nothing matches. Throws {@linkcode GlobError} when the
 * expansion is too large.
 */
export function expandGlob(fs: FileSystem, pattern: string): string[] {
  const parts = normalize(pattern).split("/").filter((p) => p !== "");
  let current = ["/"];
  let visits = 0;
  for (let k = 0; k < parts.length; k++) {
    const part = parts[k];
    const last = k === parts.length - 1;
    const next: string[] = [];
    for (const dir of current) {
      const join = (name: string) => (dir === "/" ? `/${name}` : `${dir}/${name}`);
      if (!hasWildcards(part)) {
        const p = join(part);
        const info = safeStat(fs, p);
        if (info && (last || info.kind === "dir")) next.push(p);
        continue;
      }
      const info = safeStat(fs, dir);
      if (!info || info.kind !== "dir") continue;
      const re = componentRegex(part);
      for (const e of fs.readDir(dir)) {
        if (++visits > MAX_GLOB_VISITS) {
          throw new GlobError(pattern, `looks at more than ${MAX_GLOB_VISITS} entries`);
        }
        if (e.name.startsWith(".") && !part.startsWith(".")) continue;
        if (!re.test(e.name) || (!last && e.kind !== "dir")) continue;
        next.push(join(e.name));
        if (next.length > MAX_GLOB_MATCHES) {
          throw new GlobError(pattern, `matches more than ${MAX_GLOB_MATCHES} paths`);
        }
      }
    }
    current = next;
    if (current.length === 0) break;
  }
  return current.sort();
}

function safeStat(fs: FileSystem, path: string) {
  try {
    return fs.stat(path);
  } catch {
    return undefined;
  }
}
