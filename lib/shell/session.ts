/**
 * One user's shell state: working directory, history, read-only flag and log level.
 *
 * @module
 */

import { History } from "./history.ts";

/** Log levels of the `log` command, from quietest to noisiest. */
export const LOG_LEVELS = ["off", "error", "warn", "info", "debug", "trace"] as const;

/** One of {@linkcode LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/** Options of {@linkcode ShellSession}. */
export interface ShellSessionOptions {
  /** Starting directory (absolute, within the hypervisor's root). Default `/`. */
  cwd?: string;
  /** A read-only session may look (list, show, log, wait, help, ls, cat) but change nothing. */
  readOnly?: boolean;
  /** Starting log level. Default `info`. */
  logLevel?: LogLevel;
  /** History size. Default 100. */
  historySize?: number;
  /** A name for the session (shown nowhere by the shell; handy for the protocol). */
  name?: string;
}

/** The per-session state the shell reads and updates. */
export class ShellSession {
  /** Current working directory: absolute and normalised (`/guest`). */
  cwd: string;
  /** Whether the session may change anything. */
  readonly readOnly: boolean;
  /** Log level chosen with `log`. */
  logLevel: LogLevel;
  /** Command history. */
  readonly history: History;
  /** Optional session name. */
  readonly name?: string;

  /** Creates a session. */
  constructor(options: ShellSessionOptions = {}) {
    this.cwd = options.cwd ?? "/";
    this.readOnly = options.readOnly ?? false;
    this.logLevel = options.logLevel ?? "info";
    this.history = new History(options.historySize);
    this.name = options.name;
  }
}
