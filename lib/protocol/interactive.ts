/**
 * The interactive console on a terminal: node:readline line editing (arrows, Ctrl-A/Ctrl-E,
 * history of 100 entries without consecutive duplicates or blank lines, Tab completion from the
 * shell), Ctrl-C cancels the line being typed or, while a command runs (`vm wait`), the command
 * (it ends with code `CANCELLED` and the prompt returns), Ctrl-D (end of input) ends the session,
 * Ctrl-R searches the history backwards as bash does, and a second Tab lists the candidates.
 *
 * Asynchronous output (guest `[VM n] ` lines, faults) is written above the line being edited,
 * which is then redrawn.
 *
 * `vm console` turns the terminal into the guest's serial line: readline is taken off the
 * keyboard (its keypress and resize listeners are set aside), the terminal is in raw mode, every
 * byte typed goes to the guest as it comes (Tab, Ctrl-C, Ctrl-D, Ctrl-Z, arrows, Backspace as
 * the terminal sends it) and guest output is written as raw bytes. Ctrl-] or `~.` at the start
 * of a line (both configurable) detaches: readline gets the keyboard back, the terminal mode it
 * had is restored, and the prompt returns. `vm log --follow` streams the same way until any key
 * (Ctrl-C).
 *
 * @module
 */

import * as readline from "node:readline";
import process from "node:process";
import type { ConsoleServer } from "./server.ts";
import { type HistoryMatch, reverseSearch } from "../shell/history.ts";
import { PROMPT, type Session } from "./session.ts";

/** Options of {@linkcode runInteractive}. */
export interface InteractiveOptions {
  /** History entries kept (default 100). */
  historySize?: number;
}

