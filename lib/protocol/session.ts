/**
 * One console session: a person at a terminal, an `nc` user, a test harness or a script.
 *
 * A session owns its line framer, its mode (`human` or `json`), its event switch, its console
 * attach state, its authentication state and a bounded output queue. It is transport-agnostic:
 * a transport feeds it bytes ({@linkcode Session.receive}) or ready-made lines
 * ({@linkcode Session.receiveLine}) and drains {@linkcode Session.output}.
 *
 * Session commands handled here, before the shell sees the line:
 * - `mode human|json`: switch the mode (a first line starting with `{` switches to JSON by itself);
 * - `events on|off`: asynchronous output (JSON events, or `[VM n] ` console lines in human mode);
 * - `auth TOKEN`: authenticate when the server requires a token.
 *
 * @module
 */

import type { CommandInput, CommandOutcome, ProtocolBackend } from "./backend.ts";
import type { CommandQueue } from "./command_queue.ts";
import { ProtocolError, ProtocolErrorCode } from "./errors.ts";
import { eventHumanAt, type RenderedEvent } from "./events.ts";
import { encodeJsonLine, parseJsonRequest, type RequestId } from "./json_request.ts";
import { type FramedLine, LineFramer, validateLine } from "./line_framer.ts";
import { OutputQueue, type OutputQueueLimits } from "./output_queue.ts";
import { readOnlyRefusal } from "./read_only.ts";
import { SessionAuth } from "./auth.ts";
import { DEFAULT_ESCAPE_BYTE, describeEscapeKey, EscapeScanner } from "./attach_escape.ts";
import { CHARACTER_MODE, LINE_MODE, TelnetFilter } from "./telnet.ts";
import { tokenize } from "../shell/tokenizer.ts";

/** The default prompt of human sessions (the seed's REPL prompt), when the backend has none. */
export const PROMPT = "axvisor> ";

/** The escape byte that ends a console attach by default (Ctrl-]). */
export const ATTACH_ESCAPE_BYTE: number = DEFAULT_ESCAPE_BYTE;

/** Why `vm console` / `vm log --follow` are refused without a terminal (pipes, batch). */
export const NO_TTY_MESSAGE: string =
  "`vm console` needs a terminal (this session reads a pipe or a script); use `vm send` to " +
  "type, `vm wait --console REGEX` to wait for output and `vm log` to read it (or attach over " +
  "TCP: --listen, --console-ports)";

/** How a session talks: human text or JSON lines. */
export type SessionMode = "human" | "json";

/** Where a session comes from. */
export type SessionKind = "tcp" | "stdio" | "tty" | "batch";

/** What a session needs from the server that owns it. */
export interface SessionHost {
  /** The hypervisor and shell. */
  readonly backend: ProtocolBackend;
  /** The queue that serialises commands of all sessions. */
  readonly queue: CommandQueue;
  /** Program version for the banner and the JSON greeting. */
  readonly version: string;
  /** Writes a line to the server log. */
  log(level: "error" | "warn" | "info" | "debug", message: string): void;
  /** Asks the server to shut down. */
  shutdown(reason: string): void;
  /** Called once when a session closes. */
  sessionClosed(session: Session): void;
  /** Delivers events held back for coalescing (called before each reply). */
  flushEvents(): void;
}

/** Options of a {@linkcode Session}. */
export interface SessionOptions {
  /** Session number (unique in the server). */
  id: number;
  /** Who is on the other end, for logs (e.g. `tcp 127.0.0.1:50312`). */
  peer: string;
  /** Transport kind. */
  kind: SessionKind;
  /** Send the banner when the session starts (default true). */
  banner?: boolean;
  /** Send a prompt after each human-mode reply (default true). */
  prompt?: boolean;
  /** Observer session: may list, show, log and wait, but change nothing. */
  readOnly?: boolean;
  /** When set, the session must `auth` with this token first. */
  token?: string;
  /** Wrong tokens allowed before the session is closed (default 3). */
  maxAuthAttempts?: number;
  /** Output buffer limits. */
  limits?: OutputQueueLimits;
  /** Initial mode (default `human`). */
  mode?: SessionMode;
  /**
   * Speak telnet (TCP sessions): IAC sequences are taken out of the input, and a console
   * attach offers character mode to telnet clients (see telnet.ts). Default: true for `tcp`.
   */
  telnet?: boolean;
  /**
   * Wall-clock milliseconds a large reply may wait for the client to read before the session is
   * closed as stuck (default 30 000; 0 waits for ever, as batch mode does on its stdout).
   */
  stallTimeoutMs?: number;
  /**
   * Hold the human banner and first prompt back this many wall-clock milliseconds (default 0:
   * send them at once). A client whose first line is a JSON request within that time gets only
   * JSON (the `hello` event, then its reply); any other first line, or the delay running out,
   * sends the banner. TCP and stdio-stream sessions use {@linkcode DEFAULT_BANNER_DELAY_MS}.
   */
  bannerDelayMs?: number;
}

