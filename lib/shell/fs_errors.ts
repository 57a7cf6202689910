/**
 * Filesystem errors as the shell words them (`No such file or directory`).
 *
 * @module
 */

import { FsError } from "../vmm/filesystem.ts";

const FS_TEXT: Record<string, string> = {
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

/** The reason part of a filesystem error, e.g. `No such file or directory`. */
export function fsErrorText(error: unknown): string {
  if (error instanceof FsError) {
    const plain = FS_TEXT[error.code];
    // A message beyond the standard `<reason>: <path>` says more; keep it.
    if (plain !== undefined && error.message === `${plain}: ${error.path}`) return plain;
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The POSIX code of a filesystem error (`EIO` for anything else). */
export function fsErrorCode(error: unknown): string {
  return error instanceof FsError ? error.code : "EIO";
}
