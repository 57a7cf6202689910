/**
 * Errors of the serial-console protocol.
 *
 * Every protocol-level problem (a bad line, a bad JSON request, a refused command) is a
 * {@linkcode ProtocolError} with a stable machine-readable `code`; JSON sessions see the code in
 * `{"ok": false, "error": {"code", "message"}}` replies, human sessions see the message.
 *
 * @module
 */

/** The stable error codes that the protocol layer itself produces. */
export const ProtocolErrorCode = {
  /** A line longer than the limit (4 KiB); it was discarded. */
  LineTooLong: "LINE_TOO_LONG",
  /** A line that is not valid UTF-8. */
  InvalidUtf8: "INVALID_UTF8",
  /** A line containing NUL or another control character. */
  ControlCharacter: "CONTROL_CHARACTER",
  /** A JSON-mode line that is not valid JSON. */
  InvalidJson: "INVALID_JSON",
  /** A JSON value that is not a well-formed request. */
  InvalidRequest: "INVALID_REQUEST",
  /** A command other than `auth` before the session authenticated. */
  AuthRequired: "AUTH_REQUIRED",
  /** A wrong token. */
  AuthFailed: "AUTH_FAILED",
  /** An `auth` too soon after a wrong token from the same address (it was not checked). */
  AuthThrottled: "AUTH_THROTTLED",
  /** A command that would change something, from a read-only session. */
  ReadOnly: "READ_ONLY",
  /** A session command (`mode`, `events`, `auth`) used wrongly. */
  InvalidArgument: "INVALID_ARGUMENT",
  /** A command that is not available in the session's current mode. */
  Unsupported: "UNSUPPORTED",
  /** A command that threw instead of returning an outcome (a bug below the protocol). */
  Internal: "INTERNAL_ERROR",
  /** The server is shutting down. */
  ShuttingDown: "SHUTTING_DOWN",
  /** The server already has as many sessions as it allows. */
  TooManySessions: "TOO_MANY_SESSIONS",
} as const;

/** One of the values of {@linkcode ProtocolErrorCode}. */
export type ProtocolErrorCodeValue = typeof ProtocolErrorCode[keyof typeof ProtocolErrorCode];

/** A protocol-level failure with a stable `code`. */
export class ProtocolError extends Error {
  /** Machine-readable code, e.g. `LINE_TOO_LONG`. */
  readonly code: string;
  /** Creates an error with `code` and a message that names what is wrong and where. */
  constructor(code: string, message: string) {
    super(message);
    this.name = "ProtocolError";
    this.code = code;
  }
}
