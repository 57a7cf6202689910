/**
 * Core behaviour of the hart: the run/stop contract, register conventions, LR/SC and AMOs,
 * self-modifying code, page-crossing instructions, MMIO routing, snapshots.
 */
import assert from "node:assert/strict";
import { Bus } from "../../../lib/hw/bus.ts";
import type { AccessWidth, DeviceState, MmioDevice } from "../../../lib/hw/device.ts";
import { Hart, StopReason } from "../../../lib/hw/riscv/hart.ts";
import { assemble } from "../../../lib/hw/riscv/assembler.ts";
import { RAM_BASE, rig, u64 } from "./hart_rig_test.ts";

Deno.test("rig: a program runs to done and registers read back", () => {
  const r = rig(`
_start:
  li a0, 40
  addi a0, a0, 2
  li a1, -1
done:
  j done
`);
  r.runToDone();
  assert.equal(r.x("a0"), 42n);
  assert.equal(r.x("a1"), u64(-1n));
});

Deno.test("hart: run(budget) executes exactly budget instructions and counts them", () => {
  const r = rig(`
_start:
  addi a0, a0, 1
  j _start
done:
  j done
`);
  assert.equal(r.hart.run(1), StopReason.Budget);
  assert.equal(r.hart.lastRunInstructions, 1);
  assert.equal(r.x("a0"), 1n);
  assert.equal(r.hart.run(1001), StopReason.Budget);
  assert.equal(r.hart.lastRunInstructions, 1001);
  assert.equal(r.hart.instret, 1002);
  assert.equal(r.x("a0"), 501n);
  assert.equal(r.hart.run(0), StopReason.Budget);
  assert.equal(r.hart.lastRunInstructions, 0);
  r.hart.halted = true;
  assert.equal(r.hart.run(10), StopReason.Halted);
  assert.equal(r.hart.instret, 1002);
});

Deno.test("hart: step() traces one instruction at a time, compressed and not", () => {
  const r = rig(`
_start:
  c.li a0, 5
  addi a0, a0, 1
  c.addi a0, 1
done:
  j done
`);
  const pcs: number[] = [];
  for (let i = 0; i < 4; i++) {
    pcs.push(r.hart.pc - RAM_BASE);
    r.hart.step();
  }
  assert.deepEqual(pcs, [0, 2, 6, 8]);
  assert.equal(r.x("a0"), 7n);
});

Deno.test("hart: x0 ignores writes from every kind of instruction", () => {
  const r = rig(`
_start:
  li x0, 5
  addi x0, x0, 7
  la t0, word
  ld x0, 0(t0)
  amoadd.d x0, t0, (t0)
  csrr x0, mscratch
  jal x0, 1f
1:
  mv a0, x0
done:
  j done
  .data
  .balign 8
word: .dword 99
`);
  r.runToDone();
  assert.equal(r.x("zero"), 0n);
  assert.equal(r.x("a0"), 0n);
});

Deno.test("hart: a program with loops, calls, mul/div and compressed code computes right", () => {
  const r = rig(`
_start:
  la sp, stack_top
  li a0, 20
  call fib
  mv s0, a0
  li a0, 10
  call fact
  mv s1, a0
  li t0, -7
  li t1, 2
  div s2, t0, t1
  rem s3, t0, t1
  li t0, 0x123456789abcdef
  li t1, 0xfedcba987654321
  mulhu s4, t0, t1
  mul s5, t0, t1
done:
  j done
fib:                      # iterative
  li t0, 0
  li t1, 1
1:
  beqz a0, 2f
  add t2, t0, t1
  mv t0, t1
  mv t1, t2
  addi a0, a0, -1
  j 1b
2:
  mv a0, t0
  ret
fact:                     # recursive
  addi sp, sp, -16
  sd ra, 8(sp)
  sd a0, 0(sp)
  li t0, 1
  ble a0, t0, 3f
  addi a0, a0, -1
  call fact
  ld t0, 0(sp)
  mul a0, a0, t0
  j 4f
3:
  li a0, 1
4:
  ld ra, 8(sp)
  addi sp, sp, 16
  ret
  .data
  .balign 16
stack: .zero 4096
stack_top:
`);
  r.runToDone();
  assert.equal(r.x("s0"), 6765n);
  assert.equal(r.x("s1"), 3628800n);
  assert.equal(r.x("s2"), u64(-3n));
  assert.equal(r.x("s3"), u64(-1n));
  const a = 0x123456789abcdefn;
  const b = 0xfedcba987654321n;
  assert.equal(r.x("s4"), (a * b) >> 64n);
  assert.equal(r.x("s5"), (a * b) & ((1n << 64n) - 1n));
});