/** How long TCP and stdio-stream sessions wait for a first JSON line before the human banner. */
export const DEFAULT_BANNER_DELAY_MS = 150;

/** Events held for a session that has not yet chosen its mode (beyond: dropped). */
const MAX_EARLY_EVENTS = 256;

/** Replies larger than this are sent in pieces of this size, each once the client has read. */
export const REPLY_CHUNK_BYTES = 64 * 1024;

/** Default of {@linkcode SessionOptions.stallTimeoutMs}. */
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;

const encoder = new TextEncoder();

/** A console session, independent of its transport. */
export class Session {
  /** Session number. */
  readonly id: number;
  /** Peer description, for logs. */
  readonly peer: string;
  /** Transport kind. */
  readonly kind: SessionKind;
  /** True for observer sessions. */
  readonly readOnly: boolean;
  /** Bytes waiting to be written to the client. */
  readonly output: OutputQueue;
  /** The shell's state for this session. */
  readonly shellSession: unknown;
  #host: SessionHost;
  #mode: SessionMode;
  #events = true;
  #banner: boolean;
  #prompt: boolean;
  #auth: SessionAuth;
  #framer = new LineFramer();
  #linesSeen = 0;
  /** The client's screen is not at a line start (for async output in human mode). */
  #lineOpen = false;
  /** The byte stream sent so far does not end with LF (for the switch to JSON lines). */
  #streamOpen = false;
  #attached: number | undefined;
  /** The VM instance the attach is bound to (see `Vm.instance`). */
  #attachedInstance: number | undefined;
  #escape = new EscapeScanner();
  #attachWatchOnly = false;
  /** Attached by `vm log --follow`: output only, any key ends it. */
  #following = false;
  #telnet: TelnetFilter | undefined;
  /** Character mode was offered to a telnet client for this attach. */
  #charMode = false;
  /** The last byte given to the guest in character mode was CR (telnet sends CR LF / CR NUL). */
  #lastCr = false;
  /** Character mode was offered once: from then on IAC sequences are taken out of the input. */
  #telnetSpoken = false;
  /** The last command line ended in CR LF (telnet in line mode; `nc` sends LF). */
  #lineCrlf = false;
  #readOnlyNoticeShown = false;
  #closed = false;
  /** Cancels the command in progress (see {@linkcode Session.cancelCommand}). */
  #running: AbortController | undefined;
  /** Lines given to {@linkcode Session.receiveLine} not yet handled (Ctrl-C cancels them too). */
  readonly #pending = new Set<AbortController>();
  /** The controller of the line {@linkcode Session.receiveLine} is handling. */
  #lineController: AbortController | undefined;
  #closeReason = "";
  #stallTimeoutMs: number;
  /** A large reply is being streamed: asynchronous output waits in `#held`. */
  #streaming = false;
  #held: { data: string | Uint8Array; droppable: boolean }[] = [];
  #heldBytes = 0;
  #heldDropped = 0;
  #bannerDelayMs: number;
  #bannerTimer: ReturnType<typeof setTimeout> | undefined;
  /** Events that arrived while the banner was held back (delivered once the mode is known). */
  #early: RenderedEvent[] | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #resolveClosed!: () => void;
  /** Resolves when the session has closed. */
  readonly closedPromise: Promise<void>;
  /** Called once when the session authenticates. */
  onAuthenticated?: () => void;

