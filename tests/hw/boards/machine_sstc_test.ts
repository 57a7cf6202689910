/**
 * The board's scheduler and Sstc: when every hart waits in wfi and the only timer armed is a
 * hart's stimecmp (Linux's clock events on a hart with Sstc), time jumps to it and the hart
 * wakes, instead of the run ending as idle.
 */
import assert from "node:assert/strict";
import { assemble } from "../../../lib/hw/riscv/assembler.ts";
import { loadBoard } from "../../../lib/hw/boards/load.ts";
import { Machine } from "../../../lib/hw/boards/machine.ts";

Deno.test("machine: a wfi waiting for an Sstc timer wakes when time reaches stimecmp", () => {
  const program = assemble(
    `
_start:
  csrr t0, mhartid
  bnez t0, park
  li t0, 1 << 63
  csrs menvcfg, t0
  li t0, 50000
  csrw stimecmp, t0
  li t0, 1 << 5
  csrs mie, t0
  wfi
  li t0, 0x5555
  li t1, 0x100000
  sw t0, 0(t1)
park:
  wfi
  j park
`,
    { origin: 0x8000_0000 },
  );
  const machine = new Machine(loadBoard("qemu-virt"));
  machine.load(0x8000_0000, program.image);
  machine.boot(0x8000_0000);
  const stop = machine.run(10_000_000);
  assert.equal(stop.reason, "finished", `run ended ${stop.reason}`);
  assert.equal(stop.finisher?.kind, "pass");
  assert.ok(machine.time() >= 50000, `time ${machine.time()} reached stimecmp`);
  assert.ok(machine.elapsedNs() < 6e6, "and no later than about 5 ms");
});
