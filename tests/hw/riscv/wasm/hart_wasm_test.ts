/**
 * The wasm tier wired into the hart (wasm_tier.ts): hot integer code runs in WebAssembly with
 * the interpreter's exact state, counts and stop reasons; stores into the running region's code
 * page, TLB misses and device accesses leave it before the instruction; harts share modules.
 */
import assert from "node:assert/strict";
import { Bus } from "../../../../lib/hw/bus.ts";
import { SparseMemory } from "../../../../lib/hw/memory.ts";
import { framePool } from "../../../../lib/hw/frame_pool.ts";
import { assemble } from "../../../../lib/hw/riscv/assembler.ts";
import { Hart, type HartOptions } from "../../../../lib/hw/riscv/hart.ts";
import { BlockExit } from "../../../../lib/hw/riscv/hart_stats.ts";
import { unitTableSettings, wasmTierStats } from "../../../../lib/hw/riscv/wasm/wasm_tier.ts";
import { mapCounterDevice } from "../counter_device.ts";

const RAM_BASE = 0x8000_0000;

function machine(source: string, options: Partial<HartOptions>, harts = 1): {
  harts: Hart[];
  bus: Bus;
} {
  const program = assemble(source, { origin: RAM_BASE });
  const memory = new SparseMemory(1 << 23);
  const bus = new Bus();
  bus.mapRam(RAM_BASE, memory.size, memory);
  mapCounterDevice(bus);
  bus.writeBytes(RAM_BASE, program.image);
  const list = Array.from({ length: harts }, (_, hartId) => {
    const hart = new Hart({ bus, hartId, ...options });
    hart.reset(program.entry, 3);
    return hart;
  });
  return { harts: list, bus };
}

/**
 * Runs `source` on the interpreter and on a hart with the wasm tier (default thresholds unless
 * `options` say otherwise) in the same slices, comparing stop reasons, counts and states after
 * each slice and memory at the end; returns the wasm hart.
 */
function compare(
  source: string,
  slices: number[],
  options: Partial<HartOptions> = {},
  setUp: (bus: Bus) => void = () => {},
): Hart {
  const a = machine(source, { jit: false });
  const b = machine(source, options);
  setUp(a.bus);
  setUp(b.bus);
  const [ha, hb] = [a.harts[0], b.harts[0]];
  for (const [i, slice] of slices.entries()) {
    const ra = ha.run(slice);
    const rb = hb.run(slice);
    const where = `slice ${i} (${slice}), pc 0x${ha.pc.toString(16)}`;
    assert.equal(rb, ra, `stop reason, ${where}`);
    assert.equal(hb.lastRunInstructions, ha.lastRunInstructions, `count, ${where}`);
    assert.deepEqual(hb.snapshot(), ha.snapshot(), `state, ${where}`);
  }
  assert.deepEqual(
    b.bus.readBytes(RAM_BASE, 0x5000),
    a.bus.readBytes(RAM_BASE, 0x5000),
    "program memory",
  );
  return hb;
}

const haveTier = framePool() !== null;

/** Turns on Sv39 with the page table at `root` and enters `smain` in S-mode (`_start`). */
const TO_S_MODE_SV39 = `
_start:
  la t0, root
  srli t0, t0, 12
  li t1, 0x8000000000000000
  or t0, t0, t1
  csrw satp, t0
  li t0, 0x1800
  csrc mstatus, t0
  li t0, 0x800
  csrs mstatus, t0
  la t0, smain
  csrw mepc, t0
  mret
`;

Deno.test({
  name: "hart wasm tier: a hot integer loop runs in wasm and ends as in the interpreter",
  ignore: !haveTier,
  fn() {
    const hart = compare(
      `
_start:
  li a0, -1
  li t2, 0xedb88320
  li s1, 30000
  li a2, 1000003
byte:
  xor a0, a0, s1
  li t1, 8
bit:
  andi t0, a0, 1
  srli a0, a0, 1
  beqz t0, skip
  xor a0, a0, t2
skip:
  addi t1, t1, -1
  bnez t1, bit
  mul a3, a0, s1
  mulh a4, a0, t2
  divu a5, a3, a2
  remw a6, a4, a2
  add a0, a0, a5
  xor a0, a0, a6
  addi s1, s1, -1
  bnez s1, byte
done:
  j done
`,
      [1, 9, 100, 5000, 77_777, 300_000, 300_000, 300_000, 300_000],
    );
    assert.ok(hart.stats.wasmCompilations >= 1, "translated into wasm");
    assert.equal(hart.stats.compilations, hart.stats.wasmCompilations, "no JavaScript units");
    assert.ok(hart.blockInstructions > 1_000_000, `${hart.blockInstructions} in wasm`);
  },
});