  /** Creates a session; call {@linkcode Session.start} to send the banner. */
  constructor(host: SessionHost, options: SessionOptions) {
    this.#host = host;
    this.id = options.id;
    this.peer = options.peer;
    this.kind = options.kind;
    this.readOnly = options.readOnly ?? false;
    this.#mode = options.mode ?? "human";
    this.#banner = options.banner ?? true;
    this.#prompt = options.prompt ?? true;
    this.#auth = new SessionAuth(options.token, options.maxAuthAttempts);
    if (options.telnet ?? this.kind === "tcp") this.#telnet = new TelnetFilter();
    this.#stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.#bannerDelayMs = options.bannerDelayMs ?? 0;
    this.output = new OutputQueue(options.limits, (n) => this.#droppedNotice(n));
    this.shellSession = host.backend.createShellSession({ readOnly: this.readOnly });
    this.closedPromise = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  /** `human` or `json`. */
  get mode(): SessionMode {
    return this.#mode;
  }

  /** True when asynchronous output (events, console lines) is sent to this session. */
  get eventsEnabled(): boolean {
    return this.#events;
  }

  /** The VM whose console is attached, if any (also while following with `vm log -f`). */
  get attachedVm(): number | undefined {
    return this.#attached;
  }

  /** True while `vm log --follow` streams output (any key ends it). */
  get following(): boolean {
    return this.#following;
  }

  /**
   * Types raw bytes on the attached console (a terminal in raw mode): escapes are looked for,
   * the rest goes to the guest. Returns the bytes typed after a detach (empty when none).
   */
  attachInput(bytes: Uint8Array): Uint8Array {
    if (this.#attached === undefined || this.#closed) return bytes;
    return this.#attachInput(bytes);
  }

  /** True once the session may run commands. */
  get authenticated(): boolean {
    return this.#auth.authenticated;
  }

  /** True once the session has closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Why the session closed (empty while open). */
  get closeReason(): string {
    return this.#closeReason;
  }

  /** True when a human-mode session shows a prompt. */
  get prompts(): boolean {
    return this.#prompt;
  }

  /** Sends the banner (human mode) or the greeting (JSON mode), then the first prompt. */
  start(): void {
    if (this.#mode === "json") {
      this.#push(this.#greeting());
      return;
    }
    if (this.#bannerDelayMs > 0 && (this.#banner || this.#prompt)) {
      this.#early = [];
      this.#bannerTimer = setTimeout(() => this.#sendBanner(), this.#bannerDelayMs);
      return;
    }
    this.#writeBanner();
  }

  /** Whether the banner is held back, waiting to see if the first line is JSON. */
  get bannerPending(): boolean {
    return this.#early !== undefined;
  }

  /** Ends the banner's wait: `json` drops it (the first line is a JSON request). */
  #decideMode(json: boolean): void {
    const early = this.#early;
    if (early === undefined) return;
    clearTimeout(this.#bannerTimer);
    this.#bannerTimer = undefined;
    this.#early = undefined;
    if (json) this.#switchMode("json");
    else this.#writeBanner();
    for (const e of early) this.deliver(e);
  }

  /** Sends the banner now if it is held back (a first line that is not JSON, a notice). */
  #sendBanner(): void {
    if (this.#early !== undefined) this.#decideMode(false);
  }

  #writeBanner(): void {
    if (this.#closed) return;
    if (this.#banner) {
      const lines = [
        `axvisor.ts ${this.#host.version}: ${this.#host.backend.describe()}`,
        "Type `help` for commands, `vm list` to see the VMs, `vm console <ID>` to attach " +
        "(Ctrl-] or a line `~.` detaches).",
        'Send a JSON request such as {"id":1,"cmd":"vm list"} (or `mode json`) for JSON ' +
        "lines; `exit` leaves.",
      ];
      if (this.#auth.required) lines.push("Authentication required: send `auth <token>` first.");
      if (this.readOnly) lines.push("This is a read-only session: you may look but not change.");
      this.#push(lines.join("\n") + "\n");
    }
    this.#showPrompt();
  }

  /** Feeds bytes from the client; resolves once every complete line in them was handled. */
  receive(chunk: Uint8Array): Promise<void> {
    return this.#enqueue(() => this.#process(chunk));
  }

  /**
   * Feeds one line (without its line ending) from a line-oriented front end such as readline
   * or a batch script. Resolves with the command's success (false also for a line rejected by
   * the framing rules), or `undefined` when the line ran no command (blank, console input).
   */
  receiveLine(text: string): Promise<boolean | undefined> {
    // Cancellable from now on, even while it waits behind earlier lines.
    const controller = new AbortController();
    this.#pending.add(controller);
    return this.#enqueue(async () => {
      this.#lineController = controller;
      try {
        return await this.#receiveLine(text);
      } finally {
        this.#lineController = undefined;
        this.#pending.delete(controller);
      }
    });
  }

  async #receiveLine(text: string): Promise<boolean | undefined> {
    if (this.#closed) return undefined;
    if (this.#attached !== undefined) {
      this.#attachInput(encoder.encode(text + "\n"));
      return undefined;
    }
    // A batch command may span physical lines (a quoted string with a newline): each physical
    // line obeys the framing rules on its own, and the command runs as a whole.
    let framed: FramedLine = { kind: "line", text };
    for (const piece of text.split("\n")) {
      const checked = validateLine(encoder.encode(piece), this.#linesSeen + 1);
      if (checked.kind === "error") {
        framed = checked;
        break;
      }
    }
    if (framed.kind === "line" && encoder.encode(text).length > this.#framer.maxLineBytes) {
      return await this.#handleError(
        new ProtocolError(
          ProtocolErrorCode.LineTooLong,
          `line ${this.#linesSeen + 1} is longer than ${this.#framer.maxLineBytes} bytes; ` +
            `the line was discarded`,
        ),
      );
    }
    if (framed.kind === "error") return await this.#handleError(framed.error);
    return await this.#handleLine(framed.text);
  }

  /** The client finished sending: handles a last unterminated line, then closes gracefully. */
  end(): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#closed) return;
      for (const item of this.#framer.end()) {
        if (this.#closed) break;
        if (item.kind === "line") await this.#handleLine(item.text);
        else await this.#handleError(item.error);
      }
      this.#sendBanner();
      this.close("end of input");
    });
  }

