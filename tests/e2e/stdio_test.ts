import assert from "node:assert/strict";
import { Axvisor, RawClient } from "./harness.ts";

Deno.test("stdio e2e: a session over pipes; end of input ends the program", async () => {
  const ax = await Axvisor.start(["--clock", "warp"]);
  await ax.write("vm list\n");
  const first = await ax.readStdoutUntil(/2\s+smp\s+Loaded.*\n/);
  assert.match(first, /^axvisor\.ts /);
  // JSON is detected on the first line only; later, `mode json` switches.
  await ax.write(`{"id":"j0","cmd":"vm list"}\n`);
  assert.match(await ax.readStdoutUntil(/Error: .*\n/), /Unknown command/);
  await ax.write(`mode json\n{"id":"j1","cmd":"vm start 1"}\n`);
  await ax.readStdoutUntil(`"id":"j1","ok":true`);
  await ax.write(`{"id":"j2","cmd":"vm wait 1 --state stopped --timeout 5s"}\n`);
  await ax.readStdoutUntil(`"id":"j2","ok":true`);
  assert.equal(await ax.wait(), 0);
});

Deno.test("stdio e2e: with --listen, end of stdin ends only the stdio session", async () => {
  const ax = await Axvisor.start(["--listen", "127.0.0.1:0", "--clock", "warp"]);
  await ax.closeStdin();
  await ax.readStdoutUntil("axvisor:/$ ");
  const c = await RawClient.connect(ax.port);
  await c.readUntil("axvisor:/$ ");
  await c.send("vm list\n");
  assert.match(await c.readUntil("axvisor:/$ "), /hello/);
  await c.send("shutdown\n");
  const rest = await c.readToEnd();
  assert.match(rest, /shutting down/i);
  c.close();
  assert.equal(await ax.wait(), 0);
});

Deno.test("stdio e2e: SIGTERM stops the server cleanly and tells the clients", async () => {
  const ax = await Axvisor.start(["--listen", "127.0.0.1:0", "--clock", "warp"]);
  const c = await RawClient.connect(ax.port);
  await c.readUntil("axvisor:/$ ");
  assert.equal(await ax.stop("SIGTERM"), 0);
  assert.match(await c.readToEnd(), /shutting down: SIGTERM received/);
  c.close();
});
