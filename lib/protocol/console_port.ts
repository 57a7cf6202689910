/**
 * Per-VM raw console ports: each VM's serial line as a plain TCP byte stream, like QEMU's
 * `-serial tcp::PORT,server` or Renode's UART terminals, so that `nc`, `socat`, `telnet` or a
 * test harness is a serial cable.
 *
 * - VM n listens on `base + n` (`--console-ports BASE`), or on the port its config names
 *   (`[base] console_port`). Ports open when a VM is created and close when it is deleted.
 * - Bytes are passed as they are in both directions: no framing, no echo, no translation.
 * - Same rules as the console port: loopback by default; with a token, the first line a client
 *   sends must be the token (or `auth <token>`); read-only clients watch but their input is
 *   ignored (they are told once).
 * - Several clients on one port all see the output; input from any of them goes to the guest,
 *   interleaved as it arrives.
 * - Each client has a bounded output buffer ({@linkcode DEFAULT_CLIENT_BUFFER}): a client that
 *   stops reading loses output (it is told how much when it reads again, and the server logs it),
 *   and never slows the guest or the other clients.
 *
 * @module
 */

import type { ProtocolBackend } from "./backend.ts";
import { constantTimeEqual } from "./auth.ts";

/** Output bytes buffered per client before output is dropped for it. */
export const DEFAULT_CLIENT_BUFFER = 256 * 1024;

/** Wall-clock milliseconds a client has to send the token. */
export const TOKEN_TIMEOUT_MS = 30_000;

/** Longest token line accepted. */
const MAX_TOKEN_LINE = 1024;

const encoder = new TextEncoder();

/** Options of {@linkcode ConsolePorts}. */
export interface ConsolePortsOptions {
  /** The address to bind (default 127.0.0.1). */
  hostname?: string;
  /** VM n listens on `base + n` (when set). */
  base?: number;
  /**
   * The port of a VM: a number (0: any free port), or `undefined` for none. Default: the VM's
   * own port from {@linkcode ConsolePortsOptions.vmPort}, else `base + id`, else none.
   */
  portFor?: (vmId: number) => number | undefined;
  /** A VM's own port from its config (`[base] console_port`). */
  vmPort?: (vmId: number) => number | undefined;
  /** The token clients must send first (none: no token). */
  token?: string;
  /** Clients may watch but not type. */
  readOnly?: boolean;
  /** Output bytes buffered per client (default 256 KiB). */
  clientBuffer?: number;
  /** Server log. */
  log?: (level: "error" | "warn" | "info" | "debug", message: string) => void;
}

/** What the console ports need from the VMM, beyond the protocol backend. */
export type ConsolePortsBackend = Pick<ProtocolBackend, "subscribe" | "consoleInput" | "vmLabel">;

/** One client of a console port. */
class PortClient {
  readonly conn: Deno.TcpConn;
  readonly peer: string;
  authed: boolean;
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  #dropped = 0;
  #droppedTotal = 0;
  #wake: (() => void) | undefined;
  #closed = false;
  readOnlyTold = false;
  /** Resolves when the client's loops have ended. */
  done: Promise<void> = Promise.resolve();

