/**
 * Tests of the bare runner's pure logic: image kinds, trace and statistics formatting, the MIPS
 * figure from an injected clock, and console input/`until` on the HTIF console.
 */

import assert from "node:assert/strict";
import {
  BARE_RAM_BASE,
  BareMachine,
  EXIT_PASS,
  formatStats,
  loadImage,
  prepareRun,
  runMachine,
  traceLine,
} from "../../lib/hw/bare_runner.ts";

const HTIF =
  `.data\n.balign 64\n.globl tohost\ntohost: .dword 0\n.balign 64\n.globl fromhost\nfromhost: .dword 0\n`;
const text = (s: string) => new TextEncoder().encode(s);

Deno.test("bare runner: images load as ELF, assembly source or raw binary", () => {
  const machine = new BareMachine({ ramSize: 0x10000 });
  const source = loadImage(machine.bus, {
    name: "p.S",
    bytes: text(`.text\nnop\n.globl _start\n_start: nop\n${HTIF}`),
  });
  assert.equal(source.kind, "assembly");
  assert.equal(source.entry, BARE_RAM_BASE + 4, "entry is _start");
  assert.equal(source.symbol("tohost"), BARE_RAM_BASE + 64);
  const raw = loadImage(machine.bus, { name: "p.bin", bytes: new Uint8Array([1, 2, 3]) });
  assert.deepEqual([raw.kind, raw.entry, raw.symbol("tohost")], ["raw", BARE_RAM_BASE, undefined]);
  const asRaw = loadImage(
    machine.bus,
    { name: "q.S", bytes: text("not assembled") },
    0x8000_1000,
    true,
  );
  assert.equal(asRaw.kind, "raw");
  assert.deepEqual(machine.bus.readBytes(0x8000_1000, 3), text("not"));
});

Deno.test("bare runner: trace lines look like spike's", () => {
  assert.equal(
    traceLine(0, 0x8000_0000, 0x00000297),
    "core   0: 0x0000000080000000 (0x00000297) auipc t0,0x0",
  );
  assert.equal(
    traceLine(12, 0x8000_0002, 0x4505),
    "core  12: 0x0000000080000002 (0x4505) c.li a0,1",
  );
  assert.equal(
    traceLine(0, 0x10, undefined),
    "core   0: 0x0000000000000010 (no memory at this address)",
  );
  assert.equal(traceLine(0, -4096, 0x13).split(" (")[0], "core   0: 0xfffffffffffff000");
  assert.equal(
    traceLine(1, -4096, "virtual"),
    "core   1: 0xfffffffffffff000 (virtual address: instruction not shown)",
  );
});

Deno.test("bare runner: MIPS comes from the injected clock and formats with --stats", () => {
  const prepared = prepareRun({
    image: {
      name: "p.S",
      bytes: text(
        `.text\nli t0, 1000\n1: addi t0, t0, -1\nbnez t0, 1b\nli a0, 1\nla t1, tohost\nsd a0, 0(t1)\n2: j 2b\n${HTIF}`,
      ),
    },
  });
  let t = 1000;
  const result = runMachine(prepared, { now: () => (t += 2) }); // 2 ms between the two readings
  assert.equal(result.exitCode, EXIT_PASS);
  assert.equal(result.outcome, "pass");
  assert.equal(result.seconds, 0.002);
  assert.ok(result.instret >= 2004 && result.instret < 2004 + 200_000, `${result.instret}`);
  assert.equal(result.mips, result.instret / 0.002 / 1e6);
  assert.deepEqual(formatStats({ ...result, instret: 123, seconds: 1.5, mips: 8.24 }), [
    "instructions retired: 123",
    "host time: 1.500 s",
    "MIPS: 8.2",
  ]);
});

Deno.test("bare runner: console input reaches HTIF reads; --until ends the run with exit 0", () => {
  // Echo loop over the HTIF console: read a byte (device 1, command 0), write it back.
  const echo = `.text
_start:
  la s0, tohost
  la s1, fromhost
loop:
  li t0, 0x0100000000000000
  sd t0, 0(s0)             # getchar request
1: ld t1, 0(s1)
  beqz t1, 1b
  sd zero, 0(s1)
  andi t1, t1, 0xff
  li t0, 0x0101000000000000
  or t0, t0, t1
  sd t0, 0(s0)             # putchar
2: ld t1, 0(s1)
  beqz t1, 2b
  sd zero, 0(s1)
  j loop
${HTIF}`;
  let out = "";
  const prepared = prepareRun({ image: { name: "echo.S", bytes: text(echo) } });
  const result = runMachine(prepared, {
    input: text("hello!"),
    until: "llo",
    output: (b) => (out += new TextDecoder().decode(b)),
    maxInsns: 5_000_000,
  });
  assert.equal(result.outcome, "until", result.message);
  assert.equal(result.exitCode, 0);
  assert.ok(out.startsWith("hel") && out.includes("llo"), out);

  const held = runMachine(prepareRun({ image: { name: "echo.S", bytes: text(echo) } }), {
    input: text("x"),
    inputAfter: "never printed",
    maxInsns: 300_000,
  });
  assert.equal(held.outcome, "budget", "input held back until a text that never comes");
});
