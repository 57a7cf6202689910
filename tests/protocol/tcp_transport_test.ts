import assert from "node:assert/strict";
import { ConsoleServer } from "../../lib/protocol/server.ts";
import {
  isLoopbackHost,
  parseListenAddress,
  serveTcp,
  type TcpConsoleService,
} from "../../lib/protocol/tcp_transport.ts";
import { PROMPT } from "../../lib/protocol/session.ts";
import { FakeBackend } from "./fake_backend.ts";
import { RawClient } from "./tcp_client.ts";

async function withServer(
  options: { token?: string; softLimit?: number; hardLimit?: number; maxSessions?: number },
  body: (
    ctx: { port: number; server: ConsoleServer; backend: FakeBackend; tcp: TcpConsoleService },
  ) => Promise<void>,
): Promise<void> {
  const backend = new FakeBackend();
  const server = new ConsoleServer({
    backend,
    token: options.token,
    maxSessions: options.maxSessions,
    limits: { softLimit: options.softLimit, hardLimit: options.hardLimit },
  });
  const tcp = serveTcp(server, { hostname: "127.0.0.1", port: 0 });
  try {
    await body({ port: tcp.addr.port, server, backend, tcp });
  } finally {
    server.shutdown("test over");
    await tcp.close();
    server.dispose();
  }
}

Deno.test("listen address parsing and the loopback rule", () => {
  assert.deepEqual(parseListenAddress("127.0.0.1:4321"), { hostname: "127.0.0.1", port: 4321 });
  assert.deepEqual(parseListenAddress(":0"), { hostname: "127.0.0.1", port: 0 });
  assert.deepEqual(parseListenAddress("4321"), { hostname: "127.0.0.1", port: 4321 });
  assert.deepEqual(parseListenAddress("[::1]:80"), { hostname: "::1", port: 80 });
  assert.deepEqual(parseListenAddress("0.0.0.0:1"), { hostname: "0.0.0.0", port: 1 });
  assert.throws(() => parseListenAddress("host"), /invalid --listen address 'host'/);
  assert.throws(() => parseListenAddress("h:99999"), /must be 0-65535/);
  for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) {
    assert.equal(isLoopbackHost(h), true, h);
  }
  for (const h of ["0.0.0.0", "::", "192.168.1.2", "example.com"]) {
    assert.equal(isLoopbackHost(h), false, h);
  }
});

Deno.test("tcp: nc-style session with banner, prompt and reply; exit closes", async () => {
  await withServer({}, async ({ port }) => {
    const c = await RawClient.connect(port);
    assert.match(await c.readUntil(PROMPT), /axvisor\.ts/);
    await c.send("vm list\n");
    assert.equal(await c.readUntil(PROMPT), "ID NAME\n1  hello\n" + PROMPT);
    await c.send("exit\n");
    assert.equal(await c.readToEnd(), "Bye.\n");
    c.close();
  });
});

Deno.test("tcp: input ending without LF (half-closed client) still runs, then closes", async () => {
  await withServer({}, async ({ port }) => {
    const c = await RawClient.connect(port);
    await c.readUntil(PROMPT);
    await c.send(`{"id":1,"cmd":"vm list"}`);
    await c.closeWrite();
    const rest = await c.readToEnd();
    assert.match(rest, /"id":1,"ok":true/);
    c.close();
  });
});

Deno.test("tcp: 60 concurrent clients, each with its own mode, all served", async () => {
  await withServer({}, async ({ port, server, backend }) => {
    const clients = await Promise.all(
      Array.from({ length: 60 }, () => RawClient.connect(port)),
    );
    await Promise.all(clients.map((c) => c.readUntil(PROMPT)));
    assert.equal(server.sessions().length, 60);
    await Promise.all(clients.map(async (c, i) => {
      if (i % 2 === 0) {
        const r = await c.request(i, ["echo", `client ${i}`]);
        assert.deepEqual(r.data, { text: `client ${i}` });
      } else {
        await c.send(`echo client ${i}\n`);
        assert.equal(await c.readUntil(PROMPT), `client ${i}\n${PROMPT}`);
      }
    }));
    backend.console(1, "to everyone\n");
    await Promise.all(clients.map(async (c, i) => {
      if (i % 2 === 0) {
        const line = await c.readUntil(/\n/);
        assert.match(line, /"event":"console".*"text":"to everyone\\n"/);
      } else {
        // The prompt left the line open, so the guest line starts on a fresh one.
        assert.equal(await c.readUntil("everyone\n"), "\n[VM 1] to everyone\n");
      }
    }));
    for (const c of clients) c.close();
  });
});