Deno.test({
  name: "hart wasm tier: a store into the running region's page takes effect at once",
  ignore: !haveTier,
  fn() {
    // The loop rewrites the instruction at `patch`, later in the same region (no fence.i): odd
    // iterations make it add 1, even ones add 100. The region leaves before each store into
    // its code page (never in the store TLB the tier reads); the interpreter stores and drops
    // the translation, so the stale instruction never runs.
    const source = `
_start:
  li s1, 6000
  li a0, 0
  la s2, patch
  li s3, 0x00150513       # addi a0, a0, 1
  li s4, 0x06450513       # addi a0, a0, 100
loop:
  andi t0, s1, 1
  mv t1, s3
  beqz t0, store
  mv t1, s4
store:
  sw t1, 0(s2)
patch:
  addi a0, a0, 1
  addi s1, s1, -1
  bnez s1, loop
done:
  j done
`;
    const hart = compare(source, [10, 100, 1000, 30_000, 30_000, 30_000], { jitThreshold: 20 });
    assert.equal(hart.xl[10], 3000 * 101);
    assert.ok(hart.stats.wasmCompilations >= 2, `${hart.stats.wasmCompilations} translations`);
    assert.ok(hart.stats.blockExits[BlockExit.Memory] >= 100, "left before the code stores");
  },
});

Deno.test({
  name: "hart wasm tier: a TLB miss or a device access mid-region exits before it, exactly",
  ignore: !haveTier,
  fn() {
    const hart = compare(
      `
_start:
  la s0, data
  li s1, 0x80100000
  li s2, 0x10000000
  li s3, 6000
  li a0, 0
loop:
  ld t0, 0(s0)
  add a0, a0, t0
  andi t1, s3, 3
  beqz t1, device
  slli t2, s3, 12
  li t3, 0x1ff000
  and t2, t2, t3
  add t2, t2, s1
  ld t4, 0(t2)
  sd a0, 0(t2)
  j next
device:
  lw t4, 0(s2)
next:
  add a0, a0, t4
  sd a0, 8(s0)
  addi s3, s3, -1
  bnez s3, loop
done:
  j done
  .balign 4096
data:
  .dword 7
  .dword 0
`,
      [1, 5, 77, 1000, 333, 20_000, 20_000, 20_000, 20_000],
      { jitThreshold: 50 },
    );
    assert.ok(hart.stats.wasmCompilations >= 1, "translated into wasm");
    assert.ok(hart.stats.blockExits[BlockExit.Memory] > 1000, "exits at the missing accesses");
    assert.ok(hart.blockInstructions > 20_000, `${hart.blockInstructions} in regions`);
  },
});

Deno.test({
  name: "hart wasm tier: two harts share one module; each keeps its own registers",
  ignore: !haveTier,
  fn() {
    // Each hart sums its own slice of work (a0 = hartid + 1 per iteration) and stores it at
    // result + 8 * hartid.
    const source = `
_start:
  csrr t0, mhartid
  addi t1, t0, 1
  li s1, 50000
  li a0, 0
loop:
  add a0, a0, t1
  xor a1, a0, s1
  addi s1, s1, -1
  bnez s1, loop
  la t2, result
  slli t3, t0, 3
  add t2, t2, t3
  sd a0, 0(t2)
done:
  j done
  .balign 8
result:
  .dword 0
  .dword 0
`;
    const { harts, bus } = machine(source, {});
    const second = new Hart({ bus, hartId: 1 });
    second.reset(harts[0].pc, 3);
    const modules = wasmTierStats.modules;
    const hits = wasmTierStats.cacheHits;
    harts[0].run(300_000);
    const modulesOfFirst = wasmTierStats.modules - modules;
    second.run(300_000);
    assert.ok(modulesOfFirst >= 1, "the first hart compiled a module");
    assert.equal(wasmTierStats.modules - modules, modulesOfFirst, "the second compiled none");
    assert.ok(wasmTierStats.cacheHits > hits, "the second hart reused the first one's regions");
    assert.ok(second.stats.wasmCompilations >= 1);
    assert.equal(harts[0].getX(10), 50000n);
    assert.equal(second.getX(10), 100000n);
  },
});