Deno.test("atomics: LR/SC reservation semantics", () => {
  const r = rig(`
_start:
  la s0, word
  la s1, other
  li t1, 5
  lr.d a0, (s0)
  sc.d a1, t1, (s0)       # succeeds: a1 = 0
  sc.d a2, t1, (s0)       # no reservation: fails
  lr.w a3, (s0)
  sc.w a4, t1, (s1)       # other address: fails
  sc.w a5, t1, (s0)       # reservation was consumed by the failed SC
  lr.d a6, (s0)
  ecall                   # a trap drops the reservation
  sc.d a7, t1, (s0)
  lr.w t2, (s0)
  sc.d t3, t1, (s0)       # wrong size: fails
done:
  j done
  .balign 4
trap:
  csrr t0, mepc
  addi t0, t0, 4
  csrw mepc, t0
  mret
  .data
  .balign 8
word: .dword 0x100000007
other: .dword 0
`);
  r.hart.writeCsr(0x305, BigInt(r.sym("trap")));
  r.runToDone();
  assert.equal(r.x("a0"), 0x100000007n);
  assert.equal(r.x("a1"), 0n);
  assert.equal(r.x("a2"), 1n);
  assert.equal(r.x("a3"), 5n, "the successful SC stored 5");
  assert.equal(r.x("a4"), 1n);
  assert.equal(r.x("a5"), 1n);
  assert.equal(r.x("a7"), 1n);
  assert.equal(r.x("t3"), 1n);
  assert.equal(r.mem64("word"), 5n);
  assert.equal(r.mem64("other"), 0n);
});

Deno.test("atomics: a reservation survives a run boundary unless another hart ran", () => {
  const source = `
_start:
  la s0, word
  li t1, 9
  lr.d a0, (s0)
  sc.d a1, t1, (s0)
done:
  j done
  .data
  .balign 8
word: .dword 1
`;
  // One instruction per run, as \`bare --trace\` steps: LR; (run boundary); SC succeeds.
  const r = rig(source);
  r.hart.run(3); // la (2) + li
  r.hart.run(1); // lr
  assert.equal(r.x("a0"), 1n);
  r.hart.run(1); // sc in a new run, nothing ran in between
  assert.equal(r.x("a1"), 0n);
  assert.equal(r.mem64("word"), 9n);

  // Another hart on the same bus runs between the LR and the SC: the SC fails.
  const s = rig(source);
  const other = new Hart({ bus: s.bus, hartId: 1 });
  other.reset(s.sym("done"), 3);
  s.hart.run(4); // la, li, lr
  other.run(1);
  s.hart.run(1);
  assert.equal(s.x("a1"), 1n);
  assert.equal(s.mem64("word"), 1n);

  // Any other hart counts, even on another bus: buses may map the same RAM (IVC pages).
  const t = rig(source);
  const elsewhere = rig(source);
  t.hart.run(4);
  elsewhere.hart.run(1);
  t.hart.run(1);
  assert.equal(t.x("a1"), 1n);

  // Host writes between runs do not break it, and a halted or budget-0 run keeps it.
  const w = rig(source);
  w.hart.run(4);
  w.bus.write64(w.sym("word"), 5n);
  w.hart.run(0);
  w.hart.run(1);
  assert.equal(w.x("a1"), 0n);
  assert.equal(w.mem64("word"), 9n);

  // reset and restore drop the reservation.
  const u = rig(source);
  u.hart.run(4);
  const snap = u.hart.snapshot();
  u.hart.restore(snap);
  u.hart.run(1);
  assert.equal(u.x("a1"), 1n);
});

