import assert from "node:assert/strict";
import { ConsoleServer } from "../../lib/protocol/server.ts";
import { serveTcp } from "../../lib/protocol/tcp_transport.ts";
import { PROMPT } from "../../lib/protocol/session.ts";
import { drain, FakeBackend } from "./fake_backend.ts";
import { RawClient } from "./tcp_client.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("tcp: a client whose first line is JSON gets only JSON lines, no banner or prompt", async () => {
  const backend = new FakeBackend();
  const server = new ConsoleServer({ backend });
  const tcp = serveTcp(server, { hostname: "127.0.0.1", port: 0 });
  try {
    const c = await RawClient.connect(tcp.addr.port);
    await c.send('{"id":1,"cmd":"vm list"}\n{"id":2,"cmd":"exit"}\n');
    const all = (await c.readToEnd()).split("\n").filter((l) => l !== "");
    c.close();
    // Everything the client received is JSON: the hello event first, then the replies.
    const objects = all.map((line) => JSON.parse(line));
    assert.deepEqual(objects.map((o) => o.event ?? `reply ${o.id}`), [
      "hello",
      "reply 1",
      "reply 2",
    ]);
    const human = await RawClient.connect(tcp.addr.port);
    assert.match(await human.readUntil(PROMPT), /^axvisor\.ts/, "others still get the banner");
    human.close();
  } finally {
    server.shutdown("test over");
    await tcp.close();
    server.dispose();
  }
});

Deno.test("session: a held banner goes out on a human first line; events wait for the mode", async () => {
  const backend = new FakeBackend();
  const server = new ConsoleServer({ backend });
  const human = server.openSession({ kind: "tcp", peer: "h", bannerDelayMs: 60_000 });
  const json = server.openSession({ kind: "tcp", peer: "j", bannerDelayMs: 60_000 });
  assert.equal(drain(human.output), "", "nothing before the first line");
  assert.equal(human.bannerPending, true);
  backend.emit({
    event: "fault",
    vm: 1,
    vcpu: 0,
    kind: "illegal",
    message: "boom",
    pc: 0x80000000,
  });
  await human.receive(enc("vm list\n"));
  const text = drain(human.output);
  assert.match(text, /^axvisor\.ts[^]*\[VM 1\] fault \(vCPU 0\): boom\n[^]*1 {2}hello\n/);
  await json.receive(enc('{"id":1,"cmd":"vm list"}\n'));
  const lines = drain(json.output).trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.event ?? `reply ${l.id}`), ["hello", "fault", "reply 1"]);
  server.shutdown("test over");
  server.dispose();
});
