/**
 * An in-memory {@linkcode FileSystem}: the hypervisor's `/` held in a tree of maps.
 *
 * It serves tests and scripts that want a hypervisor without touching the host. Paths follow the
 * {@linkcode FileSystem} rules: POSIX-style, always resolved from the root, `.` and `..` are
 * folded (never climbing above `/`), repeated and trailing slashes are ignored.
 *
 * @example
 * ```ts
 * import { MemoryFileSystem } from "./memory_filesystem.ts";
 * const fs = new MemoryFileSystem({ "/guest/vm_default/linux.toml": "id = 1\n" });
 * fs.readTextFile("guest/vm_default/linux.toml"); // "id = 1\n"
 * ```
 *
 * @module
 */

import {
  checkPathLimits,
  type FileInfo,
  type FileSystem,
  FsError,
  MAX_TREE_ENTRIES,
  treeTooLarge,
} from "./filesystem.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface FileNode {
  kind: "file";
  data: Uint8Array;
  mtimeMs: number;
}

interface DirNode {
  kind: "dir";
  entries: Map<string, Node>;
  mtimeMs: number;
}

type Node = FileNode | DirNode;

/** Options of {@linkcode MemoryFileSystem}. */
export interface MemoryFileSystemOptions {
  /**
   * Clock for modification times, in milliseconds since the epoch. Defaults to a clock fixed at
   * 0 so that listings are deterministic.
   */
  now?: () => number;
  /** When true every change fails with `EROFS` (reads still work). */
  readOnly?: boolean;
}

/**
 * Splits a path into its normalised components: `/a/./b/../c/` gives `["a", "c"]`. `..` at the
 * root stays at the root, so no path can name anything outside the filesystem.
 *
 * @throws {FsError} `EINVAL` for an empty path or one containing a NUL character.
 */
export function normalizePathParts(path: string): string[] {
  if (path.length === 0) throw new FsError("EINVAL", path, "Invalid argument: empty path");
  if (path.includes("\0")) throw new FsError("EINVAL", path, `Invalid argument: NUL in path`);
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  checkPathLimits(path, parts);
  return parts;
}

/** Normalises a path to its absolute form within the root: `a/../b/` gives `/b`. */
export function normalizePath(path: string): string {
  return "/" + normalizePathParts(path).join("/");
}

/** A synchronous in-memory filesystem rooted at `/`. */
export class MemoryFileSystem implements FileSystem {
  #root: DirNode;
  #now: () => number;
  #readOnly: boolean;

  /**
   * Creates a filesystem holding `files` (path to text or bytes); parent directories are
   * created as needed. A key ending in `/` creates an empty directory.
   */
  constructor(
    files: Record<string, string | Uint8Array> = {},
    options: MemoryFileSystemOptions = {},
  ) {
    this.#now = options.now ?? (() => 0);
    this.#root = { kind: "dir", entries: new Map(), mtimeMs: this.#now() };
    this.#readOnly = false;
    for (const [path, content] of Object.entries(files)) {
      if (path.endsWith("/")) {
        this.mkdir(path, { recursive: true });
      } else {
        const parent = normalizePathParts(path).slice(0, -1);
        if (parent.length > 0) this.mkdir("/" + parent.join("/"), { recursive: true });
        this.writeFile(path, content);
      }
    }
    this.#readOnly = options.readOnly ?? false;
  }

  /** Reads a whole file. */
  readFile(path: string): Uint8Array {
    const node = this.#lookup(path);
    if (node.kind === "dir") throw new FsError("EISDIR", path);
    return node.data.slice();
  }

  /** Reads a whole file as UTF-8 text. */
  readTextFile(path: string): string {
    return decoder.decode(this.readFile(path));
  }

  /** Creates or replaces a file (or appends when `append` is true). */
  writeFile(path: string, data: Uint8Array | string, options: { append?: boolean } = {}): void {
    this.#checkWritable(path);
    const bytes = typeof data === "string" ? encoder.encode(data) : data.slice();
    const { parent, name } = this.#parentOf(path);
    const existing = parent.entries.get(name);
    const now = this.#now();
    if (existing?.kind === "dir") throw new FsError("EISDIR", path);
    if (existing && options.append) {
      const joined = new Uint8Array(existing.data.length + bytes.length);
      joined.set(existing.data, 0);
      joined.set(bytes, existing.data.length);
      existing.data = joined;
      existing.mtimeMs = now;
      return;
    }
    parent.entries.set(name, { kind: "file", data: bytes, mtimeMs: now });
    parent.mtimeMs = now;
  }

