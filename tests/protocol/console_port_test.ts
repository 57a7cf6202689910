/**
 * Raw console ports over real TCP (loopback, any free port): bytes both ways untouched,
 * several clients, the token line, read-only clients, a client that stops reading, deletion.
 */
import assert from "node:assert/strict";
import { ConsolePorts } from "../../lib/protocol/console_port.ts";
import { FakeBackend } from "./fake_backend.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** Reads from `conn` until `want` bytes arrived (or the peer closed). */
async function readBytes(conn: Deno.Conn, want: number): Promise<Uint8Array> {
  const out: number[] = [];
  const buf = new Uint8Array(64 * 1024);
  while (out.length < want) {
    const n = await conn.read(buf);
    if (n === null) break;
    out.push(...buf.subarray(0, n));
  }
  return Uint8Array.from(out);
}

/** Reads until the text received contains `text`. */
async function readText(conn: Deno.Conn, text: string): Promise<string> {
  let seen = "";
  const buf = new Uint8Array(4096);
  const dec = new TextDecoder();
  while (!seen.includes(text)) {
    const n = await conn.read(buf);
    if (n === null) throw new Error(`closed before ${text}: ${seen}`);
    seen += dec.decode(buf.subarray(0, n), { stream: true });
  }
  return seen;
}

/** Waits (a few event-loop turns at most) until `check` holds. */
async function settle(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), "the condition never held");
}

function inputs(backend: FakeBackend): number[] {
  return backend.consoleInputs.flatMap((i) => [...enc(i.text)]);
}

class BytesBackend extends FakeBackend {
  raw: number[] = [];
  override consoleInput(vmId: number, data: Uint8Array): boolean {
    this.raw.push(...data);
    return super.consoleInput(vmId, data);
  }
}

Deno.test("console port: raw bytes both ways, several clients, input from any", async () => {
  const backend = new BytesBackend();
  const ports = new ConsolePorts(backend, [1], { portFor: () => 0 });
  const { port } = ports.addrOf(1)!;
  const a = await Deno.connect({ port });
  const b = await Deno.connect({ port });
  try {
    await settle(() => ports.ports()[0].clients === 2);
    const all = Uint8Array.of(0x00, 0x03, 0x1b, 0xff, 0x0d, 0x0a, 0x7e, 0x2e, 0x1d);
    backend.emit({ event: "console", vm: 1, data: all });
    backend.emit({ event: "console", vm: 2, data: enc("other VM") });
    assert.deepEqual([...await readBytes(a, all.length)], [...all]);
    assert.deepEqual([...await readBytes(b, all.length)], [...all]);
    await a.write(Uint8Array.of(0x00, 0x03, 0xff));
    await settle(() => backend.raw.length === 3);
    await b.write(Uint8Array.of(0x1b, 0x5b, 0x41, 0x1d));
    await settle(() => backend.raw.length === 7);
    // Nothing is an escape on a raw port: Ctrl-] and ~. are the guest's.
    assert.deepEqual(backend.raw, [0x00, 0x03, 0xff, 0x1b, 0x5b, 0x41, 0x1d]);
    assert.ok(backend.consoleInputs.every((i) => i.vm === 1));
  } finally {
    a.close();
    b.close();
    await ports.close();
  }
});

