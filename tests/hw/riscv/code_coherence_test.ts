/**
 * Decoded and compiled code stays coherent with memory without global flushes: a store by any
 * hart into a page that any hart decoded invalidates exactly what it overlaps, so `fence.i` keeps
 * the code cache (Linux runs tens of thousands of them while booting), writes by the host are
 * still seen after a `fence.i`, and a remote fence.i (SBI) reaches code another hart patched.
 */
import assert from "node:assert/strict";
import { Bus } from "../../../lib/hw/bus.ts";
import { SparseMemory } from "../../../lib/hw/memory.ts";
import { assemble } from "../../../lib/hw/riscv/assembler.ts";
import { Hart } from "../../../lib/hw/riscv/hart.ts";
import { RAM_BASE, rig } from "./hart_rig_test.ts";

/** `addi a0, zero, 2` */
const LI_A0_2 = 0x00200513;

Deno.test("code coherence: fence.i in a hot loop keeps the compiled blocks", () => {
  const r = rig(
    `
_start:
  li s0, 0
  li s1, 2000
loop:
  addi s0, s0, 3
  fence.i
  addi s1, s1, -1
  bnez s1, loop
done:
  j done
`,
    { jitThreshold: 1 },
  );
  r.runToDone(100_000);
  assert.equal(r.x("s0"), 6000n);
  assert.ok(r.hart.compiledBlocks < 10, `${r.hart.compiledBlocks} blocks compiled`);
  assert.ok(r.hart.blockInstructions > 3000, `${r.hart.blockInstructions} in blocks`);
});

Deno.test("code coherence: after a host write into code, fence.i runs the new code", () => {
  const r = rig(
    `
_start:
  li s0, 0
  li s1, 100
loop:
  call f
  add s0, s0, a0
  fence.i
  addi s1, s1, -1
  bnez s1, loop
done:
  j done
f:
  addi a0, zero, 1
  ret
`,
    { jitThreshold: 1 },
  );
  r.hart.run(200); // f is hot and compiled
  while (r.hart.pc !== r.sym("loop")) r.hart.step();
  const s0 = r.x("s0");
  const left = r.x("s1");
  const word = new Uint8Array(4);
  new DataView(word.buffer).setInt32(0, LI_A0_2, true);
  r.bus.writeBytes(r.sym("f"), word); // behind the hart's back, like a loader or a device
  r.runToDone(100_000);
  // This iteration's call still runs the old f (no fence.i since the write); later ones see 2.
  assert.equal(r.x("s0"), s0 + 1n + 2n * (left - 1n));
});

Deno.test("code coherence: a store by one hart invalidates code another hart compiled", () => {
  const program = assemble(
    `
b_start:
  li s0, 0
b_loop:
  call f
  add s0, s0, a0
  addi s1, s1, 1
  j b_loop
a_start:
  la t0, f
  la t1, patched
  lw t1, 0(t1)
  sw t1, 0(t0)
a_done:
  j a_done
f:
  addi a0, zero, 1
  ret
patched:
  addi a0, zero, 2
`,
    { origin: RAM_BASE },
  );
  const sym = (name: string) => program.symbols.get(name)!;
  const memory = new SparseMemory(1 << 20);
  const bus = new Bus();
  bus.mapRam(RAM_BASE, memory.size, memory);
  bus.writeBytes(RAM_BASE, program.image);
  const a = new Hart({ bus, hartId: 0, jitThreshold: 1 });
  const b = new Hart({ bus, hartId: 1, jitThreshold: 1 });
  a.reset(sym("a_start"), 3);
  b.reset(sym("b_start"), 3);
  b.run(1000); // f compiled on b
  assert.ok(b.compiledBlocks > 0);
  assert.equal(b.getX(10), 1n);
  a.run(50); // a patches f with an ordinary store
  assert.equal(a.pc, sym("a_done"));
  b.fenceI(); // what an SBI remote fence.i does on the target
  while (b.pc !== sym("b_loop")) b.step();
  const s0 = b.getX(8);
  const s1 = b.getX(9);
  b.run(500);
  while (b.pc !== sym("b_loop")) b.step();
  assert.equal(b.getX(10), 2n, "b runs the patched f");
  const calls = b.getX(9) - s1;
  assert.ok(calls > 50n);
  assert.equal(b.getX(8) - s0, 2n * calls, "every call after the patch returned 2");
});
