/**
 * Every error code a JSON client can see, in one table, in one style (UPPER_SNAKE).
 *
 * Codes come from the protocol itself ({@linkcode ProtocolErrorCode}), the shell (parse errors,
 * unknown commands, lifecycle refusals) and the layers below (filesystem, configs, boards). A
 * few of the lower layers' internal codes are POSIX-style (`ENOENT`, `ECONFIG`): the protocol
 * translates them on the way out ({@linkcode wireErrorCode}), so that the wire has one style.
 * docs/protocol.md lists the same table; a test checks that every code used in lib/ is here and
 * in the doc.
 *
 * @module
 */

/** Every error code on the wire, with what it means. */
export const ERROR_CODES = {
  // The protocol: lines, requests, sessions.
  LINE_TOO_LONG: "the line was longer than 4096 bytes and was discarded",
  INVALID_UTF8: "the line is not valid UTF-8",
  CONTROL_CHARACTER: "the line contains NUL or another control character",
  INVALID_JSON: "the line is not JSON",
  INVALID_REQUEST: "not an object, unknown key, both or neither of `cmd`/`argv`, wrong types",
  AUTH_REQUIRED: "the session must `auth <token>` first",
  AUTH_FAILED: "wrong token (the session closes after 3)",
  AUTH_THROTTLED: "too many wrong tokens from this address: wait before the next try",
  READ_ONLY: "the command would change something in a read-only session",
  INVALID_ARGUMENT: "a session command was used wrongly, or a filesystem argument is invalid",
  UNSUPPORTED: "`vm console` / `vm log --follow` in JSON mode or without a terminal",
  INTERNAL_ERROR: "a command threw instead of failing cleanly (a bug: please report it)",
  SHUTTING_DOWN: "the server is shutting down; the connection is refused",
  TOO_MANY_SESSIONS: "the server has as many sessions as it allows; the connection is refused",
  CANCELLED: "the command was cancelled (Ctrl-C, or its session closed)",
  COMMAND_FAILED: "the command failed without a more precise code",
  // The shell: words, options, arguments.
  PARSE_ERROR: "the command line could not be tokenized (an unclosed quote...)",
  UNCLOSED_QUOTE: "a quote is not closed",
  TRAILING_BACKSLASH: "the line ends with a backslash",
  UNKNOWN_COMMAND: "no such command",
  UNKNOWN_OPTION: "no such option for this command",
  MISSING_VALUE: "an option needs a value",
  FLAG_WITH_VALUE: "a flag was given a value",
  MISSING_REQUIRED_OPTION: "a required option is missing",
  MISSING_ARGUMENT: "a required argument is missing",
  TOO_MANY_ARGUMENTS: "more arguments than the command takes",
  INVALID_VALUE: "an argument or option value is not valid",
  MISSING_REDIRECT_TARGET: "`>` or `>>` without a file name",
  DOUBLE_REDIRECT: "more than one output redirection",
  // VMs and their lifecycle.
  NOT_FOUND: "no VM has that id or name",
  INVALID_ID: "not a valid VM id",
  INVALID_VM_NAME: "a VM name that is empty, too long, numeric or already taken",
  INVALID_STATE: "the VM's status forbids the operation",
  FAILED: "the operation was allowed but failed",
  TIMEOUT: "a wait ran out of (virtual) time",
  CREATE_FAILED: "the VM could not be built from its config",
  CONFIG_INVALID: "the VM config is not valid",
  IMAGE_INVALID: "a guest image is missing, unreadable or malformed",
  OUT_OF_MEMORY: "the board's memory cannot hold the VM",
  IVC_ERROR: "an inter-VM channel could not be set up",
  SCHEDULER_ERROR: "the vCPUs could not be placed on the board's harts",
  BUSY: "the VM's console is held by another session",
  RECORDS: "some VM records could not be restored at start-up",
  NOT_RECORDED: "the VM has no record to restore from",
  TRUNCATED: "a snapshot file is truncated",
  CORRUPTED: "a snapshot file is corrupted (checksum, layout)",
  FOREIGN: "not an axvisor.ts snapshot",
  TOO_NEW: "a snapshot written by a newer version",
  INCOMPATIBLE: "a snapshot that does not fit this board or VM",
  // Boards and devices.
  BOARD_INVALID: "the board description is not valid",
  BUS_MAP: "a device or memory region cannot be mapped there",
  BUS_OVERLAP: "two devices or memory regions overlap",
  MEMORY_RANGE: "an access outside a memory region",
  FDT_BAD_NAME: "a device-tree node or property name is not valid",
  FDT_BAD_PROPERTY: "a device-tree property value is not valid",
  FDT_BAD_STRING: "a device-tree string is not valid",
  FDT_BAD_STRUCTURE: "a device-tree blob is malformed",
  FDT_TRUNCATED: "a device-tree blob is truncated",
  FDT_BAD_MAGIC: "not a device-tree blob (bad magic number)",
  FDT_BAD_VERSION: "a device-tree blob version that is not supported",
  FDT_BAD_LAYOUT: "a device-tree blob whose blocks overlap or lie outside it",
  FDT_DUPLICATE_NODE: "two device-tree nodes with the same name",
  // The filesystem.
  FILE_NOT_FOUND: "no such file or directory",
  ALREADY_EXISTS: "the file or directory already exists",
  IS_A_DIRECTORY: "a directory where a file is needed",
  NOT_A_DIRECTORY: "a file where a directory is needed",
  DIRECTORY_NOT_EMPTY: "the directory is not empty",
  PERMISSION_DENIED: "outside the sandbox, or not allowed by the host",
  READ_ONLY_FILESYSTEM: "the filesystem is read-only",
  IO_ERROR: "the host filesystem failed",
  FS_ERROR: "a filesystem operation of a command failed (the message says which)",
  NAME_TOO_LONG: "a path that is too long or too deep",
  TOO_MANY_ENTRIES: "a recursive operation over too many entries",
} as const;

/** An error code on the wire. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Internal codes of the lower layers and the wire code each becomes. */
export const INTERNAL_ERROR_CODES: Readonly<Record<string, ErrorCode>> = {
  ENOENT: "FILE_NOT_FOUND",
  EEXIST: "ALREADY_EXISTS",
  EISDIR: "IS_A_DIRECTORY",
  ENOTDIR: "NOT_A_DIRECTORY",
  ENOTEMPTY: "DIRECTORY_NOT_EMPTY",
  EACCES: "PERMISSION_DENIED",
  EROFS: "READ_ONLY_FILESYSTEM",
  EIO: "IO_ERROR",
  ENAMETOOLONG: "NAME_TOO_LONG",
  E2BIG: "TOO_MANY_ENTRIES",
  EXISTS: "ALREADY_EXISTS",
  EINVAL: "INVALID_ARGUMENT",
  ECONFIG: "CONFIG_INVALID",
  ECREATE: "CREATE_FAILED",
  EIMAGE: "IMAGE_INVALID",
  ENOMEM: "OUT_OF_MEMORY",
  EIVC: "IVC_ERROR",
  ESCHED: "SCHEDULER_ERROR",
  EVMNAME: "INVALID_VM_NAME",
  INTERNAL: "INTERNAL_ERROR",
};

/** True when `code` is a wire code of {@linkcode ERROR_CODES}. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** The wire form of an error code: internal POSIX-style codes are translated, others kept. */
export function wireErrorCode(code: string): string {
  return Object.hasOwn(INTERNAL_ERROR_CODES, code) ? INTERNAL_ERROR_CODES[code] : code;
}