Deno.test({
  name: "hart wasm tier: Sv39 code and data in the upper half (addresses above 2^63) run in wasm",
  ignore: !haveTier,
  fn() {
    // Identity gigapage at 0x8000_0000 and its alias at 0xffff_ffff_8000_0000 (root index 510),
    // as Linux maps its kernel; the loop runs and accesses its data through the alias.
    const hart = compare(
      `
${TO_S_MODE_SV39}smain:
  li t0, 0xffffffff80000000
  la t1, high
  li t2, 0x80000000
  sub t1, t1, t2
  add t1, t1, t0
  jr t1
high:
  la s0, data              # pc-relative: an upper-half address
  li s1, 40000
  li a0, 0
loop:
  ld t0, 0(s0)
  add a0, a0, t0
  addi t0, t0, 3
  sd t0, 0(s0)
  sw a0, 8(s0)
  addi s1, s1, -1
  bnez s1, loop
  auipc a1, 0
done:
  j done
  .balign 4096
root:
  .dword 0
  .dword 0
  .dword 0x200000cf       # 0x8000_0000 -> 0x8000_0000 (V R W X A D)
  .zero 507 * 8
  .dword 0x200000cf       # 0xffff_ffff_8000_0000 -> 0x8000_0000
  .dword 0
data:
  .dword 5
  .dword 0
`,
      [3, 300, 30_000, 100_000, 100_000, 100_000],
    );
    assert.ok(hart.stats.wasmCompilations >= 1, "translated into wasm");
    assert.ok(hart.blockInstructions > 200_000, `${hart.blockInstructions} in wasm`);
    assert.ok(hart.getX(11) >= 0xffffffff80000000n, "ran in the upper half");
    // The upper-half tags match in wasm: the loop leaves only for page walks and slice ends.
    assert.ok(hart.stats.blockExits[BlockExit.Memory] < 20, "wasm hits the TLB");
  },
});

/**
 * Calls into two other pages, returns, and an indirect call through a table: every transfer
 * leaves a unit by jalr or to another page, where another unit starts.
 */
const CALLS = `
_start:
  li s1, 20000
  li a0, 0
  la s2, table
loop:
  call f1
  andi t0, s1, 3
  slli t0, t0, 3
  add t0, t0, s2
  ld t1, 0(t0)
  jalr t1
  addi s1, s1, -1
  bnez s1, loop
done:
  j done
  .balign 4096
f1:
  addi a0, a0, 3
  xor a0, a0, s1
  ret
  .balign 4096
f2:
  slli a1, a0, 1
  add a0, a0, a1
  j f2b
  nop
f2b:
  srli a0, a0, 1
  ret
f3:
  addi a0, a0, -7
  ret
  .balign 8
table:
  .dword f2
  .dword f3
  .dword f1
  .dword f2
`;

Deno.test({
  name: "hart wasm tier: units call units in other pages directly (jump cache), as interpreted",
  ignore: !haveTier,
  fn() {
    const hart = compare(
      CALLS,
      [1, 7, 100, 999, 5000, 12_345, 40_000, 40_000, 40_000, 40_000, 100_000],
      { jitThreshold: 50 },
    );
    assert.ok(hart.stats.wasmCompilations >= 4, `${hart.stats.wasmCompilations} translations`);
    assert.ok(hart.stats.chainedCalls > 50_000, `${hart.stats.chainedCalls} direct calls`);
  },
});