  /** Metadata of a path, or `undefined` when it does not exist. */
  stat(path: string): FileInfo | undefined {
    const parts = normalizePathParts(path);
    let node: Node = this.#root;
    for (const part of parts) {
      if (node.kind !== "dir") return undefined;
      const next: Node | undefined = node.entries.get(part);
      if (!next) return undefined;
      node = next;
    }
    return infoOf(parts.length === 0 ? "/" : parts[parts.length - 1], node);
  }

  /** Entries of a directory, sorted by name. */
  readDir(path: string): FileInfo[] {
    const node = this.#lookup(path);
    if (node.kind !== "dir") throw new FsError("ENOTDIR", path);
    return [...node.entries.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, child]) => infoOf(name, child));
  }

  /** Creates a directory; with `recursive`, parents too and no error if it exists. */
  mkdir(path: string, options: { recursive?: boolean } = {}): void {
    this.#checkWritable(path);
    const parts = normalizePathParts(path);
    if (parts.length === 0) {
      if (options.recursive) return;
      throw new FsError("EEXIST", path);
    }
    if (!options.recursive) {
      const { parent, name } = this.#parentOf(path);
      if (parent.entries.has(name)) throw new FsError("EEXIST", path);
      const now = this.#now();
      parent.entries.set(name, { kind: "dir", entries: new Map(), mtimeMs: now });
      parent.mtimeMs = now;
      return;
    }
    let dir = this.#root;
    for (const part of parts) {
      const next = dir.entries.get(part);
      if (next === undefined) {
        const now = this.#now();
        const created: DirNode = { kind: "dir", entries: new Map(), mtimeMs: now };
        dir.entries.set(part, created);
        dir.mtimeMs = now;
        dir = created;
      } else if (next.kind === "dir") {
        dir = next;
      } else {
        throw new FsError("ENOTDIR", path);
      }
    }
  }

  /** Removes a file or directory; with `recursive`, a directory and its contents. */
  remove(path: string, options: { recursive?: boolean } = {}): void {
    this.#checkWritable(path);
    if (normalizePathParts(path).length === 0) {
      throw new FsError("EACCES", path, `Permission denied: cannot remove the root directory`);
    }
    const { parent, name } = this.#parentOf(path);
    const node = parent.entries.get(name);
    if (!node) throw new FsError("ENOENT", path);
    if (node.kind === "dir" && node.entries.size > 0 && !options.recursive) {
      throw new FsError("ENOTEMPTY", path);
    }
    if (node.kind === "dir" && countEntries(node, MAX_TREE_ENTRIES) > MAX_TREE_ENTRIES) {
      throw treeTooLarge(path);
    }
    parent.entries.delete(name);
    parent.mtimeMs = this.#now();
  }

  /**
   * Renames (moves) a file or directory. An existing file at `to` is replaced, as is an empty
   * directory when a directory moves onto it; a directory cannot move into itself.
   */
  rename(from: string, to: string): void {
    this.#checkWritable(from);
    const fromParts = normalizePathParts(from);
    const toParts = normalizePathParts(to);
    if (fromParts.length === 0) {
      throw new FsError("EACCES", from, `Permission denied: cannot move the root directory`);
    }
    const src = this.#parentOf(from);
    const node = src.parent.entries.get(src.name);
    if (!node) throw new FsError("ENOENT", from);
    if (isPrefix(fromParts, toParts)) {
      if (fromParts.length === toParts.length) return;
      throw new FsError("EINVAL", to, `Invalid argument: cannot move ${from} into itself (${to})`);
    }
    if (toParts.length === 0) throw new FsError("EEXIST", to);
    const dst = this.#parentOf(to);
    this.#checkReplace(node, dst.parent.entries.get(dst.name), to);
    const now = this.#now();
    src.parent.entries.delete(src.name);
    src.parent.mtimeMs = now;
    dst.parent.entries.set(dst.name, node);
    dst.parent.mtimeMs = now;
  }

  /**
   * Copies a file to `to` (replacing a file there) or, with `recursive`, a directory tree to a
   * path that does not exist yet (or to an empty directory).
   */
  copy(from: string, to: string, options: { recursive?: boolean } = {}): void {
    this.#checkWritable(to);
    const node = this.#lookup(from);
    const fromParts = normalizePathParts(from);
    const toParts = normalizePathParts(to);
    if (node.kind === "dir") {
      if (!options.recursive) {
        throw new FsError("EISDIR", from, `Is a directory (copy it recursively): ${from}`);
      }
      if (isPrefix(fromParts, toParts)) {
        throw new FsError(
          "EINVAL",
          to,
          `Invalid argument: cannot copy ${from} into itself (${to})`,
        );
      }
    } else if (fromParts.length === toParts.length && isPrefix(fromParts, toParts)) {
      throw new FsError("EINVAL", to, `Invalid argument: ${from} and ${to} are the same file`);
    }
    if (toParts.length === 0) throw new FsError("EEXIST", to);
    const dst = this.#parentOf(to);
    this.#checkReplace(node, dst.parent.entries.get(dst.name), to);
    if (node.kind === "dir" && countEntries(node, MAX_TREE_ENTRIES) > MAX_TREE_ENTRIES) {
      throw treeTooLarge(from);
    }
    const now = this.#now();
    dst.parent.entries.set(dst.name, cloneNode(node, now));
    dst.parent.mtimeMs = now;
  }

  /** Every file path in the filesystem, sorted (handy for tests and snapshots). */
  listFiles(): string[] {
    const out: string[] = [];
    const walk = (dir: DirNode, prefix: string) => {
      for (
        const [name, child] of [...dir.entries.entries()].sort((
          [a],
          [b],
        ) => (a < b ? -1 : a > b ? 1 : 0))
      ) {
        const path = `${prefix}/${name}`;
        if (child.kind === "file") out.push(path);
        else walk(child, path);
      }
    };
    walk(this.#root, "");
    return out;
  }

  #checkWritable(path: string): void {
    if (this.#readOnly) throw new FsError("EROFS", path);
  }

  #checkReplace(node: Node, existing: Node | undefined, to: string): void {
    if (!existing) return;
    if (node.kind === "file" && existing.kind === "dir") throw new FsError("EISDIR", to);
    if (node.kind === "dir" && existing.kind === "file") throw new FsError("ENOTDIR", to);
    if (existing.kind === "dir" && existing.entries.size > 0) throw new FsError("ENOTEMPTY", to);
  }

  #lookup(path: string): Node {
    let node: Node = this.#root;
    for (const part of normalizePathParts(path)) {
      if (node.kind !== "dir") throw new FsError("ENOTDIR", path);
      const next: Node | undefined = node.entries.get(part);
      if (!next) throw new FsError("ENOENT", path);
      node = next;
    }
    return node;
  }

  /** The directory that holds `path` (which must exist) and the last component's name. */
  #parentOf(path: string): { parent: DirNode; name: string } {
    const parts = normalizePathParts(path);
    if (parts.length === 0) throw new FsError("EISDIR", path);
    let dir = this.#root;
    for (const part of parts.slice(0, -1)) {
      const next = dir.entries.get(part);
      if (!next) throw new FsError("ENOENT", path);
      if (next.kind !== "dir") throw new FsError("ENOTDIR", path);
      dir = next;
    }
    return { parent: dir, name: parts[parts.length - 1] };
  }
}

function infoOf(name: string, node: Node): FileInfo {
  return {
    name,
    kind: node.kind,
    size: node.kind === "file" ? node.data.length : 0,
    mtimeMs: node.mtimeMs,
  };
}

function isPrefix(prefix: string[], parts: string[]): boolean {
  if (prefix.length > parts.length) return false;
  return prefix.every((part, i) => parts[i] === part);
}

/** Entries below `dir`, counting stops past `limit` (iterative: no recursion depth). */
function countEntries(dir: DirNode, limit: number): number {
  let n = 0;
  const stack: DirNode[] = [dir];
  while (stack.length > 0) {
    for (const child of stack.pop()!.entries.values()) {
      if (++n > limit) return n;
      if (child.kind === "dir") stack.push(child);
    }
  }
  return n;
}

function cloneNode(node: Node, now: number): Node {
  if (node.kind === "file") return { kind: "file", data: node.data.slice(), mtimeMs: now };
  const entries = new Map<string, Node>();
  for (const [name, child] of node.entries) entries.set(name, cloneNode(child, now));
  return { kind: "dir", entries, mtimeMs: now };
}