Deno.test("atomics: every AMO in W and D forms returns the old value and stores the result", () => {
  const ops = ["swap", "add", "xor", "and", "or", "min", "max", "minu", "maxu"];
  const old = 0x8000_0000_0000_0005n;
  const src = 0x0000_0000_ffff_fff0n;
  const body = ops.map((op, i) => `
  la t0, w${i}
  amo${op}.w a0, t1, (t0)
  sd a0, r${i}w, t2
  la t0, d${i}
  amo${op}.d a0, t1, (t0)
  sd a0, r${i}d, t2`).join("");
  const data = ops.map((_, i) => `
w${i}: .dword ${old}
d${i}: .dword ${old}
r${i}w: .dword 0
r${i}d: .dword 0`).join("");
  const r = rig(`
_start:
  li t1, ${src}
${body}
done:
  j done
  .data
  .balign 8
${data}
`);
  r.runToDone();
  const mask64 = (1n << 64n) - 1n;
  const s32 = (v: bigint) => BigInt.asIntN(32, v);
  const s64 = (v: bigint) => BigInt.asIntN(64, v);
  const apply = (op: string, a: bigint, b: bigint, sgn: (v: bigint) => bigint, bits: bigint) => {
    const m = (1n << bits) - 1n;
    const ua = a & m, ub = b & m;
    switch (op) {
      case "swap":
        return ub;
      case "add":
        return (ua + ub) & m;
      case "xor":
        return ua ^ ub;
      case "and":
        return ua & ub;
      case "or":
        return ua | ub;
      case "min":
        return sgn(ua) < sgn(ub) ? ua : ub;
      case "max":
        return sgn(ua) > sgn(ub) ? ua : ub;
      case "minu":
        return ua < ub ? ua : ub;
      default:
        return ua > ub ? ua : ub;
    }
  };
  ops.forEach((op, i) => {
    // W: operates on the low word, returns it sign-extended, leaves the high word alone.
    const w = r.mem64(`w${i}`);
    assert.equal(r.mem64(`r${i}w`), u64(s32(old & 0xffffffffn)), `amo${op}.w old value`);
    assert.equal(w >> 32n, old >> 32n, `amo${op}.w keeps the upper word`);
    assert.equal(w & 0xffffffffn, apply(op, old, src, s32, 32n), `amo${op}.w result`);
    assert.equal(r.mem64(`r${i}d`), old, `amo${op}.d old value`);
    assert.equal(r.mem64(`d${i}`), apply(op, old, src, s64, 64n) & mask64, `amo${op}.d result`);
  });
});

Deno.test("hart: self-modifying code is seen after fence.i (and stores to code invalidate)", () => {
  const r = rig(`
_start:
  li s0, 0
  li s1, 3
loop:
patch:
  addi s0, s0, 1
  la t0, patch
  li t1, 0x00a40413       # addi s0, s0, 10
  sw t1, 0(t0)
  fence.i
  addi s1, s1, -1
  bnez s1, loop
done:
  j done
`);
  r.runToDone();
  assert.equal(r.x("s0"), 21n, "1 + 10 + 10");
});

Deno.test("hart: a 32-bit instruction straddling two pages executes", () => {
  const r = rig(`
_start:
  c.li a0, 1
  c.li a1, 2
  j cross
  .balign 4096
  .zero ${4094 - 2}
  c.nop
cross:
  addi a0, a0, 40         # starts at page offset 4094
  addi a1, a1, 1
done:
  j done
`);
  assert.equal((r.sym("cross") - RAM_BASE) % 4096, 4094);
  r.runToDone();
  assert.equal(r.x("a0"), 41n);
  assert.equal(r.x("a1"), 3n);
});