Deno.test("tcp: long lines and binary garbage are errors; the session goes on", async () => {
  await withServer({}, async ({ port }) => {
    const c = await RawClient.connect(port);
    await c.readUntil(PROMPT);
    await c.send("x".repeat(100_000) + "\n");
    assert.match(await c.readUntil(PROMPT), /Error: line 1 is longer than 4096 bytes/);
    const garbage = new Uint8Array(3000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 131 + 7) & 0xff;
    await c.send(garbage);
    await c.send("\nvm list\n");
    const out = await c.readUntil("1  hello\n");
    assert.match(out, /Error: line \d+ (is not valid UTF-8|contains the control character)/);
    c.close();
  });
});

Deno.test("tcp: a client that never reads loses console output, others are not stalled", async () => {
  await withServer(
    { softLimit: 32 * 1024, hardLimit: 256 * 1024 },
    async ({ port, server, backend }) => {
      const stuck = await RawClient.connect(port);
      const good = await RawClient.connect(port);
      await good.readUntil(PROMPT);
      const line = "y".repeat(1000) + "\n";
      // Far more than the socket buffers hold: the stuck session must drop, not grow.
      for (let i = 0; i < 20_000; i++) {
        backend.console(1, line);
        if (i % 500 === 0) await new Promise((r) => setTimeout(r, 0));
      }
      const stuckSession = server.sessions().find((s) => s.id === 1)!;
      assert.ok(stuckSession.output.queuedBytes <= 256 * 1024);
      assert.ok(stuckSession.output.droppedTotal > 0, "the stuck client lost console output");
      // The good client reads everything it got and still gets replies.
      await good.send("vm list\n");
      await good.readUntil("1  hello\n");
      stuck.close();
      good.close();
    },
  );
});

Deno.test("tcp: token required; wrong tokens close the session after 3 tries", async () => {
  await withServer({ token: "tok" }, async ({ port }) => {
    const c = await RawClient.connect(port);
    assert.match(await c.readUntil(PROMPT), /Authentication required/);
    await c.send("vm list\n");
    assert.match(await c.readUntil(PROMPT), /Error: authentication required/);
    await c.send("auth a\nauth b\nauth c\n");
    const rest = await c.readToEnd();
    assert.match(rest, /too many attempts/);
    c.close();
    const d = await RawClient.connect(port);
    await d.readUntil(PROMPT);
    await d.send("auth tok\nvm list\n");
    assert.match(await d.readUntil("1  hello\n"), /Authenticated\./);
    d.close();
  });
});

Deno.test("tcp: sessions over the limit get one error line and are closed", async () => {
  await withServer({ maxSessions: 1 }, async ({ port }) => {
    const a = await RawClient.connect(port);
    await a.readUntil(PROMPT);
    const b = await RawClient.connect(port);
    assert.match(await b.readToEnd(), /^Error: too many sessions \(limit 1\)/);
    b.close();
    a.close();
  });
});

Deno.test("tcp: a client that disconnects mid-command leaves the server consistent", async () => {
  await withServer({}, async ({ port, server, backend }) => {
    const a = await RawClient.connect(port);
    await a.readUntil(PROMPT);
    const sessionA = server.sessions()[0];
    await a.send("block\n");
    await backend.whenBlocked();
    a.close();
    const b = await RawClient.connect(port);
    await b.readUntil(PROMPT);
    await b.send("vm list\n"); // queued behind the blocked command
    backend.blocked.shift()!();
    await b.readUntil("1  hello\n");
    await sessionA.closedPromise;
    assert.deepEqual(server.sessions().map((s) => s.id), [2]);
    b.close();
  });
});

Deno.test("tcp: a session that does not authenticate in time is closed", async () => {
  const backend = new FakeBackend();
  const server = new ConsoleServer({ backend, token: "tok", authTimeoutMs: 30, bannerDelayMs: 0 });
  const tcp = serveTcp(server, { hostname: "127.0.0.1", port: 0 });
  try {
    const idle = await RawClient.connect(tcp.addr.port);
    const ok = await RawClient.connect(tcp.addr.port);
    await ok.readUntil(PROMPT);
    await ok.send("auth tok\n");
    await ok.readUntil("Authenticated.");
    // Waits for the server to act (it closes the idle session), not for a time.
    assert.match(await idle.readToEnd(), /Error: authentication timed out after 30 ms\n$/);
    idle.close();
    assert.equal(server.sessions().length, 1, "the authenticated session stays");
    ok.close();
  } finally {
    server.shutdown("test over");
    await tcp.close();
    server.dispose();
  }
});