Deno.test({
  name: "hart wasm tier: a unit another unit calls directly is dropped when a store rewrites it",
  ignore: !haveTier,
  fn() {
    // The loop calls f in another page and rewrites f's first instruction every 64 iterations
    // (adding 1, then 100, ...), so f is translated again in between: the jump cache must not
    // call the dropped unit (the interpreter's sum tells).
    const source = `
_start:
  li s1, 6000
  li a0, 0
  la s2, f
  li s3, 0x00150513       # addi a0, a0, 1
  li s4, 0x06450513       # addi a0, a0, 100
loop:
  call f
  andi t0, s1, 63
  bnez t0, next
  andi t0, s1, 64
  mv t1, s3
  beqz t0, store
  mv t1, s4
store:
  sw t1, 0(s2)
next:
  addi s1, s1, -1
  bnez s1, loop
done:
  j done
  .balign 4096
f:
  addi a0, a0, 1
  xori a1, a0, 5
  ret
`;
    const hart = compare(source, [10, 100, 1000, 30_000, 30_000, 30_000], { jitThreshold: 20 });
    assert.ok(hart.stats.wasmCompilations > 90, `${hart.stats.wasmCompilations} translations`);
    assert.ok(hart.stats.chainedCalls > 5000, `${hart.stats.chainedCalls} direct calls`);
  },
});

Deno.test({
  name: "hart wasm tier: after a satp switch, a unit's jump to a pc enters the new space's code",
  ignore: !haveTier,
  fn() {
    // The same virtual function address (0x4000_0000) maps, through two page tables, to two
    // megapages holding different code (a0 += 1, a0 += 100); S-mode switches between them and
    // calls it. Units left from the caller must never enter the other space's unit.
    const fn = (add: number) => assemble(`addi a0, a0, ${add}\nxori a1, a0, 3\nret`).image;
    const source = `
_start:
  la t0, root_a
  srli t0, t0, 12
  li t1, 0x8000000000000000
  or s2, t0, t1
  la t0, root_b
  srli t0, t0, 12
  or s3, t0, t1
  li t0, 0x1800
  csrc mstatus, t0
  li t0, 0x800
  csrs mstatus, t0
  la t0, smain
  csrw mepc, t0
  mret
smain:
  li s1, 3000
  li a0, 0
  li s4, 0x40000000
loop:
  csrw satp, s2
  sfence.vma
  jalr s4
  csrw satp, s3
  sfence.vma
  jalr s4
  addi s1, s1, -1
  bnez s1, loop
done:
  j done
  .balign 4096
root_a:
  .dword 0
  .dword 0              # index 1 (0x4000_0000): filled by the test
  .dword 0x200000cf     # 0x8000_0000 identity gigapage (V R W X A D)
  .zero 509 * 8
root_b:
  .dword 0
  .dword 0
  .dword 0x200000cf
  .zero 509 * 8
l1_a:
  .dword 0x200800cf     # 0x4000_0000 -> megapage 0x8020_0000
  .zero 511 * 8
l1_b:
  .dword 0x201000cf     # 0x4000_0000 -> megapage 0x8040_0000
  .zero 511 * 8
`;
    const program = assemble(source, { origin: RAM_BASE });
    const setUp = (bus: Bus) => {
      const sym = (name: string) => program.symbols.get(name)!;
      const pointer = (table: number) => BigInt(((table >>> 12) << 10) | 1); // V, non-leaf
      const view = new DataView(new ArrayBuffer(8));
      for (const [root, l1] of [["root_a", "l1_a"], ["root_b", "l1_b"]]) {
        view.setBigUint64(0, pointer(sym(l1)), true);
        bus.writeBytes(sym(root) + 8, new Uint8Array(view.buffer));
      }
      bus.writeBytes(0x8020_0000, fn(1));
      bus.writeBytes(0x8040_0000, fn(100));
    };
    const hb = compare(source, [50, 500, 5000, 20_000, 20_000], { jitThreshold: 20 }, setUp);
    assert.equal(hb.xl[10], 3000 * 101);
    assert.ok(hb.stats.wasmCompilations >= 3, "both functions and the caller run in wasm");
  },
});

