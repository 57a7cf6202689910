/**
 * The host-backed {@linkcode FileSystem}: a host directory seen as the hypervisor's `/`.
 *
 * Every path is confined to the root, like a chroot:
 * - paths are resolved lexically against `/` first, so `..` can never climb above the root
 *   (`/../../etc/passwd` is `/etc/passwd` inside the root);
 * - symbolic links are followed only when their target stays inside the root; a link that points
 *   outside (or a chain of them) is refused with EACCES, and is left out of directory listings;
 * - NUL bytes and empty path segments are rejected.
 * Errors are {@linkcode FsError}s that carry the path as the caller wrote it.
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
} from "../vmm/filesystem.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A sandboxed view of a host directory. */
export class HostFileSystem implements FileSystem {
  /** The host directory (absolute, symlinks resolved) that is the hypervisor's `/`. */
  readonly hostRoot: string;

  /** Opens `hostRoot` (which must be an existing directory) as the hypervisor's root. */
  constructor(hostRoot: string) {
    let real: string;
    try {
      real = Deno.realPathSync(hostRoot);
    } catch (e) {
      throw new FsError(
        "ENOENT",
        hostRoot,
        `filesystem root ${hostRoot} does not exist: ${(e as Error).message}`,
      );
    }
    if (!Deno.statSync(real).isDirectory) {
      throw new FsError("ENOTDIR", hostRoot, `filesystem root ${hostRoot} is not a directory`);
    }
    this.hostRoot = real.length > 1 && real.endsWith("/") ? real.slice(0, -1) : real;
  }

  /** Normalises a hypervisor path: absolute, no `.`/`..`/empty segments, never above `/`. */
  static normalize(path: string): string {
    if (path.includes("\0")) throw new FsError("EINVAL", path, `path contains a NUL byte`);
    const out: string[] = [];
    for (const seg of path.split("/")) {
      if (seg === "" || seg === ".") continue;
      if (seg === "..") out.pop();
      else out.push(seg);
    }
    checkPathLimits(path, out);
    return "/" + out.join("/");
  }

  /** The host path that a hypervisor path names (checked against symlink escapes). */
  hostPath(path: string): string {
    return this.#resolve(path, true);
  }

