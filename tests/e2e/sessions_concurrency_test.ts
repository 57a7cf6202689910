import assert from "node:assert/strict";
import { Axvisor, makeFsRoot, RawClient } from "./harness.ts";

const PROMPT = "axvisor:/$ ";

/** A guest that never exits nor waits: one vCPU spinning forever. */
function addSpinningGuest(fsRoot: string): void {
  Deno.writeTextFileSync(
    `${fsRoot}/guests/spin.S`,
    "    .text\n    .globl _start\n_start:\n1:  addi t0, t0, 1\n    j 1b\n",
  );
  Deno.writeTextFileSync(
    `${fsRoot}/guest/vm_default/spin.toml`,
    `[base]
id = 5
name = "spin"
vm_type = 1
cpu_num = 1

[kernel]
entry_point = 0x8020_0000
image_location = "fs"
kernel_path = "/guests/spin.S"
kernel_load_addr = 0x8020_0000
memory_regions = [[0x8000_0000, 0x100_0000, 0x7, 0]]

[devices]
emu_devices = []
passthrough_devices = []
interrupt_mode = "no_irq"
`,
  );
}

Deno.test("tcp e2e: one session's long `vm wait` does not hold other sessions up", async () => {
  const ax = await Axvisor.start(["--listen", "127.0.0.1:0"]);
  const a = await RawClient.connect(ax.port);
  const b = await RawClient.connect(ax.port);
  try {
    await a.readUntil(PROMPT);
    await b.readUntil(PROMPT);
    // VM 8 (echo) is not started yet: this would wait an hour of (realtime) virtual time.
    await a.send("vm wait echo --state running --timeout 3600s\n");
    await b.send("vm list\n");
    const list = await b.readUntil(PROMPT);
    assert.match(list, /1\s+hello\s+Loaded/);
    await b.send("vm start echo\n");
    assert.match(await b.readUntil(PROMPT), /VM\[8\] started successfully/);
    // The waiting session sees its wait end because of the other session's command.
    assert.match(await a.readUntil(PROMPT), /reached state Running/);
  } finally {
    a.close();
    b.close();
    assert.equal(await ax.stop(), 0, ax.stderr);
  }
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`e2e: ${signal} stops the program while a guest spins`, async () => {
    const fsRoot = makeFsRoot();
    addSpinningGuest(fsRoot);
    const ax = await Axvisor.start(["--listen", "127.0.0.1:0", "--autostart"], { fsRoot });
    const c = await RawClient.connect(ax.port);
    await c.readUntil(PROMPT);
    // The spinning guest really runs, and the console still answers.
    await c.send("vm list\n");
    assert.match(await c.readUntil(PROMPT), /5\s+spin\s+Running/);
    assert.equal(await ax.stop(signal), 0, ax.stderr);
    assert.match(await c.readToEnd(), new RegExp(`${signal} received`));
    c.close();
  });
}
