/**
 * What a command returns: a structured result for JSON mode plus a human rendering. Handlers
 * never print; the protocol layer decides how to show an outcome.
 *
 * @module
 */

/** What the session should do after the command, beyond showing its output. */
export type CommandAction =
  /**
   * Attach the session to a VM's console (`readOnly`: watch only, typing is refused). `instance`
   * binds the attach to that VM instance: input stops reaching it once it is deleted, even if
   * a new VM takes its id.
   */
  | {
    type: "attach";
    vmId: number;
    readOnly?: boolean;
    /** The VM instance (see `Vm.instance`) the attach is bound to. */
    instance?: number;
    /** Escape keys (`vm console --escape/--line-escape`); `null` turns one off. */
    escape?: { control?: number | null; line?: number | null };
    /** The VM is not running yet (`vm console --force`): output comes once it starts. */
    waiting?: boolean;
  }
  /** Stream a VM's new console output to the session until Ctrl-C (`vm log --follow`). */
  | { type: "follow"; vmId: number; instance?: number }
  /** End the session (`exit`, `quit`), with an optional status code. */
  | { type: "exit"; code?: number }
  /** Clear the terminal. */
  | { type: "clear" }
  /** Stop the whole hypervisor. */
  | { type: "shutdown" };

/** A command's result (see docs/architecture.md). */
export interface CommandOutcome {
  /** False when the command failed (fully or for some of its targets). */
  ok: boolean;
  /** Structured result for JSON mode. */
  data?: unknown;
  /** Human rendering, without a trailing newline. */
  text: string;
  /** The failure, when `ok` is false. */
  error?: { code: string; message: string };
  /** What the session should do next. */
  action?: CommandAction;
  /** The text is not a finished line (`echo -n`): show or write it without a newline. */
  noNewline?: boolean;
}

/** A successful outcome. */
export function success(text: string, data?: unknown, action?: CommandAction): CommandOutcome {
  const outcome: CommandOutcome = { ok: true, text };
  if (data !== undefined) outcome.data = data;
  if (action !== undefined) outcome.action = action;
  return outcome;
}

/**
 * A failed outcome. `text` is the human rendering (defaults to `Error: <message>`); `data`
 * may still carry partial results.
 */
export function failure(
  code: string,
  message: string,
  text?: string,
  data?: unknown,
): CommandOutcome {
  const outcome: CommandOutcome = {
    ok: false,
    text: text ?? `Error: ${message}`,
    error: { code, message },
  };
  if (data !== undefined) outcome.data = data;
  return outcome;
}
