import assert from "node:assert/strict";
import { Axvisor, RawClient } from "./harness.ts";

const PROMPT = "axvisor:/$ ";

Deno.test("abuse e2e: long lines, garbage, half-open and idle connections, 55 clients, a client that never reads", async () => {
  const ax = await Axvisor.start(["--listen", "127.0.0.1:0", "--clock", "warp"]);
  const clients: RawClient[] = [];
  try {
    // Long lines and binary garbage: errors, and the session goes on.
    const a = await RawClient.connect(ax.port);
    clients.push(a);
    await a.readUntil(PROMPT);
    await a.send("vm list " + "x".repeat(50_000) + "\n");
    assert.match(await a.readUntil(PROMPT), /Error: line 1 is longer than 4096 bytes/);
    const junk = new Uint8Array(4096);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 167 + 13) & 0xff;
    await a.send(junk);
    await a.send("\n\0\nvm list\n");
    const afterJunk = await a.readUntil(/2\s+smp/);
    assert.match(afterJunk, /Error: line \d+ (is not valid UTF-8|contains the control character)/);
    assert.match(afterJunk, /contains the control character NUL/);

    // Half-open connections: a partial line left hanging, a client that connects and leaves,
    // one that sends a command and closes its write side (it still gets the reply).
    const partial = await RawClient.connect(ax.port);
    clients.push(partial);
    await partial.send("vm sta");
    const gone = await RawClient.connect(ax.port);
    gone.close();
    const half = await RawClient.connect(ax.port);
    clients.push(half);
    await half.send("vm list\n");
    await half.closeWrite();
    assert.match(await half.readToEnd(), /1\s+hello/);

    // A client that never reads while it floods commands with big replies.
    const stuck = await RawClient.connect(ax.port);
    clients.push(stuck);
    const flood = new TextEncoder().encode("help\n".repeat(20_000));
    const flooding = stuck.send(flood).catch(() => {});

    // 55 more clients, half of them in JSON mode, all served meanwhile.
    const many = await Promise.all(Array.from({ length: 55 }, () => RawClient.connect(ax.port)));
    clients.push(...many);
    await Promise.all(many.map(async (c, i) => {
      await c.readUntil(PROMPT);
      if (i % 2 === 0) {
        const r = await c.request(i, ["uname", "-s"]);
        assert.equal(r.ok, true, JSON.stringify(r));
      } else {
        await c.send("uname -s\n");
        assert.equal(await c.readUntil(PROMPT), `AxVisor\n${PROMPT}`);
      }
    }));
    // The emulator still runs guests and every JSON client gets the events.
    const driver = many[0];
    const started = await driver.request("s", "vm start 1");
    assert.equal(started.ok, true);
    const waited = await driver.request("w", "vm wait 1 --state stopped --timeout 5s");
    assert.equal(waited.ok, true, JSON.stringify(waited));
    await many[2].readUntil(`"to":"stopped"`);
    // The partial line is still pending and harmless: finish it.
    await partial.send("rt 2\n");
    assert.match(await partial.readUntil("started successfully"), /VM\[2\]/);
    stuck.close();
    await flooding;
  } finally {
    for (const c of clients) c.close();
    assert.equal(await ax.stop(), 0, ax.stderr);
  }
});
