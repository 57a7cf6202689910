/**
 * Asynchronous events as the protocol sends them, and their human and JSON renderings.
 *
 * The hypervisor's events are normalised into {@linkcode ProtocolEvent}s (see
 * `axvisor_backend.ts`). The server renders each event once: a JSON line for JSON sessions
 * (`{"event": ..., "time_ns": ..., ...}`) and, for guest console output, `[VM n] ` prefixed lines
 * for human sessions, assembled per VM so that output of different VMs never mixes within a line.
 *
 * @module
 */

import { encodeJsonLine } from "./json_request.ts";

/** A VM changed status (`loaded`, `running`, `suspended`, `stopping`, `stopped`...). */
export interface ProtocolStatusEvent {
  /** Event kind. */
  event: "status";
  /** VM id. */
  vm: number;
  /** VM name, when known. */
  name?: string;
  /** Previous status, when known. */
  from?: string;
  /** New status. */
  to: string;
  /** Why, when not an explicit command (e.g. `guest shutdown`, `fault`). */
  reason?: string;
}

/** A VM wrote to its console. */
export interface ProtocolConsoleEvent {
  /** Event kind. */
  event: "console";
  /** VM id. */
  vm: number;
  /** The bytes the guest wrote. */
  data: Uint8Array;
}

/** A vCPU came up or went down (SBI HSM, VM start and stop). */
export interface ProtocolVcpuEvent {
  /** Event kind. */
  event: "vcpu";
  /** VM id. */
  vm: number;
  /** vCPU id within the VM. */
  vcpu: number;
  /** `up` or `down`. */
  state: "up" | "down";
  /** Physical CPU the vCPU runs on, when known. */
  pcpu?: number;
}

/** A guest fault that stopped its VM. */
export interface ProtocolFaultEvent {
  /** Event kind. */
  event: "fault";
  /** VM id. */
  vm: number;
  /** vCPU that faulted, when known. */
  vcpu?: number;
  /** What happened (names the address, pc and vCPU). */
  message: string;
  /** Fault class (`NestedPageFault`, `UnhandledTrap`...), when known. */
  kind?: string;
  /** Guest-physical address involved, when known. */
  addr?: number;
  /** Program counter, when known. */
  pc?: number;
}

/** A diagnostic from the hypervisor (a failed hypercall, a guest's debug hypercall...). */
export interface ProtocolLogEvent {
  /** Event kind. */
  event: "log";
  /** Severity. */
  level: "debug" | "info" | "warn" | "error";
  /** VM id, when about one VM. */
  vm?: number;
  /** The message. */
  message: string;
}

/** Any event the protocol forwards to sessions, with the virtual time it happened at. */
export type ProtocolEvent =
  & (
    | ProtocolStatusEvent
    | ProtocolConsoleEvent
    | ProtocolVcpuEvent
    | ProtocolFaultEvent
    | ProtocolLogEvent
  )
  & {
    /** Virtual time (ns) of the event; the time of delivery when absent. */
    timeNs?: number;
  };

/** One event rendered for every kind of session. */
export interface RenderedEvent {
  /** The normalised event. */
  event: ProtocolEvent;
  /** The JSON line (with LF) for JSON sessions. */
  json: string;
  /** Text for human sessions (complete lines), or `""` when human sessions show nothing. */
  human: string;
  /** For console events: the raw bytes, for sessions attached to that VM's console. */
  raw?: Uint8Array;
  /** True when the output may be dropped for a slow client (console output). */
  droppable: boolean;
}

/** Longest partial console line kept before it is shown anyway. */
export const MAX_PARTIAL_LINE = 1024;

/**
 * Turns a VM's console byte stream into text: streaming UTF-8 decoding (a character split
 * across writes is kept whole; invalid bytes become U+FFFD) and, for human sessions, complete
 * lines prefixed `[VM n] ` (a CR before the LF is dropped).
 */
export class ConsoleAssembler {
  /** The VM id used in the prefix. */
  readonly vmId: number;
  #decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  #partial = "";

  /** Creates an assembler for VM `vmId`. */
  constructor(vmId: number) {
    this.vmId = vmId;
  }

  /** The text of an unfinished line waiting for its LF. */
  get partial(): string {
    return this.#partial;
  }

  /** Decodes `data`; returns the decoded text and the complete prefixed lines it finishes. */
  push(data: Uint8Array): { text: string; lines: string } {
    const text = this.#decoder.decode(data, { stream: true });
    let buf = this.#partial + text;
    let lines = "";
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      lines += this.#line(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      nl = buf.indexOf("\n");
    }
    while (buf.length > MAX_PARTIAL_LINE) {
      lines += this.#line(buf.slice(0, MAX_PARTIAL_LINE));
      buf = buf.slice(MAX_PARTIAL_LINE);
    }
    this.#partial = buf;
    return { text, lines };
  }

  /** Returns the unfinished line (prefixed, with an LF) and forgets it; `""` when none. */
  flush(): string {
    const rest = this.#partial + this.#decoder.decode();
    this.#partial = "";
    return rest.length > 0 ? this.#line(rest) : "";
  }

  #line(text: string): string {
    return `[VM ${this.vmId}] ${plainText(text)}\n`;
  }
}

