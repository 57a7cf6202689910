import assert from "node:assert/strict";
import { Axvisor, makeFsRoot, RawClient } from "./harness.ts";

const PROMPT = "axvisor:/$ ";

/** A guest that floods its console: DBCN writes of 2 GiB from RAM, and putchar, forever. */
function addFloodGuest(fsRoot: string): void {
  Deno.writeTextFileSync(
    `${fsRoot}/guests/flood.S`,
    `    .text
    .globl _start
_start:
1:  li a7, 0x4442434E
    li a6, 0
    li a0, 0x7fffffff
    li a1, 0x80000000
    li a2, 0
    ecall
    li a7, 1
    li a0, 10
    ecall
    j 1b
`,
  );
  Deno.writeTextFileSync(
    `${fsRoot}/configs/flood.toml`,
    `[base]
id = 9
name = "flood"
cpu_num = 1
[kernel]
entry_point = 0x8020_0000
kernel_path = "/guests/flood.S"
kernel_load_addr = 0x8020_0000
memory_regions = [[0x8000_0000, 0x100_0000, 0x7, 0]]
`,
  );
}

Deno.test("e2e: a console-flooding guest cannot starve clients; vm stop answers; SIGTERM ends it", async () => {
  const fsRoot = makeFsRoot();
  addFloodGuest(fsRoot);
  const ax = await Axvisor.start(
    ["--listen", "127.0.0.1:0", "--vm", "/configs/flood.toml", "--autostart"],
    { fsRoot },
  );
  let client: RawClient | undefined;
  try {
    // Let the flood run a while, then a new client must get its banner and answers.
    await new Promise((r) => setTimeout(r, 1500));
    client = await RawClient.connect(ax.port);
    await client.readUntil(PROMPT);
    await client.send("vm stop --force 9\n");
    const out = await client.readUntil(/stop signal sent successfully[^]*?axvisor:\/\$ /);
    assert.match(out, /VM\[9\]/);
  } finally {
    client?.close();
    const t0 = performance.now();
    const code = await ax.stop("SIGTERM");
    // A liveness bound with a wide margin (the harness watchdog is 120 s), not a speed target.
    assert.ok(performance.now() - t0 < 30_000, "SIGTERM ended the process");
    assert.equal(code, 0, ax.stderr);
  }
});

Deno.test("e2e: SIGTERM ends the hypervisor while a guest floods its console", async () => {
  const fsRoot = makeFsRoot();
  addFloodGuest(fsRoot);
  const ax = await Axvisor.start(
    ["--listen", "127.0.0.1:0", "--vm", "/configs/flood.toml", "--autostart"],
    { fsRoot },
  );
  await new Promise((r) => setTimeout(r, 1500));
  const t0 = performance.now();
  const code = await ax.stop("SIGTERM");
  assert.ok(performance.now() - t0 < 30_000, "SIGTERM ended the process");
  assert.equal(code, 0, ax.stderr);
});
