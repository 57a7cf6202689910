import assert from "node:assert/strict";
import { ConsoleServer } from "../../lib/protocol/server.ts";
import { serveTcp, type TcpConsoleService } from "../../lib/protocol/tcp_transport.ts";
import { PROMPT } from "../../lib/protocol/session.ts";
import { bigText, FakeBackend } from "./fake_backend.ts";
import { RawClient } from "./tcp_client.ts";

const TEN_MB = 10_000_000;

async function withServer(
  options: { stallTimeoutMs?: number },
  body: (
    ctx: { port: number; server: ConsoleServer; backend: FakeBackend; logs: string[] },
  ) => Promise<void>,
): Promise<void> {
  const backend = new FakeBackend();
  const logs: string[] = [];
  const server = new ConsoleServer({
    backend,
    stallTimeoutMs: options.stallTimeoutMs,
    log: (level, message) => logs.push(`${level}: ${message}`),
  });
  const tcp: TcpConsoleService = serveTcp(server, { hostname: "127.0.0.1", port: 0 });
  try {
    await body({ port: tcp.addr.port, server, backend, logs });
  } finally {
    server.shutdown("test over");
    await tcp.close();
    server.dispose();
  }
}

/**
 * Reads raw bytes until at least `total` have arrived and the text ends with `end` (calling
 * `midway` once, at the first bytes); decodes them.
 */
async function readBytes(
  c: RawClient,
  total: number,
  end: string,
  midway?: () => void,
): Promise<string> {
  const parts: Uint8Array[] = [];
  assert.equal(c.buffered, "", "nothing buffered before the reply");
  let have = 0;
  const buf = new Uint8Array(256 * 1024);
  let called = false;
  let tail = "";
  while (have < total || !tail.endsWith(end)) {
    const n = await c.conn.read(buf);
    if (n === null) throw new Error(`connection closed after ${have} of ${total} bytes`);
    parts.push(buf.slice(0, n));
    tail = (tail + new TextDecoder().decode(buf.slice(Math.max(0, n - 64), n))).slice(-128);
    have += n;
    // At the first bytes: the server is still streaming then (socket buffers hold a few MB
    // at most, the reply is larger), so the event must wait for the end of the reply.
    if (!called && midway) {
      called = true;
      midway();
    }
  }
  const all = new Uint8Array(have);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new TextDecoder().decode(all);
}

Deno.test("tcp: a 10 MB reply is streamed to a reading client, which stays connected", async () => {
  await withServer({}, async ({ port, backend, server }) => {
    const c = await RawClient.connect(port);
    await c.readUntil(PROMPT);
    await c.send("big 10000000\n");
    // Asynchronous output during the reply waits until the reply is complete.
    const text = await readBytes(
      c,
      TEN_MB,
      PROMPT,
      () => backend.console(2, "guest says hi\n"),
    );
    assert.equal(text.slice(0, TEN_MB), bigText(TEN_MB), "the reply arrives whole and in order");
    assert.match(
      text.slice(TEN_MB),
      /^\n\[VM 2\] guest says hi\n/,
      `the event comes after it: ${text.slice(TEN_MB)}`,
    );
    assert.ok(text.endsWith(PROMPT));
    assert.equal(server.sessions().length, 1, "still connected");
    await c.send("vm list\n");
    await c.readUntil("1  hello\n" + PROMPT);
    c.close();
  });
});

Deno.test("tcp: a 10 MB JSON reply is one valid JSON line", async () => {
  await withServer({}, async ({ port }) => {
    const c = await RawClient.connect(port);
    await c.send('{"id":7,"cmd":"big 10000000"}\n');
    const [hello, line, rest] = (await readBytes(c, TEN_MB, "}\n")).split("\n");
    assert.match(hello, /"event":"hello"/);
    assert.equal(rest, "");
    const reply = JSON.parse(line);
    assert.equal(reply.id, 7);
    assert.equal(reply.ok, true);
    assert.equal(reply.data.text, bigText(TEN_MB));
    c.close();
  });
});

Deno.test("tcp: a client that reads nothing of a large reply is closed after the stall timeout", async () => {
  await withServer({ stallTimeoutMs: 100 }, async ({ port, server, logs }) => {
    const stuck = await RawClient.connect(port);
    await stuck.readUntil(PROMPT);
    await stuck.send("big 20000000\n");
    const stuckSession = server.sessions()[0];
    // Other clients are served meanwhile.
    const other = await RawClient.connect(port);
    await other.readUntil(PROMPT);
    await other.send("vm list\n");
    await other.readUntil("1  hello\n" + PROMPT);
    await stuckSession.closedPromise;
    assert.equal(stuckSession.closeReason, "client stopped reading");
    assert.match(logs.join("\n"), /read nothing of a large reply for 100 ms/);
    stuck.close();
    other.close();
  });
});
