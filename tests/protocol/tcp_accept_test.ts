import assert from "node:assert/strict";
import { ConsoleServer } from "../../lib/protocol/server.ts";
import { acceptBackOffMs, serveTcp, TcpConsoleService } from "../../lib/protocol/tcp_transport.ts";
import { PROMPT } from "../../lib/protocol/session.ts";
import { FakeBackend } from "./fake_backend.ts";
import { RawClient } from "./tcp_client.ts";

/** Connects `count` times and closes each connection with a reset (SO_LINGER 0) at once. */
async function resetConnections(port: number, count: number): Promise<void> {
  // Deno cannot set SO_LINGER; python3 can.
  const script = [
    "import socket, struct",
    `for _ in range(${count}):`,
    `    s = socket.create_connection(("127.0.0.1", ${port}))`,
    "    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))",
    "    s.close()",
  ].join("\n");
  const out = await new Deno.Command("python3", { args: ["-c", script], stderr: "piped" })
    .output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

Deno.test("tcp: connections reset right after connecting never end the accept loop", async () => {
  const logs: string[] = [];
  const server = new ConsoleServer({
    backend: new FakeBackend(),
    log: (level, message) => logs.push(`${level}: ${message}`),
  });
  const tcp = serveTcp(server, { hostname: "127.0.0.1", port: 0 });
  try {
    await resetConnections(tcp.addr.port, 30);
    for (let i = 0; i < 2; i++) {
      const c = await RawClient.connect(tcp.addr.port);
      assert.match(await c.readUntil(PROMPT), /axvisor\.ts/);
      await c.send("vm list\n");
      assert.equal(await c.readUntil(PROMPT), "ID NAME\n1  hello\n" + PROMPT);
      c.close();
    }
    assert.ok(!logs.some((l) => l.startsWith("error:")), logs.join("\n"));
  } finally {
    server.shutdown("test over");
    await tcp.close();
    server.dispose();
  }
});

Deno.test("tcp: lasting accept errors are logged, backed off and survived", async () => {
  const logs: string[] = [];
  const server = new ConsoleServer({
    backend: new FakeBackend(),
    log: (level, message) => logs.push(`${level}: ${message}`),
  });
  const real = Deno.listen({ hostname: "127.0.0.1", port: 0, transport: "tcp" });
  let failuresLeft = 4;
  // A listener whose first accepts fail as when the process runs out of file descriptors.
  const flaky = {
    addr: real.addr,
    accept(): Promise<Deno.TcpConn> {
      if (failuresLeft-- > 0) return Promise.reject(new Error("Too many open files (os error 24)"));
      return real.accept();
    },
    close: () => real.close(),
    unref: () => real.unref(),
  } as unknown as Deno.Listener<Deno.TcpConn, Deno.NetAddr>;
  const tcp = new TcpConsoleService(server, flaky);
  try {
    const c = await RawClient.connect(tcp.addr.port);
    assert.match(await c.readUntil(PROMPT), /axvisor\.ts/);
    c.close();
    assert.equal(tcp.acceptErrors, 4);
    assert.match(
      logs.join("\n"),
      /warn: TCP accept failed \(1 in a row\), still listening: Too many/,
    );
  } finally {
    server.shutdown("test over");
    await tcp.close();
    server.dispose();
  }
  assert.deepEqual([1, 2, 3, 8, 100].map(acceptBackOffMs), [5, 10, 20, 500, 500]);
});