  /** Reads a whole file. */
  readFile(path: string): Uint8Array {
    const host = this.#resolve(path, true);
    return this.#wrap(path, () => {
      if (Deno.statSync(host).isDirectory) throw new FsError("EISDIR", path);
      return Deno.readFileSync(host);
    });
  }

  /** Reads a whole file as UTF-8 text. */
  readTextFile(path: string): string {
    return decoder.decode(this.readFile(path));
  }

  /** Creates or replaces a file (or appends when `append` is true). */
  writeFile(path: string, data: Uint8Array | string, options: { append?: boolean } = {}): void {
    const host = this.#resolve(path, true);
    if (HostFileSystem.normalize(path) === "/") throw new FsError("EISDIR", path);
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    this.#wrap(path, () => {
      const info = lstatOrUndefined(host);
      if (info?.isDirectory) throw new FsError("EISDIR", path);
      Deno.writeFileSync(host, bytes, { append: options.append ?? false });
    });
  }

  /** Metadata of a path, or `undefined` when it does not exist (or is an escaping link). */
  stat(path: string): FileInfo | undefined {
    let host: string;
    try {
      host = this.#resolve(path, true);
    } catch (e) {
      if (e instanceof FsError && (e.code === "ENOENT" || e.code === "EACCES")) return undefined;
      throw e;
    }
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(host);
    } catch {
      return undefined;
    }
    const norm = HostFileSystem.normalize(path);
    return toInfo(norm === "/" ? "/" : norm.slice(norm.lastIndexOf("/") + 1), info);
  }

  /** Entries of a directory, sorted by name; links that leave the root are left out. */
  readDir(path: string): FileInfo[] {
    const host = this.#resolve(path, true);
    return this.#wrap(path, () => {
      if (!Deno.statSync(host).isDirectory) throw new FsError("ENOTDIR", path);
      const out: FileInfo[] = [];
      for (const entry of Deno.readDirSync(host)) {
        const child = `${host}/${entry.name}`;
        if (entry.isSymlink && !this.#insideRoot(child)) continue;
        let info: Deno.FileInfo;
        try {
          info = Deno.statSync(child);
        } catch {
          continue; // a dangling link
        }
        out.push(toInfo(entry.name, info));
      }
      out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return out;
    });
  }

  /** Creates a directory; with `recursive`, parents too and no error if it exists. */
  mkdir(path: string, options: { recursive?: boolean } = {}): void {
    const norm = HostFileSystem.normalize(path);
    if (norm === "/") {
      if (options.recursive) return;
      throw new FsError("EEXIST", path);
    }
    if (options.recursive) {
      // Create one level at a time so that every level is checked against escapes.
      const segs = norm.split("/").slice(1);
      for (let i = 1; i <= segs.length; i++) {
        const partial = "/" + segs.slice(0, i).join("/");
        const host = this.#resolve(partial, true);
        const info = statOrUndefined(host);
        if (info) {
          if (!info.isDirectory) throw new FsError("ENOTDIR", path);
          continue;
        }
        this.#wrap(path, () => Deno.mkdirSync(host));
      }
      return;
    }
    const host = this.#resolve(path, false);
    this.#wrap(path, () => Deno.mkdirSync(host));
  }

  /** Removes a file or directory; with `recursive`, a directory and its contents. */
  remove(path: string, options: { recursive?: boolean } = {}): void {
    if (HostFileSystem.normalize(path) === "/") {
      throw new FsError("EACCES", path, `refusing to remove the root directory: ${path}`);
    }
    const host = this.#resolve(path, false);
    this.#wrap(path, () => {
      const info = lstatOrUndefined(host);
      if (!info) throw new FsError("ENOENT", path);
      if (options.recursive && info.isDirectory && countTree(host) > MAX_TREE_ENTRIES) {
        throw treeTooLarge(path);
      }
      Deno.removeSync(host, { recursive: options.recursive ?? false });
    });
  }

  /** Renames (moves) a file or directory. */
  rename(from: string, to: string): void {
    const a = HostFileSystem.normalize(from);
    const b = HostFileSystem.normalize(to);
    if (a === "/" || b === "/") throw new FsError("EINVAL", a === "/" ? from : to);
    if (b.startsWith(a + "/")) {
      throw new FsError("EINVAL", to, `cannot move ${from} into itself: ${to}`);
    }
    const src = this.#resolve(from, false);
    const dst = this.#resolve(to, false);
    this.#wrap(from, () => {
      if (!lstatOrUndefined(src)) throw new FsError("ENOENT", from);
      Deno.renameSync(src, dst);
    });
  }

  /** Copies a file (or, with `recursive`, a directory tree). */
  copy(from: string, to: string, options: { recursive?: boolean } = {}): void {
    const a = HostFileSystem.normalize(from);
    const b = HostFileSystem.normalize(to);
    const src = this.#resolve(from, true);
    const dst = this.#resolve(to, true);
    const info = this.#wrap(from, () => Deno.statSync(src));
    if (info.isDirectory) {
      if (!options.recursive) {
        throw new FsError("EISDIR", from, `${from} is a directory (copy it recursively)`);
      }
      if (b === a || b.startsWith(a + "/")) {
        throw new FsError("EINVAL", to, `cannot copy ${from} into itself: ${to}`);
      }
      if (this.#wrap(from, () => countTree(src)) > MAX_TREE_ENTRIES) throw treeTooLarge(from);
      this.#copyTree(a, b, to);
      return;
    }
    this.#wrap(to, () => {
      if (statOrUndefined(dst)?.isDirectory) throw new FsError("EISDIR", to);
      Deno.writeFileSync(dst, Deno.readFileSync(src));
    });
  }

  #copyTree(from: string, to: string, shownTo: string): void {
    const dst = this.#resolve(to, true);
    const existing = statOrUndefined(dst);
    if (existing && !existing.isDirectory) throw new FsError("ENOTDIR", shownTo);
    if (!existing) this.#wrap(shownTo, () => Deno.mkdirSync(dst));
    for (const entry of this.readDir(from)) {
      const childFrom = `${from === "/" ? "" : from}/${entry.name}`;
      const childTo = `${to === "/" ? "" : to}/${entry.name}`;
      if (entry.kind === "dir") this.#copyTree(childFrom, childTo, shownTo);
      else this.copy(childFrom, childTo);
    }
  }

  /**
   * Maps a hypervisor path to a host path inside the root. With `followFinal`, the whole path
   * (links included) must resolve inside the root; otherwise only its parent must (the final
   * entry itself is what gets removed, renamed or created).
   */
  #resolve(path: string, followFinal: boolean): string {
    const norm = HostFileSystem.normalize(path);
    const host = norm === "/" ? this.hostRoot : this.hostRoot + norm;
    if (norm === "/") return host;
    const parent = host.slice(0, host.lastIndexOf("/"));
    // The parent must exist inside the root for anything to happen there.
    const realParent = realPathOrUndefined(parent);
    if (realParent === undefined) {
      if (!this.#ancestorsInside(parent)) throw new FsError("EACCES", path, escapeMessage(path));
      throw new FsError("ENOENT", path);
    }
    if (!this.#contains(realParent)) throw new FsError("EACCES", path, escapeMessage(path));
    const target = realParent + host.slice(host.lastIndexOf("/"));
    if (followFinal) {
      const link = lstatOrUndefined(target);
      if (link?.isSymlink) {
        const real = realPathOrUndefined(target);
        if (real === undefined) {
          // A dangling link: writing through it could create a file anywhere.
          throw new FsError("EACCES", path, `${path} is a dangling symbolic link`);
        }
        if (!this.#contains(real)) throw new FsError("EACCES", path, escapeMessage(path));
        return real;
      }
    }
    return target;
  }

  /** True when the deepest existing ancestor of `hostPath` resolves inside the root. */
  #ancestorsInside(hostPath: string): boolean {
    let p = hostPath;
    while (p.length > this.hostRoot.length) {
      const real = realPathOrUndefined(p);
      if (real !== undefined) return this.#contains(real);
      if (lstatOrUndefined(p)?.isSymlink) return false; // dangling link on the way
      p = p.slice(0, p.lastIndexOf("/"));
    }
    return true;
  }

  #insideRoot(hostPath: string): boolean {
    const real = realPathOrUndefined(hostPath);
    return real !== undefined && this.#contains(real);
  }

  #contains(realHostPath: string): boolean {
    return realHostPath === this.hostRoot || realHostPath.startsWith(this.hostRoot + "/") ||
      (this.hostRoot === "/" && realHostPath.startsWith("/"));
  }

  #wrap<T>(path: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw toFsError(e, path);
    }
  }
}