/** Runs the terminal session; resolves when it ends (Ctrl-D, `exit`, shutdown). */
export function runInteractive(
  server: ConsoleServer,
  options: InteractiveOptions = {},
): { session: Session; done: Promise<void> } {
  const session = server.openSession({ kind: "tty", peer: "terminal", prompt: false });
  const out = process.stdout;
  const decoder = new TextDecoder();
  const stdin = process.stdin as typeof process.stdin & {
    isRaw?: boolean;
    setRawMode?: (raw: boolean) => unknown;
  };
  const rl = readline.createInterface({
    input: process.stdin,
    output: out,
    prompt: PROMPT,
    terminal: true,
    historySize: options.historySize ?? 100,
    removeHistoryDuplicates: false, // readline skips consecutive duplicates and blank lines itself
    completer: (line: string): [string[], string] => {
      if (session.attachedVm !== undefined) return [[], line];
      try {
        return [tabs.complete(line, server.backend.complete(line, session.shellSession)), line];
      } catch {
        return [[], line];
      }
    },
  });
  const tabs = new DoubleTab();
  let busy = false;

  /** Writes what the session queued; when idle at the prompt, redraws the prompt after it. */
  const flush = (redraw: boolean) => {
    if (raw) {
      // Attached: the guest's bytes, untouched.
      for (let c = session.output.take(); c; c = session.output.take()) out.write(c);
      if (session.attachedVm === undefined) leaveRaw();
      return;
    }
    let text = "";
    for (let c = session.output.take(); c; c = session.output.take()) {
      text += decoder.decode(c, { stream: true });
    }
    if (text === "") return;
    if (redraw && !busy && session.attachedVm === undefined) {
      readline.clearLine(out, 0);
      readline.cursorTo(out, 0);
      out.write(text);
      rl.prompt(true);
    } else {
      out.write(text);
    }
  };

  // ── raw mode while attached ──
  let raw = false;
  let wasRaw: boolean | undefined;
  let savedKeypress: ((...args: unknown[]) => void)[] = [];
  let savedResize: ((...args: unknown[]) => void)[] = [];
  const onData = (chunk: Uint8Array | string) => {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    session.attachInput(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if (session.attachedVm === undefined) {
      flush(false);
      leaveRaw();
    }
  };
  const enterRaw = () => {
    if (raw) return;
    raw = true;
    wasRaw = stdin.isRaw;
    stdin.setRawMode?.(true);
    savedKeypress = stdin.listeners("keypress") as typeof savedKeypress;
    stdin.removeAllListeners("keypress");
    savedResize = out.listeners("resize") as typeof savedResize;
    out.removeAllListeners("resize");
    stdin.on("data", onData);
  };
  function leaveRaw() {
    if (!raw) return;
    raw = false;
    stdin.off("data", onData);
    for (const l of savedKeypress) stdin.on("keypress", l);
    for (const l of savedResize) out.on("resize", l);
    savedKeypress = [];
    savedResize = [];
    if (wasRaw !== undefined) stdin.setRawMode?.(wasRaw);
    // Anything readline had in its line buffer is dropped; the prompt comes back.
    rl.write(null, { ctrl: true, name: "e" });
    rl.write(null, { ctrl: true, name: "u" });
    updatePrompt();
    if (!session.closed) rl.prompt();
  }

  const pumpDone = (async () => {
    while (true) {
      await session.output.waitForData();
      flush(true);
      if (session.output.finished) return;
    }
  })();

  const keypress = (s: string | undefined) => {
    if (s === "\x1d" && session.attachedVm !== undefined) {
      session.detach();
      flush(false);
      // readline has put the Ctrl-] into the line: drop it (this redraws the prompt).
      rl.write(null, { ctrl: true, name: "e" });
      rl.write(null, { ctrl: true, name: "u" });
    }
  };
  process.stdin.on("keypress", keypress);
  const search = new HistorySearch(rl, out);
  interceptKeys(rl, (s, k) => {
    if (session.attachedVm !== undefined) return false;
    return search.key(s, k);
  });
  interceptCtrlD(rl, () => {
    // Attached: Ctrl-D is the guest's (end of input), never the end of the hypervisor.
    if (session.attachedVm === undefined) return false;
    server.backend.consoleInput(session.attachedVm, Uint8Array.of(0x04));
    return true;
  });

  const updatePrompt = () => rl.setPrompt(server.backend.prompt?.(session.shellSession) ?? PROMPT);
  updatePrompt();
  rl.on("line", async (line: string) => {
    busy = true;
    await session.receiveLine(line);
    busy = false;
    flush(false);
    updatePrompt();
    if (session.attachedVm !== undefined && !session.closed) {
      enterRaw();
      return;
    }
    if (!session.closed) rl.prompt();
  });
  rl.on("SIGINT", () => {
    if (session.attachedVm !== undefined) {
      server.backend.consoleInput(session.attachedVm, Uint8Array.of(0x03));
      return;
    }
    if (busy) {
      // A command is running (e.g. `vm wait`): cancel it; its outcome and the prompt follow.
      out.write("^C\n");
      session.cancelCommand();
      return;
    }
    // Cancel the line being typed; clearing it redraws the prompt on a fresh line.
    out.write("^C\n");
    rl.write(null, { ctrl: true, name: "e" });
    rl.write(null, { ctrl: true, name: "u" });
  });
  rl.on("close", () => {
    if (!session.closed) {
      out.write("\n");
      session.end();
    }
  });

  flush(false);
  rl.prompt();
  const done = session.closedPromise.then(async () => {
    await pumpDone;
    flush(false);
    leaveRaw();
    process.stdin.off("keypress", keypress);
    rl.close();
  });
  return { session, done };
}

/**
 * Bash's Tab behaviour for readline's completer: a Tab completes the common prefix of the
 * candidates; when there is none to add, the first Tab does nothing and the second one (on the
 * same line) lists them, instead of reprinting the list on every Tab.
 */
export class DoubleTab {
  #lastLine: string | undefined;

  /** What readline should get for `line`, given every candidate (full lines). */
  complete(line: string, candidates: string[]): string[] {
    if (candidates.length <= 1) {
      this.#lastLine = undefined;
      return candidates;
    }
    const prefix = commonPrefix(candidates);
    if (prefix.length > line.length) {
      this.#lastLine = undefined;
      return [prefix];
    }
    if (this.#lastLine === line) {
      this.#lastLine = undefined;
      return candidates;
    }
    this.#lastLine = line;
    return [line];
  }
}

function commonPrefix(words: string[]): string {
  let p = words[0];
  for (const w of words) {
    let i = 0;
    while (i < p.length && i < w.length && p[i] === w[i]) i++;
    p = p.slice(0, i);
  }
  return p;
}

/** What a readline `Interface` exposes that the history search uses. */
interface SearchableLine {
  line: string;
  history?: string[];
  getPrompt?(): string;
  setPrompt(p: string): void;
  prompt(preserveCursor?: boolean): void;
  write(data: string | null, key?: Key): void;
}

/**
 * Ctrl-R reverse incremental search through readline's history: typed characters narrow the
 * search, Ctrl-R again finds an older match, Enter runs the match, Esc or Ctrl-G gives the
 * original line back, any other key keeps the match in the line for editing.
 */
export class HistorySearch {
  #active = false;
  #query = "";
  #match: HistoryMatch | undefined;
  #savedLine = "";
  #savedPrompt = "";
  #writing = false;
  readonly #rl: SearchableLine;
  readonly #out: { write(s: string): unknown };

  /** Creates the search for `rl` (a readline interface), drawing on `out`. */
  constructor(rl: unknown, out: { write(s: string): unknown }) {
    this.#rl = rl as SearchableLine;
    this.#out = out;
  }

  /** Whether a search is in progress. */
  get active(): boolean {
    return this.#active;
  }

  /** The search text typed so far. */
  get query(): string {
    return this.#query;
  }

  /** Handles a key; returns true when the search consumed it. */
  key(s: string | undefined, k: Key | undefined): boolean {
    // Our own edits of the line pass through readline's editor untouched.
    if (this.#writing) return false;
    const ctrl = k?.ctrl === true && !k.meta;
    if (!this.#active) {
      if (!(ctrl && k?.name === "r")) return false;
      this.#active = true;
      this.#query = "";
      this.#match = undefined;
      this.#savedLine = this.#rl.line;
      this.#savedPrompt = this.#rl.getPrompt?.() ?? PROMPT;
      this.#draw();
      return true;
    }
    const history = this.#rl.history ?? [];
    if (ctrl && k?.name === "r") {
      const next = reverseSearch(history, this.#query, (this.#match?.index ?? -1) + 1);
      if (next) this.#match = next;
      this.#draw();
      return true;
    }
    if ((ctrl && k?.name === "g") || k?.name === "escape") {
      this.#finish(this.#savedLine);
      return true;
    }
    if (k?.name === "backspace") {
      this.#query = this.#query.slice(0, -1);
      this.#match = reverseSearch(history, this.#query);
      this.#draw();
      return true;
    }
    if (s !== undefined && s.length === 1 && s >= " " && !ctrl && !k?.meta) {
      this.#query += s;
      this.#match = reverseSearch(history, this.#query, this.#match?.index ?? 0) ??
        reverseSearch(history, this.#query);
      this.#draw();
      return true;
    }
    // Enter runs the match; any other key keeps it in the line and is then handled as usual.
    this.#finish(this.#match?.entry ?? this.#savedLine);
    return false;
  }

  #draw(): void {
    const found = this.#match?.entry ?? "";
    const failing = this.#query !== "" && this.#match === undefined ? "failing " : "";
    this.#rl.setPrompt(`(${failing}reverse-i-search)'${this.#query}': `);
    this.#replaceLine(found);
  }

  #finish(line: string): void {
    this.#active = false;
    this.#rl.setPrompt(this.#savedPrompt);
    this.#replaceLine(line);
  }

  #replaceLine(text: string): void {
    this.#writing = true;
    try {
      this.#rl.write(null, { ctrl: true, name: "e" });
      this.#rl.write(null, { ctrl: true, name: "u" });
      this.#out.write("\r\x1b[K");
      this.#rl.prompt(true);
      if (text !== "") this.#rl.write(text);
    } finally {
      this.#writing = false;
    }
  }
}

/**
 * Lets `handler` see every key before readline's line editor (see {@linkcode interceptCtrlD});
 * it returns true when it consumed the key.
 */
export function interceptKeys(
  rl: readline.Interface,
  handler: (s: string | undefined, k: Key | undefined) => boolean,
): boolean {
  return wrapTtyWrite(
    rl,
    (original) =>
      function (this: unknown, s: string | undefined, k: Key | undefined): void {
        if (handler(s, k)) return;
        original.call(this, s, k);
      },
  );
}

/** The key object readline hands to its line editor. */
export interface Key {
  /** Control held. */
  ctrl?: boolean;
  /** Meta (Alt) held. */
  meta?: boolean;
  /** The key's name (`r`, `return`, `escape`...). */
  name?: string;
}

/**
 * Lets `handler` take Ctrl-D before readline's line editor does (which would close the whole
 * console on an empty line). `handler` returns true when it consumed the key. readline keeps its
 * editor under a symbol named `_ttyWrite`; without it (another readline), nothing changes.
 */
export function interceptCtrlD(rl: readline.Interface, handler: () => boolean): boolean {
  return wrapTtyWrite(
    rl,
    (original) =>
      function (this: unknown, s: string | undefined, k: Key | undefined): void {
        if (k?.ctrl && !k.meta && k.name === "d" && handler()) return;
        original.call(this, s, k);
      },
  );
}

type TtyWrite = (s: string | undefined, k: Key | undefined) => void;

/**
 * Replaces readline's line editor (kept under a symbol named `_ttyWrite`) with `wrap(original)`.
 * Without it (another readline), nothing changes and false is returned.
 */
function wrapTtyWrite(rl: readline.Interface, wrap: (original: TtyWrite) => TtyWrite): boolean {
  let proto: object | null = rl;
  let key: symbol | undefined;
  while (proto && key === undefined) {
    key = Object.getOwnPropertySymbols(proto).find((s) => s.description === "_ttyWrite");
    proto = Object.getPrototypeOf(proto);
  }
  if (key === undefined) return false;
  const target = rl as unknown as Record<symbol, TtyWrite>;
  const original = target[key];
  if (typeof original !== "function") return false;
  try {
    // An own property shadows the prototype's (which may be a getter-only accessor).
    Object.defineProperty(rl, key, { value: wrap(original), configurable: true, writable: true });
  } catch {
    return false;
  }
  return true;
}