  constructor(conn: Deno.TcpConn, authed: boolean, readonly limit: number) {
    this.conn = conn;
    this.authed = authed;
    this.peer = `${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get queuedBytes(): number {
    return this.#bytes;
  }

  get droppedTotal(): number {
    return this.#droppedTotal;
  }

  /** Queues output; returns false when it was dropped (the buffer is full). */
  push(data: Uint8Array): boolean {
    if (this.#closed || data.length === 0) return true;
    if (this.#bytes + data.length > this.limit) {
      this.#dropped += data.length;
      this.#droppedTotal += data.length;
      return false;
    }
    this.#chunks.push(data);
    this.#bytes += data.length;
    this.#wake?.();
    return true;
  }

  /** Writes queued output until the client closes. */
  async writeLoop(onDropped: (bytes: number) => void): Promise<void> {
    try {
      while (!this.#closed) {
        if (this.#bytes === 0) {
          await new Promise<void>((resolve) => (this.#wake = resolve));
          this.#wake = undefined;
          continue;
        }
        let out: Uint8Array;
        if (this.#chunks.length === 1) out = this.#chunks[0];
        else {
          out = new Uint8Array(this.#bytes);
          let at = 0;
          for (const c of this.#chunks) {
            out.set(c, at);
            at += c.length;
          }
        }
        this.#chunks = [];
        this.#bytes = 0;
        if (this.#dropped > 0) {
          const note = encoder.encode(
            `\r\n[axvisor: ${this.#dropped} bytes of console output dropped: this client ` +
              `was too slow]\r\n`,
          );
          onDropped(this.#dropped);
          this.#dropped = 0;
          await writeAll(this.conn, note);
        }
        await writeAll(this.conn, out);
      }
    } catch {
      this.close();
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let at = 0;
  while (at < data.length) at += await conn.write(data.subarray(at));
}

/** One VM's port. */
class VmPort {
  readonly clients = new Set<PortClient>();
  constructor(
    readonly vmId: number,
    readonly listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>,
  ) {}
}

/** Serves every VM's console on its own TCP port. */
export class ConsolePorts {
  readonly #backend: ConsolePortsBackend;
  readonly #options: ConsolePortsOptions;
  readonly #ports = new Map<number, VmPort>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #unsubscribe: () => void;
  #closed = false;
  /** Problems met opening ports (a port in use): reported, the VM runs on. */
  readonly problems: string[] = [];

