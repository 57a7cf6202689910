/**
 * Batch mode: `-c 'cmd; cmd'` and `--batch FILE`.
 *
 * Commands run in order through a human-mode session without banner or prompt, so the output is
 * exactly what each command prints (plus `[VM n] ` guest lines as they happen). The run stops at
 * the first failure unless `keepGoing`; it succeeds only if every command succeeded. With the
 * warp clock and no background driver, virtual time passes only while a command waits, so the
 * same script gives the same output every time.
 *
 * @module
 */

import type { Session } from "./session.ts";

/**
 * Splits a script into commands: on newlines and on `;` outside quotes (a backslash escapes
 * the next character outside single quotes). Blank commands and lines starting with `#` are
 * skipped. Quotes are kept, for the shell's tokenizer to interpret.
 */
export function splitCommands(script: string): string[] {
  return splitScript(script).map((c) => c.command);
}

/** A command of a script, with the 1-based line where it starts (for error messages). */
export interface ScriptCommand {
  /** The command text, trimmed. */
  command: string;
  /** The line of the script where the command starts. */
  line: number;
}

/** Like {@linkcode splitCommands}, but also says on which line each command starts. */
export function splitScript(script: string): ScriptCommand[] {
  const out: ScriptCommand[] = [];
  let current = "";
  let line = 1;
  let startLine = 1;
  let quote: "'" | '"' | undefined;
  const finish = () => {
    const t = current.trim();
    if (t !== "" && !t.startsWith("#")) out.push({ command: t, line: startLine });
    current = "";
  };
  const add = (text: string) => {
    if (current.trim() === "" && text.trim() !== "") startLine = line;
    current += text;
    for (const ch of text) if (ch === "\n") line++;
  };
  for (let i = 0; i < script.length; i++) {
    const ch = script[i];
    if (quote) {
      if (ch === "\\" && quote === '"' && i + 1 < script.length) add(ch + script[++i]);
      else {
        add(ch);
        if (ch === quote) quote = undefined;
      }
      continue;
    }
    if (ch === "\\" && i + 1 < script.length) {
      add(ch + script[++i]);
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      add(ch);
      continue;
    }
    if (ch === ";" || ch === "\n") {
      finish();
      if (ch === "\n") line++;
      continue;
    }
    if (ch === "\r" && script[i + 1] === "\n") continue;
    add(ch);
  }
  finish();
  return out;
}

/** The outcome of a batch run. */
export interface BatchResult {
  /** True when every command that ran succeeded and none was skipped. */
  ok: boolean;
  /** Number of commands in the script. */
  total: number;
  /** Commands that ran. */
  ran: number;
  /** Commands that failed. */
  failed: number;
  /** The commands that failed, with their 1-based positions. */
  failures: { index: number; command: string }[];
  /** True when the script stopped early (a failure, `exit`, or `shutdown`). */
  stoppedEarly: boolean;
  /** Why the session ended before the script did, when it was not `exit` or `shutdown`. */
  aborted?: string;
}

/** Options of {@linkcode runBatch}. */
export interface BatchOptions {
  /** Run every command even after a failure. */
  keepGoing?: boolean;
  /** Show each command, after the prompt, before its output (`--echo`). */
  echo?: boolean;
  /**
   * Resolves once the output so far is written (the stdio transport's `flushed`). Awaited after
   * every command, so that a slow reader slows the script down instead of filling memory, and
   * so that `onFailure` (which writes to stderr) comes after the output of the command it names.
   */
  flush?: () => Promise<void>;
  /** Called when a command fails, with its 1-based position. */
  onFailure?: (index: number, command: string) => void;
}

/** Close reasons of a session that end a batch normally. */
const NORMAL_ENDS = new Set(["exit", "server shutdown"]);

/** Runs `commands` in `session`; stops at the first failure unless `keepGoing`. */
export async function runBatch(
  session: Session,
  commands: readonly string[],
  options: BatchOptions = {},
): Promise<BatchResult> {
  const result: BatchResult = {
    ok: true,
    total: commands.length,
    ran: 0,
    failed: 0,
    failures: [],
    stoppedEarly: false,
  };
  const flush = options.flush ?? (() => session.output.waitForDrain());
  for (let i = 0; i < commands.length; i++) {
    if (session.closed) {
      result.stoppedEarly = true;
      break;
    }
    if (options.echo) session.echo(commands[i]);
    const ok = await session.receiveLine(commands[i]);
    result.ran++;
    if (session.attachedVm !== undefined) session.detach("batch mode cannot stay attached");
    await flush();
    if (ok === false) {
      result.ok = false;
      result.failed++;
      result.failures.push({ index: i + 1, command: commands[i] });
      options.onFailure?.(i + 1, commands[i]);
      if (!options.keepGoing) {
        result.stoppedEarly = i + 1 < commands.length;
        break;
      }
    }
  }
  if (result.ran < result.total && !result.stoppedEarly) result.stoppedEarly = true;
  // Output that could not be written is a failure, never a silent success.
  if (session.closed && !NORMAL_ENDS.has(session.closeReason)) {
    result.ok = false;
    result.aborted = session.closeReason;
  }
  return result;
}