Deno.test({
  name: "hart wasm tier: after sfence.vma of a remapped page, a unit's jump enters the new code",
  ignore: !haveTier,
  fn() {
    // One page table; S-mode rewrites the leaf of 0x4000_0000 (megapage 0x8020_0000: a0 += 1,
    // or 0x8040_0000: a0 += 100), orders it with sfence.vma of that address only, and calls it.
    const fn = (add: number) => assemble(`addi a0, a0, ${add}\nxori a1, a0, 3\nret`).image;
    const source = `
${TO_S_MODE_SV39}smain:
  li s1, 3000
  li a0, 0
  li s4, 0x40000000
  la s5, l1
  li s2, 0x200800cf       # 0x4000_0000 -> megapage 0x8020_0000
  li s3, 0x201000cf       # 0x4000_0000 -> megapage 0x8040_0000
loop:
  sd s2, 0(s5)
  sfence.vma s4
  jalr s4
  sd s3, 0(s5)
  sfence.vma s4
  jalr s4
  addi s1, s1, -1
  bnez s1, loop
done:
  j done
  .balign 4096
root:
  .dword 0
  .dword 0              # index 1 (0x4000_0000): filled by the test
  .dword 0x200000cf     # 0x8000_0000 identity gigapage (V R W X A D)
  .zero 509 * 8
l1:
  .zero 512 * 8
`;
    const program = assemble(source, { origin: RAM_BASE });
    const setUp = (bus: Bus) => {
      const l1 = program.symbols.get("l1")!;
      const view = new DataView(new ArrayBuffer(8));
      view.setBigUint64(0, BigInt(((l1 >>> 12) << 10) | 1), true); // V, non-leaf
      bus.writeBytes(program.symbols.get("root")! + 8, new Uint8Array(view.buffer));
      bus.writeBytes(0x8020_0000, fn(1));
      bus.writeBytes(0x8040_0000, fn(100));
    };
    const hb = compare(source, [50, 500, 5000, 20_000, 20_000], { jitThreshold: 20 }, setUp);
    assert.equal(hb.xl[10], 3000 * 101);
    assert.ok(hb.stats.wasmCompilations >= 3, "both functions and the caller run in wasm");
  },
});

Deno.test({
  name: "hart wasm tier: the jump cache outlives runs, but not a host write and remote fence.i",
  ignore: !haveTier,
  fn() {
    const source = `
_start:
  li a0, 0
  li s4, 0x80001000
loop:
  jalr s4
  addi s1, s1, 1
  j loop
  .balign 4096
f:
  addi a0, a0, 1
  xori a1, a0, 3
  ret
`;
    const a = machine(source, { jit: false });
    const b = machine(source, { jitThreshold: 20 });
    const [ha, hb] = [a.harts[0], b.harts[0]];
    const slices = () => {
      for (const slice of [7, 100, 1000, 5000]) {
        assert.equal(hb.run(slice), ha.run(slice));
        assert.deepEqual(hb.snapshot(), ha.snapshot(), `state after a slice of ${slice}`);
      }
    };
    slices();
    const chained = hb.stats.chainedCalls;
    slices();
    assert.ok(hb.stats.chainedCalls - chained > 1000, "units still enter f in later runs");
    // The host rewrites f (a0 += 100) and fences, as an SBI remote fence.i does.
    const add100 = assemble("addi a0, a0, 100").image;
    for (const { bus } of [a, b]) bus.writeBytes(0x8000_1000, add100);
    ha.fenceI();
    hb.fenceI();
    const before = hb.xl[10];
    slices();
    assert.ok(hb.xl[10] - before > 100 * 500, "the new f runs");
  },
});

Deno.test({
  name: "hart wasm tier: a full function table is started over, with the code naming its slots",
  ignore: !haveTier,
  fn() {
    const slices = [1, 7, 100, 999, 5000, 12_345, 40_000, 40_000, 40_000, 40_000, 100_000];
    const all = compare(CALLS, slices, { jitThreshold: 50 });
    assert.equal(all.stats.codeFlushes, 0, "a table with room is never recycled");
    const saved = unitTableSettings.limit;
    unitTableSettings.limit = 2;
    try {
      // Three pages of units do not fit in two slots: the table is recycled again and again,
      // and the results stay the interpreter's.
      const few = compare(CALLS, slices, { jitThreshold: 50 });
      assert.ok(few.stats.codeFlushes > 0, "the hart dropped its code to recycle the table");
      assert.ok(few.stats.wasmCompilations > all.stats.wasmCompilations, "code translated anew");
      assert.ok(few.stats.chainedCalls > 0, "units in the recycled table call each other");
    } finally {
      unitTableSettings.limit = saved;
    }
  },
});