/** Converts a Deno I/O error into an {@linkcode FsError} about `path`. */
export function toFsError(e: unknown, path: string): FsError {
  if (e instanceof FsError) return e;
  if (e instanceof Deno.errors.NotFound) return new FsError("ENOENT", path);
  if (e instanceof Deno.errors.AlreadyExists) return new FsError("EEXIST", path);
  if (e instanceof Deno.errors.PermissionDenied) return new FsError("EACCES", path);
  if (e instanceof Deno.errors.NotADirectory) return new FsError("ENOTDIR", path);
  if (e instanceof Deno.errors.IsADirectory) return new FsError("EISDIR", path);
  if (e instanceof Deno.errors.NotCapable) return new FsError("EACCES", path);
  const code = (e as { code?: string }).code;
  if (code && /^E[A-Z]+$/.test(code)) return new FsError(code, path);
  const message = (e as Error)?.message ?? String(e);
  if (/not empty/i.test(message)) return new FsError("ENOTEMPTY", path);
  return new FsError("EINVAL", path, `${path}: ${message}`);
}

function escapeMessage(path: string): string {
  return `Permission denied: ${path} leads outside the filesystem root`;
}

function toInfo(name: string, info: Deno.FileInfo): FileInfo {
  const out: FileInfo = {
    name,
    kind: info.isDirectory ? "dir" : "file",
    size: info.isDirectory ? 0 : info.size,
  };
  if (info.mtime) out.mtimeMs = info.mtime.getTime();
  return out;
}

/** Entries below host directory `dir` (links not followed); counting stops past the limit. */
function countTree(dir: string): number {
  let n = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const e of Deno.readDirSync(d)) {
      if (++n > MAX_TREE_ENTRIES) return n;
      if (e.isDirectory && !e.isSymlink) stack.push(`${d}/${e.name}`);
    }
  }
  return n;
}

function realPathOrUndefined(p: string): string | undefined {
  try {
    return Deno.realPathSync(p);
  } catch {
    return undefined;
  }
}

function lstatOrUndefined(p: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(p);
  } catch {
    return undefined;
  }
}

function statOrUndefined(p: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(p);
  } catch {
    return undefined;
  }
}