class Regs implements MmioDevice {
  readonly kind = "regs";
  readonly size = 0x100;
  log: string[] = [];
  value = 0;
  read(offset: number, width: AccessWidth): number {
    this.log.push(`r${width}@${offset}`);
    return offset === 4 ? 0xfffffff0 : this.value;
  }
  write(offset: number, width: AccessWidth, value: number): void {
    this.log.push(`w${width}@${offset}=${value.toString(16)}`);
    this.value = value;
  }
  reset(): void {}
  snapshot(): DeviceState {
    return {};
  }
  restore(_s: DeviceState): void {}
}

Deno.test("hart: MMIO loads and stores reach devices with the right widths", () => {
  const bus = new Bus();
  const dev = new Regs();
  bus.mapDevice(0x1000_0000, dev, "regs");
  const r = rig(
    `
_start:
  la t0, trap
  csrw mtvec, t0
  li s0, 0x10000000
  li t1, 0x1122334455667788
  sb t1, 0(s0)
  sh t1, 2(s0)
  sd t1, 8(s0)
  lw a0, 4(s0)
  lwu a1, 4(s0)
  ld a2, 8(s0)
  lw a3, 2(s0)            # misaligned device access: access fault
done:
  j done
  .balign 4
trap:
  csrr a4, mcause
  j done
`,
    { bus },
  );
  r.runToDone();
  assert.deepEqual(dev.log, [
    "w1@0=88",
    "w2@2=7788",
    "w4@8=55667788",
    "w4@12=11223344",
    "r4@4",
    "r4@4",
    "r4@8",
    "r4@12",
  ]);
  assert.equal(r.x("a0"), u64(-16n));
  assert.equal(r.x("a1"), 0xfffffff0n);
  assert.equal(r.x("a2"), 0x1122334411223344n);
  assert.equal(r.x("a4"), 5n);
});

Deno.test("hart: snapshot/restore reproduces the same execution", () => {
  const src = `
_start:
  li a0, 0
  li a1, 1000
1:
  add a0, a0, a1
  csrrw zero, mscratch, a0
  addi a1, a1, -1
  bnez a1, 1b
done:
  j done
`;
  const r = rig(src);
  r.hart.run(1500);
  const snap = JSON.parse(JSON.stringify(r.hart.snapshot()));
  r.runToDone();
  const end = { a0: r.x("a0"), instret: r.hart.instret, scratch: r.hart.readCsr(0x340) };
  const r2 = rig(src);
  r2.hart.restore(snap);
  assert.equal(r2.hart.instret, 1500);
  r2.runToDone();
  assert.deepEqual(
    { a0: r2.x("a0"), instret: r2.hart.instret, scratch: r2.hart.readCsr(0x340) },
    end,
  );
  assert.equal(end.a0, 500500n);
  assert.throws(() => r2.hart.restore({ ...snap, version: 2 }), /version-1/);
});

Deno.test("hart: reloading memory (clear) or remapping the bus drops decoded code", () => {
  const a = assemble("_start:\n li a0, 1\ndone:\n j done\n", { origin: RAM_BASE });
  const b = assemble("_start:\n li a0, 2\ndone:\n j done\n", { origin: RAM_BASE });
  const r = rig("_start:\n li a0, 1\ndone:\n j done\n");
  r.runToDone();
  assert.equal(r.x("a0"), 1n);
  r.memory.clear();
  r.bus.writeBytes(RAM_BASE, b.image);
  r.hart.pc = RAM_BASE;
  r.runToDone();
  assert.equal(r.x("a0"), 2n);
  // A loader writing through the bus without clear: the VMM calls reset(), which flushes.
  r.bus.writeBytes(RAM_BASE, a.image);
  r.hart.reset(RAM_BASE, 3);
  r.runToDone();
  assert.equal(r.x("a0"), 1n);
});