  /** Opens the ports of `vmIds` and follows VM creation and deletion. */
  constructor(backend: ConsolePortsBackend, vmIds: number[], options: ConsolePortsOptions) {
    this.#backend = backend;
    this.#options = options;
    this.#unsubscribe = backend.subscribe((event) => {
      if (event.event === "console") {
        const port = this.#ports.get(event.vm);
        if (port) this.#output(port, event.data);
      } else if (event.event === "status" && event.reason === "created") {
        this.open(event.vm);
      } else if (event.event === "status" && event.to === "deleted") {
        this.#closePort(event.vm, "the VM was deleted");
      }
    });
    for (const id of vmIds) this.open(id);
  }

  /** The bound address of a VM's port, if it has one. */
  addrOf(vmId: number): Deno.NetAddr | undefined {
    return this.#ports.get(vmId)?.listener.addr;
  }

  /** Every open port, by VM id. */
  ports(): { vmId: number; addr: Deno.NetAddr; clients: number }[] {
    return [...this.#ports.values()].map((p) => ({
      vmId: p.vmId,
      addr: p.listener.addr,
      clients: p.clients.size,
    }));
  }

  /** The clients of a VM's port: peer, bytes waiting for them, bytes they lost. */
  clients(vmId: number): { peer: string; queuedBytes: number; droppedBytes: number }[] {
    const port = this.#ports.get(vmId);
    if (!port) return [];
    return [...port.clients].map((c) => ({
      peer: c.peer,
      queuedBytes: c.queuedBytes,
      droppedBytes: c.droppedTotal,
    }));
  }

  /** Opens a VM's port (no-op when it has none or it is open). Returns the address. */
  open(vmId: number): Deno.NetAddr | undefined {
    if (this.#closed) return undefined;
    const existing = this.#ports.get(vmId);
    if (existing) return existing.listener.addr;
    const port = this.#portOf(vmId);
    if (port === undefined) return undefined;
    const hostname = this.#options.hostname ?? "127.0.0.1";
    let listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>;
    try {
      listener = Deno.listen({ hostname, port, transport: "tcp" });
    } catch (e) {
      const message = `VM ${vmId}: cannot serve its console on ${hostname}:${port}: ${
        (e as Error).message
      }`;
      this.problems.push(message);
      this.#options.log?.("warn", message);
      return undefined;
    }
    const vmPort = new VmPort(vmId, listener);
    this.#ports.set(vmId, vmPort);
    this.#options.log?.(
      "info",
      `console of ${
        this.#backend.vmLabel(vmId) ?? `VM ${vmId}`
      } on ${hostname}:${listener.addr.port}`,
    );
    this.#track(this.#acceptLoop(vmPort));
    return listener.addr;
  }

  /** Closes every port and client. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe();
    for (const id of [...this.#ports.keys()]) this.#closePort(id, "");
    await Promise.all([...this.#tasks]);
  }

  #portOf(vmId: number): number | undefined {
    if (this.#options.portFor) return this.#options.portFor(vmId);
    const own = this.#options.vmPort?.(vmId);
    if (own !== undefined) return own;
    if (this.#options.base === undefined) return undefined;
    const port = this.#options.base + vmId;
    return port <= 65535 ? port : undefined;
  }

  #closePort(vmId: number, reason: string): void {
    const port = this.#ports.get(vmId);
    if (!port) return;
    this.#ports.delete(vmId);
    try {
      port.listener.close();
    } catch {
      // already closed
    }
    for (const c of port.clients) {
      if (reason) c.push(encoder.encode(`\r\n[axvisor: ${reason}]\r\n`));
      // Let the note go out, then close.
      queueMicrotask(() => setTimeout(() => c.close(), 50));
    }
  }

  #output(port: VmPort, data: Uint8Array): void {
    for (const c of port.clients) {
      if (!c.authed) continue;
      // The event's bytes may be reused by the emitter: each client keeps a copy.
      c.push(data.slice());
    }
  }

  async #acceptLoop(port: VmPort): Promise<void> {
    try {
      for await (const conn of port.listener) {
        const client = new PortClient(
          conn,
          this.#options.token === undefined,
          this.#options.clientBuffer ?? DEFAULT_CLIENT_BUFFER,
        );
        port.clients.add(client);
        try {
          conn.setNoDelay(true);
        } catch {
          // not fatal
        }
        this.#options.log?.("info", `VM ${port.vmId} console: client ${client.peer} connected`);
        client.done = Promise.all([
          client.writeLoop((n) =>
            this.#options.log?.(
              "warn",
              `VM ${port.vmId} console: client ${client.peer} too slow, ${n} bytes dropped`,
            )
          ),
          this.#readLoop(port, client),
        ]).then(() => {
          port.clients.delete(client);
          client.close();
        });
        this.#track(client.done);
      }
    } catch (e) {
      if (!this.#closed && this.#ports.get(port.vmId) === port) {
        this.#options.log?.(
          "error",
          `VM ${port.vmId} console: accept failed: ${(e as Error).message}`,
        );
      }
    }
  }

  async #readLoop(port: VmPort, client: PortClient): Promise<void> {
    const buffer = new Uint8Array(16 * 1024);
    let tokenLine: number[] = [];
    const timer = client.authed ? undefined : setTimeout(() => {
      client.push(encoder.encode(`Error: no token within ${TOKEN_TIMEOUT_MS} ms\r\n`));
      setTimeout(() => client.close(), 50);
    }, TOKEN_TIMEOUT_MS);
    try {
      while (!client.closed) {
        const n = await client.conn.read(buffer);
        if (n === null) break;
        let data = buffer.subarray(0, n);
        if (!client.authed) {
          const lf = data.indexOf(0x0a);
          tokenLine.push(...(lf < 0 ? data : data.subarray(0, lf)));
          if (lf < 0 && tokenLine.length <= MAX_TOKEN_LINE) continue;
          const line = new TextDecoder().decode(Uint8Array.from(tokenLine)).replace(/\r$/, "")
            .trim().replace(/^auth\s+/, "");
          tokenLine = [];
          if (!constantTimeEqual(line, this.#options.token!)) {
            this.#options.log?.(
              "warn",
              `VM ${port.vmId} console: client ${client.peer}: wrong token`,
            );
            await writeAll(client.conn, encoder.encode("Error: wrong token\r\n")).catch(() => {});
            break;
          }
          client.authed = true;
          clearTimeout(timer);
          data = data.subarray(lf + 1);
          if (data.length === 0) continue;
        }
        if (this.#options.readOnly) {
          if (!client.readOnlyTold) {
            client.readOnlyTold = true;
            client.push(encoder.encode("\r\n[axvisor: read-only: your input is ignored]\r\n"));
          }
          continue;
        }
        if (!this.#backend.consoleInput(port.vmId, data.slice())) break;
      }
    } catch {
      // the client went away
    } finally {
      clearTimeout(timer);
      client.close();
    }
  }

  #track(p: Promise<unknown>): void {
    const q = p.then(() => {}, () => {});
    this.#tasks.add(q);
    q.finally(() => this.#tasks.delete(q));
  }
}
