/**
 * The hypervisor's view of a filesystem: AxVisor's `/`.
 *
 * Paths are POSIX-style and always relative to the hypervisor's root (`/guest/x.toml` and
 * `guest/x.toml` name the same file when the working directory is `/`). Implementations confine
 * every path to the root: `..`, absolute paths and symlinks never reach outside it.
 *
 * The interface is synchronous so that the VMM and the shell stay simple and deterministic.
 * The host-backed implementation lives in lib/protocol (the only layer that touches `Deno.*`);
 * {@linkcode MemoryFileSystem} in lib/vmm/memory_filesystem.ts serves tests and scripts.
 *
 * @module
 */

/** What a path names. */
export type FileKind = "file" | "dir";

/** Metadata of one directory entry. */
export interface FileInfo {
  /** Base name of the entry. */
  name: string;
  /** File or directory. */
  kind: FileKind;
  /** Size in bytes (0 for directories). */
  size: number;
  /** Last modification time in milliseconds since the epoch, when known. */
  mtimeMs?: number;
}

/** Raised for any filesystem failure; `code` follows POSIX names. */
export class FsError extends Error {
  /**
   * POSIX-style code: ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY, EACCES, EINVAL, EROFS,
   * ENAMETOOLONG (path too long or deep), E2BIG (recursive operation over too many entries).
   */
  readonly code: string;
  /** The path (as the caller wrote it) that the error is about. */
  readonly path: string;
  /** Creates an error such as `ENOENT: no such file or directory: /guest/x.toml`. */
  constructor(code: string, path: string, message?: string) {
    super(message ?? `${FS_MESSAGES[code] ?? code}: ${path}`);
    this.name = "FsError";
    this.code = code;
    this.path = path;
  }
}

const FS_MESSAGES: Record<string, string> = {
  ENOENT: "No such file or directory",
  EEXIST: "File exists",
  ENOTDIR: "Not a directory",
  EISDIR: "Is a directory",
  ENOTEMPTY: "Directory not empty",
  EACCES: "Permission denied",
  EINVAL: "Invalid argument",
  EROFS: "Read-only file system",
  ENAMETOOLONG: "File name too long",
  E2BIG: "Too many entries",
};

/** Most components a path may have (`/a/b/c` has 3): deeper trees are refused, not walked. */
export const MAX_PATH_DEPTH = 64;
/** Longest path in characters, as written by the caller. */
export const MAX_PATH_LENGTH = 1024;
/** Most entries one recursive operation (`rm -r`, `cp -r`) may visit. */
export const MAX_TREE_ENTRIES = 10_000;

/**
 * Refuses a path that is too long or too deep (`ENAMETOOLONG`), so that no path can make a
 * filesystem operation walk an unbounded number of levels. `parts` are its normalised components.
 */
export function checkPathLimits(path: string, parts: readonly string[]): void {
  if (path.length > MAX_PATH_LENGTH) {
    throw new FsError(
      "ENAMETOOLONG",
      path.slice(0, 64) + "...",
      `File name too long: the path has ${path.length} characters (limit ${MAX_PATH_LENGTH})`,
    );
  }
  if (parts.length > MAX_PATH_DEPTH) {
    throw new FsError(
      "ENAMETOOLONG",
      path.slice(0, 64) + "...",
      `File name too long: the path is ${parts.length} levels deep (limit ${MAX_PATH_DEPTH})`,
    );
  }
}

/** The error for a recursive operation over more than {@linkcode MAX_TREE_ENTRIES} entries. */
export function treeTooLarge(path: string): FsError {
  return new FsError(
    "E2BIG",
    path,
    `Too many entries: ${path} holds more than ${MAX_TREE_ENTRIES} files and directories (the limit of one recursive operation)`,
  );
}

/** A filesystem rooted at the hypervisor's `/`. All paths are absolute within that root. */
export interface FileSystem {
  /** Reads a whole file. */
  readFile(path: string): Uint8Array;
  /** Reads a whole file as UTF-8 text. */
  readTextFile(path: string): string;
  /** Creates or replaces a file (or appends when `append` is true). */
  writeFile(path: string, data: Uint8Array | string, options?: { append?: boolean }): void;
  /** Metadata of a path, or `undefined` when it does not exist. */
  stat(path: string): FileInfo | undefined;
  /** Entries of a directory, sorted by name. */
  readDir(path: string): FileInfo[];
  /** Creates a directory; with `recursive`, parents too and no error if it exists. */
  mkdir(path: string, options?: { recursive?: boolean }): void;
  /** Removes a file or directory; with `recursive`, a directory and its contents. */
  remove(path: string, options?: { recursive?: boolean }): void;
  /** Renames (moves) a file or directory. */
  rename(from: string, to: string): void;
  /** Copies a file (or, with `recursive`, a directory tree). */
  copy(from: string, to: string, options?: { recursive?: boolean }): void;
}