  /**
   * Closes the session. Graceful (default): what is queued is still sent. Otherwise queued
   * output is discarded (the client is gone or stuck).
   */
  close(reason: string, options: { graceful?: boolean } = {}): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    clearTimeout(this.#bannerTimer);
    this.#bannerTimer = undefined;
    this.#early = undefined;
    this.#attached = undefined;
    this.#following = false;
    if (options.graceful ?? true) this.output.end();
    else this.output.close();
    this.#host.sessionClosed(this);
    this.#resolveClosed();
  }

  /** Delivers an asynchronous event, as this session's mode, attach state and switches say. */
  deliver(rendered: RenderedEvent): void {
    if (this.#closed || !this.#auth.authenticated) return;
    if (this.#early !== undefined) {
      if (this.#early.length < MAX_EARLY_EVENTS) this.#early.push(rendered);
      return;
    }
    if (this.#attached !== undefined) {
      const e = rendered.event;
      if (e.event === "console" && e.vm === this.#attached && rendered.raw) {
        // To a telnet client in character mode a 0xff byte is IAC: it is sent doubled.
        this.#emit(this.#charMode ? escapeIac(rendered.raw) : rendered.raw, true);
      } else if (e.event === "fault" && e.vm === this.#attached) {
        this.#emit(`\r\n${rendered.human}`, false);
      }
      return;
    }
    if (!this.#events) return;
    const e = rendered.event;
    if (this.#mode === "json") {
      // Debug messages only for a session that asked for them (`log debug`).
      if (e.event === "log" && e.level === "debug" && !this.#logsAt("debug")) return;
      this.#emit(rendered.json, rendered.droppable);
      return;
    }
    // The session's `log` level decides which messages, status changes and vCPU events show.
    const human = e.event === "console" ? rendered.human : eventHumanAt(e, this.#logLevel());
    if (human === "") return;
    if (this.#lineOpen && !this.#streaming) this.#push("\n");
    this.#emit(human, rendered.droppable);
  }

  /** The session's `log` level (the shell session's), `info` when it has none. */
  #logLevel(): string {
    const level = (this.shellSession as { logLevel?: unknown } | undefined)?.logLevel;
    return typeof level === "string" ? level : "info";
  }

  #logsAt(level: "debug" | "trace"): boolean {
    const l = this.#logLevel();
    return l === "trace" || l === level;
  }

  /**
   * Shows a command as if typed at the prompt (batch mode's `--echo`), so that a transcript says
   * which command each block of output comes from. Human mode only.
   */
  echo(line: string): void {
    if (this.#closed || this.#mode !== "human") return;
    const prompt = this.#host.backend.prompt?.(this.shellSession) ?? PROMPT;
    this.#push(`${prompt}${line}\n`);
  }

  /** Sends a notice from the server: an `Error:` line, or a JSON `notice` event. */
  notice(message: string): void {
    if (this.#closed) return;
    this.#sendBanner();
    if (this.#mode === "json") {
      this.#emit(
        encodeJsonLine({ event: "notice", time_ns: this.#host.backend.now(), message }),
        false,
      );
    } else {
      this.#emit(`${this.#lineOpen && !this.#streaming ? "\n" : ""}Error: ${message}\n`, false);
    }
  }

  /**
   * Cancels the command this session is running or has queued (the interactive console's
   * Ctrl-C): commands that wait, such as `vm wait`, end at once with code `CANCELLED`. Returns
   * false when no command is in progress.
   */
  cancelCommand(): boolean {
    const live = [...this.#pending, ...(this.#running ? [this.#running] : [])]
      .filter((c) => !c.signal.aborted);
    for (const c of live) c.abort();
    return live.length > 0;
  }

  /** Whether a command of this session is queued or running (and not yet cancelled). */
  get commandRunning(): boolean {
    return [...this.#pending, ...(this.#running ? [this.#running] : [])]
      .some((c) => !c.signal.aborted);
  }

  /** Ends a console attach (Ctrl-], `~.`, or the VM went away) and shows the prompt again. */
  detach(reason = ""): void {
    if (this.#attached === undefined) return;
    const vm = this.#attached;
    const following = this.#following;
    this.#attached = undefined;
    this.#attachedInstance = undefined;
    this.#following = false;
    if (this.#charMode) {
      this.#charMode = false;
      this.#push(LINE_MODE);
    }
    const what = following ? `stopped following VM ${vm}` : `detached from VM ${vm}`;
    this.#push(`\r\n[${what}${reason ? `: ${reason}` : ""}]\n`);
    this.#showPrompt();
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#chain.then(task);
    this.#chain = result.catch(() => {});
    return result;
  }

  async #process(chunk: Uint8Array): Promise<void> {
    let rest = chunk;
    // Telnet commands are looked for once character mode was offered (a line-mode client sends
    // none before), so that stray 0xff bytes of other clients stay invalid UTF-8 errors.
    if (this.#telnet && this.#telnetSpoken) {
      const t = this.#telnet.filter(chunk);
      if (t.reply.length > 0) this.#push(t.reply);
      rest = t.data;
    }
    while (rest.length > 0 && !this.#closed) {
      if (this.#attached !== undefined) {
        rest = this.#attachInput(rest);
        continue;
      }
      const lf = rest.indexOf(0x0a);
      if (lf > 0) this.#lineCrlf = rest[lf - 1] === 0x0d;
      const piece = lf < 0 ? rest : rest.subarray(0, lf + 1);
      rest = lf < 0 ? new Uint8Array(0) : rest.subarray(lf + 1);
      for (const item of this.#framer.push(piece)) {
        if (this.#closed) return;
        if (item.kind === "line") await this.#handleLine(item.text);
        else await this.#handleError(item.error);
      }
    }
  }

  /** Forwards attach input to the guest; returns the bytes after an escape (to run as lines). */
  #attachInput(bytes: Uint8Array): Uint8Array {
    const vm = this.#attached!;
    if (this.#following) {
      // Any key ends `vm log --follow` (Ctrl-C on a terminal, Enter on a line-mode client).
      if (bytes.length === 0) return bytes;
      let at = bytes[0] === 0x0d ? 1 : 0;
      if (bytes[at] === 0x0a) at++;
      else if (at === 0) at = 1;
      this.detach();
      return bytes.subarray(at);
    }
    const { forward, detached, rest } = this.#escape.scan(bytes);
    let data = forward;
    if (this.#charMode) data = this.#fromTelnet(data);
    if (data.length > 0) {
      if (this.#attachWatchOnly) {
        if (!this.#readOnlyNoticeShown) {
          this.#readOnlyNoticeShown = true;
          this.#push("\r\n[watching only: input to the guest is ignored]\r\n");
        }
      } else if (!this.#host.backend.consoleInput(vm, data, this.#attachedInstance)) {
        this.detach("the VM no longer exists");
        return new Uint8Array(0);
      }
    }
    if (detached) this.detach();
    return rest;
  }

  /** Telnet's Enter (CR LF or CR NUL) becomes the CR a serial terminal sends. */
  #fromTelnet(data: Uint8Array): Uint8Array {
    const out: number[] = [];
    for (const b of data) {
      if (this.#lastCr && (b === 0x0a || b === 0x00)) {
        this.#lastCr = false;
        continue;
      }
      this.#lastCr = b === 0x0d;
      out.push(b);
    }
    return out.length === data.length ? data : Uint8Array.from(out);
  }

  async #handleError(error: ProtocolError): Promise<false> {
    this.#sendBanner();
    this.#linesSeen++;
    if (this.#mode === "json") this.#replyError(null, error.code, error.message);
    else {
      this.#push(`Error: ${error.message}\n`);
      this.#showPrompt();
    }
    await Promise.resolve();
    return false;
  }

  async #handleLine(text: string): Promise<boolean | undefined> {
    const first = this.#linesSeen === 0;
    this.#linesSeen++;
    const json = this.#mode === "human" && first && text.trimStart().startsWith("{");
    if (this.#early !== undefined) this.#decideMode(json);
    else if (json) this.#switchMode("json");
    // The client's terminal is on a new line now (it echoed the line it sent).
    if (this.#mode === "human") this.#lineOpen = false;
    if (this.#mode === "json") {
      if (text.trim() === "") return undefined;
      const parsed = parseJsonRequest(text);
      if (!parsed.ok) {
        this.#replyError(parsed.id, parsed.error.code, parsed.error.message);
        return false;
      }
      const req = parsed.request;
      const input: CommandInput = req.argv ? { argv: req.argv } : { line: req.cmd! };
      return await this.#run(input, req.id);
    }
    if (text.trim() === "") {
      this.#showPrompt();
      return undefined;
    }
    const ok = await this.#run({ line: text }, null);
    if (!this.#closed && this.#attached === undefined) this.#showPrompt();
    return ok;
  }

  async #run(input: CommandInput, id: RequestId): Promise<boolean> {
    let argv: string[] | undefined;
    if ("argv" in input) argv = input.argv;
    else {
      try {
        argv = tokenize(input.line);
      } catch {
        argv = undefined; // the shell reports the tokenizer's error
      }
    }
    const word = argv?.[0];
    if (!this.#auth.authenticated) {
      if (word === "auth") return this.#authCommand(argv!, id);
      if (word === "exit" || word === "quit") {
        this.#reply(id, { ok: true, text: "Bye.", data: null });
        this.close("exit");
        return true;
      }
      this.#replyError(
        id,
        ProtocolErrorCode.AuthRequired,
        "authentication required: send `auth <token>` first",
      );
      return false;
    }
    if (word === "auth") return this.#authCommand(argv!, id);
    if (word === "mode") return this.#modeCommand(argv!, id);
    if (word === "events") return this.#eventsCommand(argv!, id);
    if (this.readOnly && argv) {
      const refusal = readOnlyRefusal(argv);
      if (refusal) {
        this.#host.log("info", `session ${this.id} (${this.peer}): refused read-only: ${refusal}`);
        this.#replyError(id, ProtocolErrorCode.ReadOnly, refusal);
        return false;
      }
    }
    let outcome: CommandOutcome;
    const controller = this.#lineController ?? new AbortController();
    this.#running = controller;
    try {
      outcome = await this.#host.queue.run(() => {
        if (this.#closed) {
          return { ok: false, text: "", error: { code: "CANCELLED", message: "session closed" } };
        }
        return this.#host.backend.execute(input, this.shellSession, {
          signal: controller.signal,
        });
      });
    } catch (e) {
      const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      this.#host.log("error", `session ${this.id}: command failed with an exception: ${message}`);
      outcome = {
        ok: false,
        text: `Error: internal error: ${message}`,
        error: { code: ProtocolErrorCode.Internal, message: `internal error: ${message}` },
      };
    } finally {
      if (this.#running === controller) this.#running = undefined;
    }
    if (this.#closed) return outcome.ok;
    return await this.#finish(outcome, id, argv);
  }

  async #finish(
    outcome: CommandOutcome,
    id: RequestId,
    argv: string[] | undefined,
  ): Promise<boolean> {
    const action = outcome.action;
    if (
      (action?.type === "attach" || action?.type === "follow") &&
      (this.kind === "stdio" || this.kind === "batch")
    ) {
      const message = action.type === "attach"
        ? NO_TTY_MESSAGE
        : NO_TTY_MESSAGE.replace("`vm console`", "`vm log --follow`");
      if (this.#mode === "json") this.#replyError(id, ProtocolErrorCode.Unsupported, message);
      else this.#reply(id, { ok: false, text: `Error: ${message}`, data: null });
      return false;
    }
    if (action?.type === "follow" && this.#mode === "json") {
      this.#replyError(
        id,
        ProtocolErrorCode.Unsupported,
        "`vm log --follow` needs a human-mode session; in JSON mode the console events " +
          "stream the output",
      );
      return false;
    }
    if (action?.type === "attach" && this.#mode === "json") {
      this.#replyError(
        id,
        ProtocolErrorCode.Unsupported,
        "console attach needs a human-mode session; in JSON mode use `vm send` and the " +
          "console events",
      );
      return false;
    }
    if (this.#mode === "human" && outcome.ok && argv?.length === 1 && argv[0] === "help") {
      outcome = {
        ...outcome,
        text: outcome.text + "\n\nSession commands:\n" +
          "  mode human|json    switch between human text and JSON lines\n" +
          "  events on|off      show or mute asynchronous output (console lines, events)\n" +
          "  auth TOKEN         authenticate (when the server asks for a token)",
      };
    }
    if (action?.type === "clear" && this.#mode === "human" && this.kind !== "batch") {
      this.#push("\x1b[2J\x1b[H");
    }
    await this.#reply(id, outcome);
    if (this.#closed) return outcome.ok;
    if (!outcome.ok || !action) return outcome.ok;
    switch (action.type) {
      case "attach":
        this.#attach(
          action.vmId,
          action.readOnly ?? false,
          outcome.text === "",
          action.escape,
          action.instance,
        );
        if (action.waiting) {
          this.#push(`[VM ${action.vmId} is not running: waiting for it to start]\r\n`);
        }
        break;
      case "follow":
        this.#attach(action.vmId, true, false, {}, action.instance);
        this.#following = true;
        break;
      case "exit":
        this.close("exit");
        break;
      case "shutdown":
        this.#host.shutdown(`shutdown command from session ${this.id} (${this.peer})`);
        break;
      case "clear":
        break;
    }
    return true;
  }

  #attach(
    vmId: number,
    watchOnly: boolean,
    announce: boolean,
    escape: { control?: number | null; line?: number | null } = {},
    instance?: number,
  ): void {
    const label = this.#host.backend.vmLabel(vmId) ?? `VM ${vmId}`;
    this.#attached = vmId;
    this.#attachedInstance = instance;
    this.#following = false;
    this.#attachWatchOnly = watchOnly || this.readOnly;
    this.#escape = new EscapeScanner(escape);
    this.#readOnlyNoticeShown = false;
    this.#lastCr = false;
    // A telnet client (it sent telnet commands, or ends its lines in CR LF as telnet does) is
    // offered character mode, so that each key reaches the guest as it is typed.
    if (this.#telnet && this.#mode === "human" && this.#lineCrlf) {
      this.#charMode = true;
      this.#telnetSpoken = true;
      this.#push(CHARACTER_MODE);
    }
    if (announce) {
      const keys = [
        this.#escape.control !== null ? describeEscapeKey(this.#escape.control) : undefined,
        this.#escape.line !== null ? `a line ${describeEscapeKey(this.#escape.line)}.` : undefined,
      ].filter((k) => k !== undefined);
      const how = keys.length > 0 ? `escape with ${keys.join(" or ")}` : "no escape key";
      this.#push(`[attached to ${label} console; ${how}]\n`);
    }
  }

  #authCommand(argv: string[], id: RequestId): boolean {
    if (!this.#auth.required) {
      this.#reply(id, { ok: true, text: "No authentication needed.", data: null });
      return true;
    }
    if (this.#auth.authenticated) {
      this.#reply(id, { ok: true, text: "Already authenticated.", data: null });
      return true;
    }
    if (argv.length !== 2) {
      this.#replyError(id, ProtocolErrorCode.InvalidArgument, "usage: auth <token>");
      return false;
    }
    const result = this.#auth.attempt(argv[1]);
    if (result.ok) {
      this.onAuthenticated?.();
      this.#host.log("info", `session ${this.id} (${this.peer}): authenticated`);
      this.#reply(id, { ok: true, text: "Authenticated.", data: null });
      return true;
    }
    this.#host.log(
      "warn",
      `session ${this.id} (${this.peer}): wrong token (${result.attemptsLeft} attempts left)`,
    );
    this.#replyError(id, ProtocolErrorCode.AuthFailed, result.message);
    if (result.attemptsLeft <= 0) this.close("too many wrong tokens");
    return false;
  }

  #modeCommand(argv: string[], id: RequestId): boolean {
    const want = argv[1];
    if (argv.length === 1) {
      this.#reply(id, { ok: true, text: `mode ${this.#mode}`, data: { mode: this.#mode } });
      return true;
    }
    if (argv.length !== 2 || (want !== "human" && want !== "json")) {
      this.#replyError(id, ProtocolErrorCode.InvalidArgument, "usage: mode human|json");
      return false;
    }
    if (want === this.#mode) {
      this.#reply(id, { ok: true, text: `Already in ${want} mode.`, data: { mode: want } });
      return true;
    }
    if (want === "json") {
      this.#switchMode("json");
      this.#reply(id, { ok: true, text: "", data: { mode: "json" } });
    } else {
      this.#reply(id, { ok: true, text: "", data: { mode: "human" } });
      this.#mode = "human";
      this.#push("Human mode. Type `help` for commands.\n");
    }
    return true;
  }

  #eventsCommand(argv: string[], id: RequestId): boolean {
    const want = argv[1];
    if (argv.length === 1) {
      const state = this.#events ? "on" : "off";
      this.#reply(id, { ok: true, text: `events ${state}`, data: { events: this.#events } });
      return true;
    }
    if (argv.length !== 2 || (want !== "on" && want !== "off")) {
      this.#replyError(id, ProtocolErrorCode.InvalidArgument, "usage: events on|off");
      return false;
    }
    this.#events = want === "on";
    this.#reply(id, {
      ok: true,
      text: `Events ${want}.`,
      data: { events: this.#events },
    });
    return true;
  }

  #switchMode(mode: SessionMode): void {
    if (mode === "json" && this.#mode === "human") {
      if (this.#streamOpen) this.#push("\n");
      this.#mode = "json";
      this.#push(this.#greeting());
    }
  }

  #greeting(): string {
    return encodeJsonLine({
      event: "hello",
      time_ns: this.#host.backend.now(),
      version: this.#host.version,
      session: this.id,
      mode: "json",
      auth_required: !this.#auth.authenticated,
      read_only: this.readOnly,
    });
  }

  /** Sends a command's reply; a large one is streamed (see `#pushReply`). */
  async #reply(id: RequestId, outcome: CommandOutcome): Promise<void> {
    this.#host.flushEvents();
    if (this.#mode === "json") {
      if (outcome.ok) {
        await this.#pushReply(encodeJsonLine({
          id,
          ok: true,
          data: outcome.data ?? null,
          time_ns: this.#host.backend.now(),
        }));
      } else {
        const error = outcome.error ??
          { code: "COMMAND_FAILED", message: outcome.text.replace(/^Error:\s*/, "") };
        this.#replyError(id, error.code, error.message);
      }
      return;
    }
    let text = outcome.text;
    if (!outcome.ok && text === "" && outcome.error) text = `Error: ${outcome.error.message}`;
    if (text === "") return;
    await this.#pushReply(outcome.noNewline || text.endsWith("\n") ? text : text + "\n");
  }

  /**
   * Queues a reply. One larger than {@linkcode REPLY_CHUNK_BYTES} is queued a piece at a time,
   * each once the client has read most of the previous ones, so that a 10 MB `cat` needs no
   * 10 MB of queue (nor closes the session as stuck). Asynchronous output is held meanwhile, so
   * that it cannot land inside the reply. A client that reads nothing for `stallTimeoutMs` is
   * closed as stuck.
   */
  async #pushReply(data: string): Promise<void> {
    if (data.length <= REPLY_CHUNK_BYTES / 4) {
      this.#push(data);
      return;
    }
    const bytes = encoder.encode(data);
    if (bytes.length <= REPLY_CHUNK_BYTES) {
      this.#push(bytes);
      return;
    }
    this.#streaming = true;
    try {
      for (let at = 0; at < bytes.length && !this.#closed; at += REPLY_CHUNK_BYTES) {
        if (this.output.queuedBytes > this.output.softLimit / 2) {
          if (!await this.#waitForDrain()) return;
        }
        this.#push(bytes.subarray(at, at + REPLY_CHUNK_BYTES));
      }
    } finally {
      this.#streaming = false;
      this.#releaseHeld();
    }
  }

  /** Waits for the client to read; false (and the session closed) when it stalls. */
  async #waitForDrain(): Promise<boolean> {
    const ms = this.#stallTimeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stalled = false;
    const stall = ms > 0
      ? new Promise<void>((resolve) =>
        timer = setTimeout(() => {
          stalled = true;
          resolve();
        }, ms)
      )
      : undefined;
    await Promise.race(stall ? [this.output.waitForDrain(), stall] : [this.output.waitForDrain()]);
    clearTimeout(timer);
    if (stalled && !this.#closed) {
      this.#host.log(
        "warn",
        `session ${this.id} (${this.peer}): closed, it read nothing of a large reply for ` +
          `${ms} ms (${this.output.queuedBytes} bytes waiting)`,
      );
      this.close("client stopped reading", { graceful: false });
    }
    return !this.#closed;
  }

  /** Queues asynchronous output, or holds it while a reply is streamed. */
  #emit(data: string | Uint8Array, droppable: boolean): void {
    if (!this.#streaming) {
      if (droppable) this.#pushDroppable(data);
      else this.#push(data);
      return;
    }
    if (droppable && this.#heldBytes + data.length > this.output.softLimit) {
      this.#heldDropped += data.length;
      return;
    }
    if (this.#heldBytes + data.length > this.output.hardLimit) {
      this.close("client stopped reading", { graceful: false });
      return;
    }
    this.#held.push({ data, droppable });
    this.#heldBytes += data.length;
  }

  #releaseHeld(): void {
    const held = this.#held;
    const dropped = this.#heldDropped;
    this.#held = [];
    this.#heldBytes = 0;
    this.#heldDropped = 0;
    if (this.#closed) return;
    for (const h of held) {
      if (this.#mode === "human" && this.#lineOpen) this.#push("\n");
      this.#emit(h.data, h.droppable);
    }
    if (dropped > 0) this.#push(this.#droppedNotice(dropped));
  }

  #replyError(id: RequestId, code: string, message: string): void {
    this.#host.flushEvents();
    if (this.#mode === "json") {
      this.#push(encodeJsonLine({
        id,
        ok: false,
        error: { code, message },
        time_ns: this.#host.backend.now(),
      }));
    } else {
      this.#push(`Error: ${message}\n`);
    }
  }

  #showPrompt(): void {
    if (this.#closed || !this.#prompt || this.#mode !== "human" || this.#attached !== undefined) {
      return;
    }
    this.#push(this.#host.backend.prompt?.(this.shellSession) ?? PROMPT);
  }

  #droppedNotice(bytes: number): string {
    if (this.#mode === "json") {
      return encodeJsonLine({
        event: "dropped",
        time_ns: this.#host.backend.now(),
        bytes,
        reason: "client too slow",
      });
    }
    return `\n[axvisor: ${bytes} bytes of console output dropped: the client is too slow]\n`;
  }

  #push(data: string | Uint8Array): void {
    if (data.length > 0) {
      this.#lineOpen = this.#streamOpen = typeof data === "string"
        ? !data.endsWith("\n")
        : data[data.length - 1] !== 0x0a;
    }
    if (this.output.push(data)) return;
    if (this.output.overflowed && !this.#closed) {
      this.#host.log(
        "warn",
        `session ${this.id} (${this.peer}): closed, it stopped reading ` +
          `(${this.output.queuedBytes} bytes waiting)`,
      );
      this.close("client stopped reading", { graceful: false });
    }
  }

  #pushDroppable(data: string | Uint8Array): void {
    if (this.output.pushDroppable(data) && data.length > 0) {
      this.#lineOpen = this.#streamOpen = typeof data === "string"
        ? !data.endsWith("\n")
        : data[data.length - 1] !== 0x0a;
    }
  }
}

/** Doubles every 0xff byte (telnet's IAC IAC). */
function escapeIac(data: Uint8Array): Uint8Array {
  if (!data.includes(0xff)) return data;
  const out: number[] = [];
  for (const b of data) {
    out.push(b);
    if (b === 0xff) out.push(0xff);
  }
  return Uint8Array.from(out);
}