/**
 * A guest's console line as plain text for a `[VM n] ` line: terminal control sequences (colours,
 * cursor moves, and queries such as busybox's ESC [6n, which a terminal would answer into the
 * host's prompt) and other control characters except tab are taken out. An attached console gets
 * the raw bytes instead.
 */
export function plainText(text: string): string {
  let out = "";
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c !== 0x7f || c === 0x09) continue;
    out += text.slice(start, i);
    if (c === 0x1b && i + 1 < text.length) {
      const kind = text[i + 1];
      if (kind === "[") {
        // CSI: parameters and intermediates, then one final byte in @..~.
        i += 2;
        while (i < text.length && !(text.charCodeAt(i) >= 0x40 && text.charCodeAt(i) <= 0x7e)) i++;
      } else if (kind === "]") {
        // OSC: up to BEL or ESC \.
        i += 2;
        while (i < text.length && text.charCodeAt(i) !== 0x07 && text.charCodeAt(i) !== 0x1b) i++;
        if (text.charCodeAt(i) === 0x1b) i++;
      } else {
        i++; // a two-byte escape (ESC 7, ESC c, ...)
      }
    }
    start = i + 1;
  }
  return start === 0 ? text : out + text.slice(start);
}

/**
 * Renders an event as a JSON line stamped with the virtual time (the event's own, else `nowNs`).
 * Console events carry the decoded `text`.
 */
export function eventJson(event: ProtocolEvent, nowNs: number, text?: string): string {
  const time_ns = event.timeNs ?? nowNs;
  if (event.event === "console") {
    return encodeJsonLine({ event: "console", time_ns, vm: event.vm, text: text ?? "" });
  }
  const { event: kind, timeNs: _t, ...rest } = event;
  return encodeJsonLine({ event: kind, time_ns, ...rest });
}

/** The shell's log levels, quietest first (`log <level>` sets a session's). */
const LEVEL_RANK: Record<string, number> = {
  off: 0,
  error: 1,
  warn: 2,
  info: 3,
  debug: 4,
  trace: 5,
};

/**
 * Renders an event for a human session whose `log` level is `level`: faults always; the
 * hypervisor's log messages at or above the level (`error`, `warn`, `info`, `debug`); at `debug`
 * also every VM status change, at `trace` also every vCPU up/down and pin. Console lines come
 * from the {@linkcode ConsoleAssembler}. Returns "" for what the level hides.
 */
export function eventHumanAt(event: ProtocolEvent, level: string): string {
  const rank = LEVEL_RANK[level] ?? LEVEL_RANK.info;
  const who = (vm: number | undefined) => (vm === undefined ? "[axvisor]" : `[VM ${vm}]`);
  switch (event.event) {
    case "fault":
      return eventHuman(event);
    case "log":
      return (LEVEL_RANK[event.level] ?? 0) <= rank
        ? `${who(event.vm)} ${event.level}: ${event.message}\n`
        : "";
    case "status":
      return rank >= LEVEL_RANK.debug
        ? `${who(event.vm)} status: ${event.from ?? "?"} -> ${event.to}${
          event.reason ? ` (${event.reason})` : ""
        }\n`
        : "";
    case "vcpu":
      return rank >= LEVEL_RANK.trace
        ? `${who(event.vm)} vCPU ${event.vcpu} ${event.state}${
          event.pcpu !== undefined && event.pcpu >= 0 ? ` on pCPU ${event.pcpu}` : ""
        }\n`
        : "";
    default:
      return "";
  }
}

/**
 * Renders an event for human sessions: faults, and warnings and errors of the hypervisor.
 * Console lines come from the {@linkcode ConsoleAssembler}; status changes are what commands
 * print, so they are not repeated.
 */
export function eventHuman(event: ProtocolEvent): string {
  if (event.event === "fault") {
    const vcpu = event.vcpu === undefined ? "" : ` (vCPU ${event.vcpu})`;
    return `[VM ${event.vm}] fault${vcpu}: ${event.message}\n`;
  }
  if (event.event === "log" && (event.level === "warn" || event.level === "error")) {
    const who = event.vm === undefined ? "[axvisor]" : `[VM ${event.vm}]`;
    return `${who} ${event.level}: ${event.message}\n`;
  }
  return "";
}
