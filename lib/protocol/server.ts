/**
 * The console server: owns the sessions, serialises their commands and fans out events.
 *
 * Transports (TCP, stdio, the interactive terminal, batch) open sessions with
 * {@linkcode ConsoleServer.openSession} and pump bytes in and out; the server subscribes once to
 * the hypervisor's events, renders each event once (JSON line, `[VM n] ` lines, raw bytes) and
 * hands it to every session, whose bounded output queue decides what to keep.
 *
 * @module
 */

import type { ProtocolBackend } from "./backend.ts";
import { CommandQueue } from "./command_queue.ts";
import { ProtocolError, ProtocolErrorCode } from "./errors.ts";
import {
  ConsoleAssembler,
  eventHuman,
  eventJson,
  type ProtocolEvent,
  type RenderedEvent,
} from "./events.ts";
import { encodeJsonLine } from "./json_request.ts";
import type { OutputQueueLimits } from "./output_queue.ts";
import { DEFAULT_BANNER_DELAY_MS, Session, type SessionKind, type SessionMode } from "./session.ts";

/** Severity of a server log line. */
export type ServerLogLevel = "error" | "warn" | "info" | "debug";

const LEVELS: Record<ServerLogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** The program's version, shown in banners and the JSON greeting. */
export const VERSION = "0.1.0";

/** Default maximum number of concurrent sessions. */
export const DEFAULT_MAX_SESSIONS = 256;

/** Options of a {@linkcode ConsoleServer}. */
export interface ConsoleServerOptions {
  /** The hypervisor and shell. */
  backend: ProtocolBackend;
  /** Program version shown in banners. */
  version?: string;
  /** Token that TCP sessions must send with `auth` (none: no authentication). */
  token?: string;
  /** Make every network session read-only. */
  readOnly?: boolean;
  /** Maximum concurrent sessions (default 256). */
  maxSessions?: number;
  /** Wrong tokens a session may send before it is closed (default 3). */
  maxAuthAttempts?: number;
  /**
   * Wall-clock milliseconds a session that must authenticate gets to do so before it is closed
   * (default 30 000), so that idle unauthenticated connections cannot hold every session slot.
   */
  authTimeoutMs?: number;
  /** Output limits of every session. */
  limits?: OutputQueueLimits;
  /**
   * Banner delay of TCP and stdio-stream sessions, to see whether the first line is JSON
   * (default {@linkcode DEFAULT_BANNER_DELAY_MS}; 0 sends the banner at once).
   */
  bannerDelayMs?: number;
  /**
   * Milliseconds a large reply waits for a client that reads nothing before the session is
   * closed as stuck (default 30 000).
   */
  stallTimeoutMs?: number;
  /** Where log lines go (default: nowhere). */
  log?: (level: ServerLogLevel, message: string) => void;
  /** Lowest level that is logged (default `info`). */
  logLevel?: ServerLogLevel;
  /**
   * Let a session's command start while another session's command waits (`vm wait`, `vm
   * restart`) instead of queueing behind it (default false). Set it when a `HypervisorDriver`
   * runs the hypervisor, whose waits are asynchronous and may overlap.
   */
  interleaveWaits?: boolean;
}

/** Options of {@linkcode ConsoleServer.openSession}. */
export interface OpenSessionOptions {
  /** Transport kind; TCP sessions get the token and read-only rules. */
  kind: SessionKind;
  /** Peer description for logs. */
  peer: string;
  /** Send the banner (default true). */
  banner?: boolean;
  /** Send prompts (default true). */
  prompt?: boolean;
  /** Initial mode (default human). */
  mode?: SessionMode;
  /** Override the server's read-only rule for this session. */
  readOnly?: boolean;
  /** Override the server's token rule (false: no auth even on TCP). */
  requireAuth?: boolean;
  /** Override the server's output limits (batch mode allows more). */
  limits?: OutputQueueLimits;
  /** Override the server's stall timeout (0: wait for the reader for ever, as batch mode does). */
  stallTimeoutMs?: number;
  /**
   * Hold the banner back this long, to see whether the first line is JSON (default 0; the TCP
   * and stdio-stream transports pass {@linkcode ConsoleServer.bannerDelayMs}).
   */
  bannerDelayMs?: number;
}

