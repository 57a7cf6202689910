import assert from "node:assert/strict";
import { Axvisor, RawClient } from "./harness.ts";

const PROMPT = "axvisor:/$ ";

Deno.test("tcp e2e: the whole lifecycle in human mode and in JSON mode", async () => {
  const ax = await Axvisor.start(["--listen", "127.0.0.1:0", "--clock", "warp"]);
  try {
    // Human mode, nc-style.
    const h = await RawClient.connect(ax.port);
    const banner = await h.readUntil(PROMPT);
    assert.match(banner, /axvisor\.ts .*board qemu-virt \(4 harts, 8 GiB\), warp clock, 3 VMs/);
    await h.send("vm list\r\n");
    const list = await h.readUntil(PROMPT);
    assert.match(list, /1\s+hello\s+Loaded/);
    assert.match(list, /2\s+smp\s+Loaded/);
    await h.send("vm start 1\n");
    assert.match(await h.readUntil("started successfully"), /VM\[1\]/);
    await h.send("vm wait 1 --state stopped --timeout 5s\n");
    const waited = await h.readUntil(/reached state Stopped.*\n/);
    assert.match(waited, /\[VM 1\] Hello from axvisor\.ts!\n/, "guest output as [VM n] lines");
    await h.readUntil(PROMPT);
    await h.send("vm log 1\n");
    assert.match(await h.readUntil(PROMPT), /Hello from axvisor\.ts!\nGoodbye\.\n/);
    await h.send("vm show 1\n");
    assert.match(await h.readUntil(PROMPT), /hello/);

    // JSON mode on a second connection: first line is a request.
    const j = await RawClient.connect(ax.port);
    await j.readUntil(PROMPT);
    const started = await (async () => {
      await j.send(`{"id":1,"cmd":"vm restart 1"}\n`);
      return await j.reply(1);
    })();
    assert.equal(started.reply.ok, true, JSON.stringify(started.reply));
    assert.equal(typeof started.reply.time_ns, "number");
    const wait = await j.send(
      JSON.stringify({
        id: 2,
        argv: ["vm", "wait", "1", "--state", "stopped", "--timeout", "5s"],
      }) +
        "\n",
    ).then(() => j.reply(2));
    assert.equal(wait.reply.ok, true, JSON.stringify(wait.reply));
    const events = [...started.events, ...wait.events];
    assert.ok(events.some((e) => e.event === "hello"));
    assert.ok(events.some((e) => e.event === "status" && e.vm === 1 && e.to === "running"));
    assert.ok(events.some((e) => e.event === "vcpu" && e.vm === 1 && e.state === "up"));
    const text = events.filter((e) => e.event === "console" && e.vm === 1).map((e) => e.text)
      .join("");
    assert.match(text, /Hello from axvisor\.ts!\n/);
    for (const e of events) assert.equal(typeof e.time_ns, "number", JSON.stringify(e));
    const bad = await j.request(3, "vm frobnicate");
    assert.equal(bad.ok, false);
    assert.equal(typeof (bad.error as { code: string }).code, "string");
    const del = await j.request(4, ["vm", "delete", "1"]);
    assert.equal(del.ok, true, JSON.stringify(del));
    const list2 = await j.request(5, "vm list --format json");
    assert.equal(JSON.stringify(list2.data).includes('"hello"'), false);
    // The human session saw the JSON session's VM run too.
    await h.send("events off\n");
    await h.readUntil(PROMPT);
    await h.send("exit\n");
    await h.readToEnd();
    h.close();
    j.close();
  } finally {
    assert.equal(await ax.stop(), 0, ax.stderr);
  }
});

Deno.test("tcp e2e: console attach forwards input and detaches on ~. and Ctrl-]", async () => {
  const ax = await Axvisor.start(["--listen", "127.0.0.1:0", "--clock", "warp"]);
  try {
    const c = await RawClient.connect(ax.port);
    await c.readUntil(PROMPT);
    // The echo guest reads its UART: typed bytes reach it, its answer comes back raw.
    await c.send("vm start echo\n");
    await c.readUntil(PROMPT);
    // Typing before the guest set up its UART would be lost (its FIFO reset clears input).
    await c.send("vm wait echo --console ready --timeout 1s\n");
    await c.readUntil(/reached console output.*\n/);
    await c.readUntil(PROMPT);
    await c.send("vm console echo\n");
    await c.readUntil("Escape character");
    await c.send("hello, guest\n");
    assert.match(await c.readUntil("HELLO, GUEST"), /HELLO, GUEST/);
    await c.send("~.\n");
    assert.match(await c.readUntil(PROMPT), /detached from VM 8/);
    await c.send("vm log echo\n");
    assert.match(await c.readUntil(PROMPT), /uart: ready[^]*HELLO, GUEST/);
    await c.send("vm console --force 1\n"); // VM 1 was never started: --force attaches anyway
    assert.match(await c.readUntil(/\n/), /VM\[1\]|VM 1/);
    await c.send("typed into the guest\n~.\n");
    assert.match(await c.readUntil(PROMPT), /detached from VM 1/);
    await c.send("vm console --force hello\nabc\x1dvm list\n");
    const out = await c.readUntil(/1\s+hello/);
    assert.match(out, /detached from VM 1/);
    await c.readUntil(PROMPT);
    c.close();
  } finally {
    assert.equal(await ax.stop(), 0, ax.stderr);
  }
});
