/**
 * Console sessions over TCP: one session per connection, `nc`-friendly.
 *
 * {@linkcode serveTcp} binds (port 0 picks a free port; the bound address is in
 * {@linkcode TcpConsoleService.addr}), accepts connections, opens a session for each and pumps
 * bytes. A connection that the server cannot take (too many sessions, shutting down) gets one
 * error line and is closed.
 *
 * @module
 */

import type { ConsoleServer } from "./server.ts";
import { SessionPump } from "./stream_transport.ts";

/** Hosts that count as loopback: binding them needs no token. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h) ||
    h === "0:0:0:0:0:0:0:1";
}

/** Parses `HOST:PORT`, `:PORT`, `PORT` or `[v6]:PORT` (host defaults to 127.0.0.1). */
export function parseListenAddress(text: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  if (!m) {
    throw new Error(
      `invalid --listen address '${text}': expected HOST:PORT (e.g. 127.0.0.1:4321, ` +
        `[::1]:4321, :0)`,
    );
  }
  const hostname = m[1] || m[2] || "127.0.0.1";
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid --listen port in '${text}': must be 0-65535`);
  }
  return { hostname, port };
}

/** A running TCP console service. */
export class TcpConsoleService {
  /** The bound address (with the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** Resolves when the accept loop has stopped and every connection is closed. */
  readonly done: Promise<void>;
  #listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>;
  #server: ConsoleServer;
  #conns = new Set<Deno.TcpConn>();
  #pumps = new Set<Promise<void>>();
  #writers = new Set<Promise<void>>();
  #closing = false;
  #unref = false;
  #backOffCancel: (() => void) | undefined;
  /** Connections accepted so far. */
  accepted = 0;
  /** Failed accepts so far (each is logged and retried; none ends the service). */
  acceptErrors = 0;

  /** Starts accepting on `listener`. */
  constructor(server: ConsoleServer, listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>) {
    this.#server = server;
    this.#listener = listener;
    this.addr = listener.addr;
    this.done = this.#acceptLoop();
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.#conns.size;
  }

  /** Lets the process exit while the service still listens (benchmarks, embedding). */
  unref(): void {
    this.#listener.unref();
    for (const c of this.#conns) c.unref();
    this.#unref = true;
  }

  /** Stops accepting; open sessions keep running until they close (see `close`). */
  stopAccepting(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#backOffCancel?.();
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
  }

  /**
   * Stops accepting and waits (at most `graceMs`, default 2000) for every connection to finish
   * writing (sessions should be closed first, e.g. by `ConsoleServer.shutdown`); connections
   * still open after that, such as clients that stopped reading, are cut.
   */
  async close(graceMs = 2000): Promise<void> {
    this.stopAccepting();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    // Wait for the writers only: a client that keeps its side open must not delay shutdown.
    await Promise.race([Promise.all([...this.#writers]), grace]);
    clearTimeout(timer);
    for (const c of this.#conns) closeQuietly(c);
    await this.done;
  }

  async #acceptLoop(): Promise<void> {
    // Accept errors never end the server: a peer that resets right after connecting (SO_LINGER
    // 0) makes accept fail with ENOTCONN/ECONNABORTED, and running out of file descriptors
    // makes it fail with EMFILE until some close. Log (once per burst), back off, go on.
    let failures = 0;
    while (!this.#closing) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (this.#closing || e instanceof Deno.errors.BadResource) break;
        // A peer that is gone already is its own problem: go on at once. Anything else (out
        // of file descriptors) may last: back off so as not to spin.
        const peerGone = e instanceof Deno.errors.NotConnected ||
          e instanceof Deno.errors.ConnectionReset ||
          e instanceof Deno.errors.ConnectionAborted;
        this.acceptErrors++;
        if (peerGone) {
          if (this.acceptErrors === 1 || this.acceptErrors % 1000 === 0) {
            this.#server.log(
              "info",
              `TCP accept: a peer left before it was accepted (${this.acceptErrors} so ` +
                `far): ${(e as Error).message}`,
            );
          }
          continue;
        }
        failures++;
        if (failures === 1 || failures % 100 === 0) {
          this.#server.log(
            "warn",
            `TCP accept failed (${failures} in a row), still listening: ` +
              `${(e as Error).message}`,
          );
        }
        await this.#backOff(acceptBackOffMs(failures));
        continue;
      }
      failures = 0;
      this.accepted++;
      try {
        this.#handle(conn);
      } catch (e) {
        // The peer vanished between accept and the first look at it.
        this.#server.log("warn", `TCP connection dropped at once: ${(e as Error).message}`);
        closeQuietly(conn);
      }
    }
    await Promise.all([...this.#pumps]);
  }

  #backOff(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#backOffCancel = undefined;
        resolve();
      }, ms);
      this.#backOffCancel = () => {
        clearTimeout(timer);
        this.#backOffCancel = undefined;
        resolve();
      };
    });
  }

  #handle(conn: Deno.TcpConn): void {
    const remote = conn.remoteAddr;
    const peer = `tcp ${remote.hostname}:${remote.port}`;
    try {
      conn.setNoDelay(true);
    } catch {
      // not fatal
    }
    let session;
    try {
      session = this.#server.openSession({
        kind: "tcp",
        peer,
        bannerDelayMs: this.#server.bannerDelayMs,
      });
    } catch (e) {
      const msg = new TextEncoder().encode(`Error: ${(e as Error).message}\n`);
      this.#conns.add(conn);
      const p = conn.write(msg).catch(() => 0).finally(() => {
        this.#conns.delete(conn);
        closeQuietly(conn);
      }).then(() => {});
      this.#track(p);
      return;
    }
    this.#conns.add(conn);
    this.#server.log(
      "info",
      `session ${session.id} connected from ${remote.hostname}:${remote.port}`,
    );
    const pump = new SessionPump(session, conn, conn, {
      // Once everything is written, send FIN; the reader then drains what the client still
      // sends until it closes too, so that the last replies are not lost to a reset.
      onWriterDone: () => conn.closeWrite().catch(() => {}),
      drainAfterClose: 64 * 1024,
      onDone: () => {
        this.#conns.delete(conn);
        closeQuietly(conn);
      },
    });
    // A session aborted (stuck client, failed write) is cut at once: its writer may be blocked
    // on a full socket buffer forever.
    session.closedPromise.then(() => {
      if (session.output.closed || session.output.overflowed) closeQuietly(conn);
    });
    this.#track(pump.done);
    const w = pump.writerDone;
    this.#writers.add(w);
    w.finally(() => this.#writers.delete(w));
  }

  #track(p: Promise<void>): void {
    this.#pumps.add(p);
    p.finally(() => this.#pumps.delete(p));
  }
}

/** Binds `hostname:port` and serves console sessions on it. */
export function serveTcp(
  server: ConsoleServer,
  options: { hostname: string; port: number },
): TcpConsoleService {
  const listener = Deno.listen({
    hostname: options.hostname,
    port: options.port,
    transport: "tcp",
  });
  return new TcpConsoleService(server, listener);
}

/**
 * Milliseconds to wait after the `failures`-th lasting accept error in a row (such as EMFILE):
 * doubling from 5 ms up to 500 ms, so that the event loop does not spin while the server waits
 * for descriptors to be freed.
 */
export function acceptBackOffMs(failures: number): number {
  return Math.min(500, 5 * 2 ** Math.min(Math.max(failures - 1, 0), 7));
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
