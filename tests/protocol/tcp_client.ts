/**
 * A raw TCP line client for tests (no protocol knowledge): send bytes, read lines or until a
 * pattern appears. Shared by the protocol tests and the end-to-end tests.
 *
 * @module
 */

const encoder = new TextEncoder();

/** A test client over one TCP connection. */
export class RawClient {
  /** The connection. */
  readonly conn: Deno.TcpConn;
  #buffer = "";
  #decoder = new TextDecoder();
  #eof = false;
  #closed = false;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** Connects to `127.0.0.1:port` (or `hostname`). */
  static async connect(port: number, hostname = "127.0.0.1"): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname, port }));
  }

  /** True once the server closed its side. */
  get eof(): boolean {
    return this.#eof;
  }

  /** Everything received and not consumed yet. */
  get buffered(): string {
    return this.#buffer;
  }

  /** Sends text or bytes. */
  async send(data: string | Uint8Array): Promise<void> {
    let bytes = typeof data === "string" ? encoder.encode(data) : data;
    while (bytes.length > 0) bytes = bytes.subarray(await this.conn.write(bytes));
  }

  /** Reads until `pattern` matches the received text; returns the text up to the match's end. */
  async readUntil(pattern: RegExp | string): Promise<string> {
    while (true) {
      const at = typeof pattern === "string"
        ? (() => {
          const i = this.#buffer.indexOf(pattern);
          return i < 0 ? -1 : i + pattern.length;
        })()
        : (() => {
          const m = pattern.exec(this.#buffer);
          return m ? m.index + m[0].length : -1;
        })();
      if (at >= 0) {
        const out = this.#buffer.slice(0, at);
        this.#buffer = this.#buffer.slice(at);
        return out;
      }
      if (!(await this.#fill())) {
        throw new Error(
          `connection closed before ${String(pattern)} appeared; received: ${
            JSON.stringify(this.#buffer.slice(-500))
          }`,
        );
      }
    }
  }

  /** Reads one line (without its LF), or `null` at the end of the stream. */
  async readLine(): Promise<string | null> {
    while (true) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        return line;
      }
      if (!(await this.#fill())) {
        if (this.#buffer === "") return null;
        const rest = this.#buffer;
        this.#buffer = "";
        return rest;
      }
    }
  }

  /** Reads lines until a JSON object with `id` (a reply) arrives; returns it and the events. */
  async reply(
    id: unknown,
  ): Promise<{ reply: Record<string, unknown>; events: Record<string, unknown>[] }> {
    const events: Record<string, unknown>[] = [];
    while (true) {
      const line = await this.readLine();
      if (line === null) throw new Error(`connection closed before the reply to id ${id}`);
      if (!line.startsWith("{")) continue;
      const obj = JSON.parse(line);
      if ("event" in obj) events.push(obj);
      else if (obj.id === id) return { reply: obj, events };
      else throw new Error(`unexpected reply ${line} while waiting for id ${id}`);
    }
  }

  /** Sends a JSON request and waits for its reply. */
  async request(id: unknown, cmd: string | string[]): Promise<Record<string, unknown>> {
    const req = Array.isArray(cmd) ? { id, argv: cmd } : { id, cmd };
    await this.send(JSON.stringify(req) + "\n");
    return (await this.reply(id)).reply;
  }

  /** Reads everything until the server closes the connection. */
  async readToEnd(): Promise<string> {
    while (await this.#fill()) { /* keep reading */ }
    const rest = this.#buffer;
    this.#buffer = "";
    return rest;
  }

  /** Closes the write side (the server sees end of input). */
  async closeWrite(): Promise<void> {
    await this.conn.closeWrite();
  }

  /** Closes the connection (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const buf = new Uint8Array(65536);
    let n: number | null;
    try {
      n = await this.conn.read(buf);
    } catch {
      n = null;
    }
    if (n === null) {
      this.#eof = true;
      this.#buffer += this.#decoder.decode();
      return false;
    }
    this.#buffer += this.#decoder.decode(buf.subarray(0, n), { stream: true });
    return true;
  }
}
