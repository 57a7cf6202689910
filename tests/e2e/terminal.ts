/**
 * Runs bin/axvisor.ts on a real pseudo-terminal (`script` from util-linux gives the program a
 * TTY), for the tests of the interactive console and of the raw console attach.
 *
 * @module
 */
import { LINEAR_REGEXP_FLAG } from "../../lib/shell/user_regexp.ts";
import { makeFsRoot } from "./harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Wall-clock milliseconds `until` waits before it gives up (a hang guard, not a timing). */
const UNTIL_MS = 60_000;

/** Whether `script` (util-linux) is available. */
export function hasScript(): boolean {
  try {
    return new Deno.Command("script", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** A running program on a pseudo-terminal: read until a text appears, type keys, finish. */
export interface Terminal {
  /** Reads until `text` has appeared; returns everything up to and including it. */
  until(text: string | RegExp): Promise<string>;
  /** Types `keys` on the terminal. */
  type(keys: string | Uint8Array): Promise<void>;
  /** The terminal's modes now (`stty -g` on the pseudo-terminal). */
  modes(): string;
  /** Resizes the terminal (the program gets SIGWINCH). */
  resize(rows: number, cols: number): void;
  /** Closes the input, drains the output, and returns the exit status; removes the fs root. */
  finish(): Promise<number>;
}

/** Options of {@linkcode openTerminal}. */
export interface TerminalOptions {
  /** Fail `until` as soon as an `Error: ` line appears (a keystroke was not understood). */
  failOnError?: boolean;
  /** The fs root (default: a fresh copy of the examples); removed by `finish`. */
  fsRoot?: string;
  /** More arguments for bin/axvisor.ts. */
  args?: string[];
}

/**
 * Starts bin/axvisor.ts under `script` on a fresh fs root. Before the program starts, the shell
 * prints the terminal's name and its modes (`stty -g`) on lines `TTY=` and `MODES=`; after it
 * ends, `MODES-AFTER=`. `modes()` reads the modes from outside while the program runs.
 */
export async function openTerminal(
  clock: "warp" | "realtime",
  options: TerminalOptions = {},
): Promise<Terminal> {
  const fsRoot = options.fsRoot ?? makeFsRoot();
  const args = (options.args ?? []).map((a) => `'${a}'`).join(" ");
  const cmd = `echo "TTY=$(tty)"; echo "MODES=$(stty -g)"; ` +
    `'${Deno.execPath()}' run ${LINEAR_REGEXP_FLAG} --allow-all '${ROOT}bin/axvisor.ts' --fs-root '${fsRoot}'` +
    ` --clock ${clock} ${args}; s=$?; echo "MODES-AFTER=$(stty -g)"; exit $s`;
  const child = new Deno.Command("script", {
    args: ["-qefc", cmd, "/dev/null"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    cwd: ROOT,
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const until = async (text: string | RegExp) => {
    const find = () => {
      if (typeof text === "string") {
        const i = seen.indexOf(text);
        return i < 0 ? -1 : i + text.length;
      }
      const m = text.exec(seen);
      return m ? m.index + m[0].length : -1;
    };
    let at = find();
    while (at < 0) {
      if (options.failOnError && /Error: /.test(seen)) {
        throw new Error(`unexpected error while waiting for ${text}: ${seen}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), UNTIL_MS)));
      const read = await Promise.race([reader.read(), late]);
      clearTimeout(timer);
      if (read === "late") {
        // A last resort against a hang (nothing is timed): the test fails with what was seen.
        child.kill("SIGKILL");
        throw new Error(
          `nothing matched ${String(text)} in ${UNTIL_MS} ms: ${JSON.stringify(seen)}`,
        );
      }
      const { value, done } = read;
      if (done) throw new Error(`output ended before ${String(text)}: ${seen}`);
      seen += decoder.decode(value, { stream: true });
      at = find();
    }
    const out = seen.slice(0, at);
    seen = seen.slice(at);
    return out;
  };
  const tty = (await until(/TTY=\S+\r?\n/)).match(/TTY=(\S+)/)![1];
  return {
    until,
    type: (keys: string | Uint8Array) =>
      writer.write(typeof keys === "string" ? new TextEncoder().encode(keys) : keys),
    resize(rows: number, cols: number) {
      new Deno.Command("stty", { args: ["-F", tty, "rows", String(rows), "cols", String(cols)] })
        .outputSync();
    },
    modes() {
      const r = new Deno.Command("stty", { args: ["-g", "-F", tty] }).outputSync();
      return new TextDecoder().decode(r.stdout).trim();
    },
    async finish() {
      try {
        await writer.close().catch(() => {});
        // A program that does not end once its input is closed (a failed test left it attached)
        // is killed, so that the failure is reported instead of a hang.
        const kill = setTimeout(() => child.kill("SIGKILL"), UNTIL_MS);
        while (!(await reader.read()).done) { /* drain */ }
        clearTimeout(kill);
        const status = await child.status;
        await new Response(child.stderr).text();
        return status.code;
      } finally {
        Deno.removeSync(fsRoot, { recursive: true });
      }
    },
  };
}