Deno.test("console port: the token line first; read-only clients watch but cannot type", async () => {
  const backend = new BytesBackend();
  const ports = new ConsolePorts(backend, [1], { portFor: () => 0, token: "s3cret" });
  const { port } = ports.addrOf(1)!;
  const wrong = await Deno.connect({ port });
  const right = await Deno.connect({ port });
  try {
    await wrong.write(enc("guess\n"));
    assert.match(await readText(wrong, "wrong token"), /Error: wrong token/);
    assert.equal(await wrong.read(new Uint8Array(16)), null, "closed after a wrong token");
    backend.emit({ event: "console", vm: 1, data: enc("before auth") });
    await right.write(enc("auth s3cret\r\nx"));
    await settle(() => backend.raw.length === 1);
    assert.deepEqual(backend.raw, [0x78], "what follows the token line is input");
    backend.emit({ event: "console", vm: 1, data: enc("after") });
    assert.equal(new TextDecoder().decode(await readBytes(right, 5)), "after");
  } finally {
    wrong.close();
    right.close();
    await ports.close();
  }

  const ro = new ConsolePorts(backend, [1], { portFor: () => 0, readOnly: true });
  const c = await Deno.connect({ port: ro.addrOf(1)!.port });
  try {
    await settle(() => ro.ports()[0].clients === 1);
    backend.emit({ event: "console", vm: 1, data: enc("watch") });
    assert.equal(new TextDecoder().decode(await readBytes(c, 5)), "watch");
    await c.write(enc("typed"));
    assert.match(await readText(c, "ignored"), /read-only: your input is ignored/);
    assert.deepEqual(inputs(backend), [0x78], "nothing typed reached the guest");
  } finally {
    c.close();
    await ro.close();
  }
});

Deno.test("console port: a client that stops reading loses output, never slows others", async () => {
  const backend = new FakeBackend();
  const logs: string[] = [];
  const limit = 64 * 1024;
  const ports = new ConsolePorts(backend, [1], {
    portFor: () => 0,
    clientBuffer: limit,
    log: (level, m) => logs.push(`${level}: ${m}`),
  });
  const { port } = ports.addrOf(1)!;
  const stuck = await Deno.connect({ port });
  const reader = await Deno.connect({ port });
  try {
    await settle(() => ports.ports()[0].clients === 2);
    const chunk = new Uint8Array(16 * 1024).fill(0x41);
    const total = 32 * 1024 * 1024;
    let received = 0;
    const reading = (async () => {
      const buf = new Uint8Array(256 * 1024);
      while (received < total) {
        const n = await reader.read(buf);
        if (n === null) break;
        received += n;
      }
    })();
    const peer = (c: Deno.Conn) => `127.0.0.1:${(c.localAddr as Deno.NetAddr).port}`;
    const stats = (c: Deno.Conn) => ports.clients(1).find((s) => s.peer === peer(c))!;
    // 32 MiB of guest output, paced only by the reading client: each emit is a bounded copy
    // per client, whatever the stuck client does.
    for (let sent = 0; sent < total; sent += chunk.length) {
      backend.emit({ event: "console", vm: 1, data: chunk });
      while (stats(reader).queuedBytes > limit / 2) await new Promise((r) => setTimeout(r, 0));
      assert.ok(stats(stuck).queuedBytes <= limit, "the stuck client's buffer stays bounded");
    }
    await reading;
    assert.equal(received, total, "the reading client got every byte");
    assert.equal(stats(reader).droppedBytes, 0);
    assert.ok(stats(stuck).droppedBytes > 0, "the stuck client lost output");
  } finally {
    stuck.close();
    reader.close();
    await ports.close();
  }
});

Deno.test("console port: deleting the VM tells its clients and closes the port", async () => {
  const backend = new FakeBackend();
  const ports = new ConsolePorts(backend, [1], { portFor: () => 0 });
  const { port } = ports.addrOf(1)!;
  const c = await Deno.connect({ port });
  try {
    await settle(() => ports.ports()[0].clients === 1);
    backend.emit({ event: "status", vm: 1, from: "stopped", to: "deleted", reason: "deleted" });
    assert.match(await readText(c, "deleted"), /\[axvisor: the VM was deleted\]/);
    assert.equal(ports.addrOf(1), undefined);
    await assert.rejects(Deno.connect({ port }));
    // A new VM gets its port when it is created.
    backend.emit({ event: "status", vm: 5, from: "loaded", to: "loaded", reason: "created" });
    assert.ok(ports.addrOf(5));
  } finally {
    c.close();
    await ports.close();
  }
});