/** The hub of all console sessions. */
export class ConsoleServer {
  /** The hypervisor and shell. */
  readonly backend: ProtocolBackend;
  /** Orders the commands of every session (see {@linkcode ConsoleServerOptions.interleaveWaits}). */
  readonly queue: CommandQueue;
  /** Program version. */
  readonly version: string;
  /** Maximum concurrent sessions. */
  readonly maxSessions: number;
  /** Banner delay of TCP and stdio-stream sessions (see `SessionOptions.bannerDelayMs`). */
  readonly bannerDelayMs: number;
  #options: ConsoleServerOptions;
  #sessions = new Map<number, Session>();
  #nextId = 1;
  #assemblers = new Map<number, ConsoleAssembler>();
  #unsubscribe: () => void;
  #shutdownReason: string | undefined;
  #resolveShutdown!: (reason: string) => void;
  #eventCount = 0;
  #pendingConsole = new Map<number, { chunks: Uint8Array[]; bytes: number; timeNs?: number }>();
  #flushScheduled = false;
  /** Each VM's last status, from the events (to tell a stop from a restart). */
  #lastStatus = new Map<number, string>();
  /** Resolves with the reason once shutdown was requested. */
  readonly shutdownRequested: Promise<string>;

  /** Creates the server and subscribes to the backend's events. */
  constructor(options: ConsoleServerOptions) {
    this.#options = options;
    this.backend = options.backend;
    this.queue = new CommandQueue({ interleaved: options.interleaveWaits ?? false });
    this.version = options.version ?? VERSION;
    this.maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.bannerDelayMs = options.bannerDelayMs ?? DEFAULT_BANNER_DELAY_MS;
    this.shutdownRequested = new Promise((resolve) => (this.#resolveShutdown = resolve));
    this.#unsubscribe = this.backend.subscribe((event) => this.#onEvent(event));
  }

  /** Open sessions, by id. */
  sessions(): Session[] {
    return [...this.#sessions.values()];
  }

  /** Events received from the hypervisor so far. */
  get eventCount(): number {
    return this.#eventCount;
  }

  /** True once shutdown was requested. */
  get shuttingDown(): boolean {
    return this.#shutdownReason !== undefined;
  }

  /**
   * Opens a session (and sends its banner). Throws {@linkcode ProtocolError} when the server is
   * full or shutting down.
   */
  openSession(options: OpenSessionOptions): Session {
    if (this.#shutdownReason !== undefined) {
      throw new ProtocolError(ProtocolErrorCode.ShuttingDown, "the server is shutting down");
    }
    if (this.#sessions.size >= this.maxSessions) {
      this.log(
        "warn",
        `refused ${options.peer}: too many sessions (${this.#sessions.size} of ${this.maxSessions})`,
      );
      throw new ProtocolError(
        ProtocolErrorCode.TooManySessions,
        `too many sessions (limit ${this.maxSessions}); try again later`,
      );
    }
    const network = options.kind === "tcp";
    const id = this.#nextId++;
    const requireAuth = options.requireAuth ?? network;
    const session = new Session(this, {
      id,
      peer: options.peer,
      kind: options.kind,
      banner: options.banner,
      prompt: options.prompt,
      mode: options.mode,
      readOnly: options.readOnly ?? (this.#options.readOnly ?? false),
      token: requireAuth ? this.#options.token : undefined,
      maxAuthAttempts: this.#options.maxAuthAttempts,
      limits: options.limits ?? this.#options.limits,
      stallTimeoutMs: options.stallTimeoutMs ?? this.#options.stallTimeoutMs,
      bannerDelayMs: options.bannerDelayMs ?? 0,
    });
    this.#sessions.set(id, session);
    this.log("debug", `session ${id} opened (${options.peer})`);
    session.start();
    if (!session.authenticated) {
      const ms = this.#options.authTimeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        if (session.closed || session.authenticated) return;
        this.log("warn", `session ${id} (${options.peer}): no authentication within ${ms} ms`);
        session.notice(`authentication timed out after ${ms} ms`);
        session.close("authentication timed out");
      }, ms);
      session.closedPromise.then(() => clearTimeout(timer));
      // Authenticated sessions drop the timer at once.
      session.onAuthenticated = () => clearTimeout(timer);
    }
    return session;
  }

  /** Called by a session when it closes. */
  sessionClosed(session: Session): void {
    if (this.#sessions.delete(session.id)) {
      this.log("debug", `session ${session.id} closed (${session.peer}): ${session.closeReason}`);
    }
  }

  /** Writes a log line when `level` is enabled. */
  log(level: ServerLogLevel, message: string): void {
    const threshold = LEVELS[this.#options.logLevel ?? "info"];
    if (LEVELS[level] <= threshold) this.#options.log?.(level, message);
  }

  /** Requests shutdown (idempotent): every session gets a notice and is closed gracefully. */
  shutdown(reason: string): void {
    if (this.#shutdownReason !== undefined) return;
    this.#shutdownReason = reason;
    this.log("info", `shutting down: ${reason}`);
    this.#flushConsoles();
    for (const s of this.sessions()) {
      if (s.mode === "json") {
        s.output.push(encodeJsonLine({ event: "shutdown", time_ns: this.backend.now(), reason }));
      } else if (s.kind !== "batch") {
        s.output.push(`\n[axvisor: shutting down: ${reason}]\n`);
      }
      s.close("server shutdown");
    }
    this.#resolveShutdown(reason);
  }

  /** Unsubscribes from the hypervisor (after shutdown). */
  dispose(): void {
    this.#unsubscribe();
  }

  /** Sends every VM's unfinished console line to human sessions (end of a batch, shutdown). */
  flushConsoles(): void {
    this.#flushConsoles();
  }

  #flushConsoles(): void {
    this.flushEvents();
    for (const [vm, assembler] of this.#assemblers) {
      const rest = assembler.flush();
      if (rest === "") continue;
      this.#broadcast({
        event: { event: "console", vm, data: new Uint8Array(0) },
        json: "",
        human: rest,
        droppable: true,
      }, true);
    }
  }

  /**
   * Delivers console output held back for coalescing (guests often write one byte at a time).
   * Sessions call it before each reply so that output a command caused comes before its reply.
   */
  flushEvents(): void {
    if (this.#pendingConsole.size === 0) return;
    const pending = [...this.#pendingConsole];
    this.#pendingConsole.clear();
    for (const [vm, p] of pending) {
      const data = p.chunks.length === 1 ? p.chunks[0] : concatBytes(p.chunks, p.bytes);
      const event: ProtocolEvent = { event: "console", vm, data };
      if (p.timeNs !== undefined) event.timeNs = p.timeNs;
      this.#deliverConsole(event);
    }
  }

  #onEvent(event: ProtocolEvent): void {
    this.#eventCount++;
    if (event.event === "console") {
      // Coalesce consecutive console writes; flushed before any other event, before every
      // reply, at 4 KiB, and at the end of the current task.
      let p = this.#pendingConsole.get(event.vm);
      if (!p) {
        p = { chunks: [], bytes: 0, timeNs: event.timeNs };
        this.#pendingConsole.set(event.vm, p);
      }
      p.chunks.push(event.data);
      p.bytes += event.data.length;
      if (p.bytes >= 4096) this.flushEvents();
      else if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        queueMicrotask(() => {
          this.#flushScheduled = false;
          this.flushEvents();
        });
      }
      return;
    }
    this.flushEvents();
    if (event.event === "log") {
      const where = event.vm === undefined ? "" : `VM ${event.vm}: `;
      this.log(event.level, `${where}${event.message}`);
      // Debug messages go on to the sessions: each shows them only at `log debug` or `trace`.
    }
    if (event.event === "status") this.#lastStatus.set(event.vm, event.to);
    const now = this.backend.now();
    const deleted = event.event === "status" &&
      (event.to === "deleted" || event.reason === "deleted");
    if (event.event === "status" && (event.to === "stopped" || deleted)) {
      const assembler = this.#assemblers.get(event.vm);
      const rest = assembler?.flush() ?? "";
      if (rest !== "") {
        this.#broadcast({
          event: { event: "console", vm: event.vm, data: new Uint8Array(0) },
          json: "",
          human: rest,
          droppable: true,
        }, true);
      }
      if (deleted) this.#assemblers.delete(event.vm);
    }
    if (this.#sessions.size === 0) return;
    this.#broadcast({
      event,
      json: eventJson(event, now),
      human: eventHuman(event),
      droppable: false,
    });
    // The VMM reports a deletion as a status event with reason "deleted".
    if (event.event === "status" && (event.to === "deleted" || event.reason === "deleted")) {
      this.#lastStatus.delete(event.vm);
      for (const s of this.#sessions.values()) {
        if (s.attachedVm === event.vm) s.detach("the VM was deleted");
      }
    } else if (event.event === "status") {
      // A VM that stopped ends the attaches to it, unless it starts again at once (a restart
      // or a guest reboot emit Stopped then Running in the same task).
      if (event.to === "stopped") {
        const vm = event.vm;
        queueMicrotask(() => {
          if (this.#lastStatus.get(vm) !== "stopped") return;
          for (const s of this.#sessions.values()) {
            if (s.attachedVm === vm) s.detach("the VM stopped");
          }
        });
      }
    }
  }

  #deliverConsole(event: ProtocolEvent & { event: "console" }): void {
    let assembler = this.#assemblers.get(event.vm);
    if (!assembler) {
      assembler = new ConsoleAssembler(event.vm);
      this.#assemblers.set(event.vm, assembler);
    }
    const { text, lines } = assembler.push(event.data);
    if (this.#sessions.size === 0) return;
    this.#broadcast({
      event,
      json: eventJson(event, this.backend.now(), text),
      human: lines,
      raw: event.data,
      droppable: true,
    });
  }

  #broadcast(rendered: RenderedEvent, humanOnly = false): void {
    for (const s of this.#sessions.values()) {
      if (humanOnly && (s.mode !== "human" || s.attachedVm !== undefined)) continue;
      s.deliver(rendered);
    }
  }
}

function concatBytes(chunks: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
