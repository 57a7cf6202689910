/**
 * VMM benchmarks: SBI ecall exit round trip, guest MIPS on a 4-vCPU guest against a bare hart,
 * VM create + start + stop + delete rate, and host memory of 1,000 created VMs with 1 GiB of RAM
 * each. Run with `deno task bench`; the derived figures (µs per exit, MIPS, VMs/s, MiB) are
 * printed once per run. Targets: exit <= 1 µs, >= 200 VMs/s, < 500 MiB for 1,000 VMs.
 *
 * @module
 */
import { Bus } from "../lib/hw/bus.ts";
import { SparseMemory } from "../lib/hw/memory.ts";
import { loadBoard } from "../lib/hw/boards/load.ts";
import type { BoardSpec } from "../lib/hw/boards/spec.ts";
import { assemble } from "../lib/hw/riscv/assembler.ts";
import { Hart } from "../lib/hw/riscv/hart.ts";
import { Hypervisor } from "../lib/vmm/hypervisor.ts";
import { MemoryFileSystem } from "../lib/vmm/memory_filesystem.ts";

const CONFIG = (id: number, cpus: number, kernel: string, ram = "0x400_0000") => `
[base]
id = ${id}
name = "bench${id}"
cpu_num = ${cpus}
[kernel]
entry_point = 0x8020_0000
kernel_path = "${kernel}"
kernel_load_addr = 0x8020_0000
memory_regions = [[0x8000_0000, ${ram}, 0x7, 0]]
`;

/** SBI calls (Base get_spec_version) in a loop, forever: 4 instructions and one exit per turn. */
const ECALLS = `
_start:
1:  li a7, 0x10
    li a6, 0
    ecall
    j 1b
`;

/** Every hart runs an arithmetic loop forever; hart 0 starts harts 1..3 with HSM first. */
const LOOP = `
_start:
    bnez a0, work
    li s0, 1
2:  li a7, 0x48534D
    li a6, 0
    mv a0, s0
    la a1, work
    li a2, 0
    ecall
    addi s0, s0, 1
    li t0, 4
    blt s0, t0, 2b
work:
    li t1, 0
    li t2, 12345
3:  addi t1, t1, 1
    mul t3, t1, t2
    xor t2, t2, t3
    srli t4, t2, 3
    add t2, t2, t4
    j 3b
`;

const HELLO = `
_start:
    li a7, 1
    li a0, 104
    ecall
    li a7, 8
    ecall
`;

function hypervisor(board: BoardSpec = loadBoard("qemu-virt")): Hypervisor {
  const fs = new MemoryFileSystem({
    "/ecalls.S": ECALLS,
    "/loop.S": LOOP,
    "/hello.S": HELLO,
    "/ecalls.toml": CONFIG(1, 1, "/ecalls.S"),
    "/loop.toml": CONFIG(2, 4, "/loop.S"),
    "/hello.toml": CONFIG(3, 1, "/hello.S"),
  });
  return new Hypervisor({ board, fs });
}

/** Runs the ecall guest for 10,000 exits' worth of virtual time; returns the exits taken. */
function runEcalls(hv: Hypervisor): number {
  const vm = hv.vm(1)!;
  if (vm.status !== "running") hv.startVm(1);
  const before = vm.stats().exits.Nothing;
  hv.runFor(10_000 * 4 * hv.nsPerInstruction);
  return vm.stats().exits.Nothing - before;
}

const ecallHv = hypervisor();
ecallHv.createVm({ path: "/ecalls.toml" });
Deno.bench("SBI ecall exit round trip (one iteration = 10,000 exits)", { group: "exit" }, () => {
  runEcalls(ecallHv);
});

/** The loop guest on 4 vCPUs for `ns` of virtual time; returns instructions retired. */
function runLoopGuest(hv: Hypervisor, ns: number): number {
  const vm = hv.vm(2)!;
  if (vm.status !== "running") hv.startVm(2);
  const before = vm.stats().instret;
  hv.runFor(ns);
  return vm.stats().instret - before;
}

const loopHv = hypervisor();
loopHv.createVm({ path: "/loop.toml" });
Deno.bench("4-vCPU guest, 2,000,000 instructions (4 x 5 ms at 100 MIPS)", { group: "mips" }, () => {
  runLoopGuest(loopHv, 5e6);
});

function bareHart(): Hart {
  const bus = new Bus();
  const mem = new SparseMemory(0x100_0000);
  bus.mapRam(0x8000_0000, 0x100_0000, mem);
  mem.writeBytes(0x20_0000, assemble(LOOP, { origin: 0x8020_0000 }).image);
  const hart = new Hart({
    bus,
    hartId: 1,
    exitOnSupervisorEcall: true,
    guestDelegation: true, // the same tier as the hypervisor's vCPUs: its default, the JIT
  });
  hart.reset(0x8020_0000, 1);
  hart.setX(10, 1n); // a secondary: straight to the loop
  return hart;
}
const bare = bareHart();
Deno.bench("bare hart, 2,000,000 instructions (same loop, same tier)", {
  group: "mips",
  baseline: true,
}, () => {
  for (let n = 0; n < 2_000_000; n += 10_000) bare.run(10_000);
});

const cycleHv = hypervisor();
Deno.bench("VM create + start + stop + delete (one VM)", { group: "lifecycle" }, () => {
  const vm = cycleHv.createVm({ path: "/hello.toml" });
  cycleHv.startVm(vm.id);
  cycleHv.runFor(10_000);
  cycleHv.stopVm(vm.id, { force: true });
  cycleHv.deleteVm(vm.id);
});

/** A board like qemu-virt with 1 TiB of RAM, so that 1,000 VMs of 1 GiB each fit. */
function bigBoard(): BoardSpec {
  const b = loadBoard("qemu-virt");
  return { ...b, memory: [{ base: 0x8000_0000, size: 0x100_0000_0000 }] };
}

/** Runs V8's full collection when the bench runs with `--v8-flags=--expose-gc` (deno task bench). */
const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** Host memory the process holds: V8's heap plus buffers outside it (typed arrays, wasm). */
function hostBytes(): number {
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

/**
 * Creates 1,000 VMs with 1 GiB of RAM each; returns the growth of the heap plus external buffers
 * in bytes (after full collections, when they can be asked for; else it is noisy).
 */
function thousandVms(): number {
  const hv = hypervisor(bigBoard());
  const text = hv.fs.readTextFile("/hello.toml");
  collect();
  const before = hostBytes();
  for (let id = 1; id <= 1000; id++) {
    hv.createVm({
      text: text.replace("id = 3", `id = ${id}`).replace('name = "bench3"', `name = "bench${id}"`)
        .replace("0x400_0000", "0x4000_0000"),
      origin: `vm${id}.toml`,
    });
  }
  collect();
  const grown = hostBytes() - before;
  if (hv.vms().length !== 1000) throw new Error("1,000 VMs expected");
  return grown;
}
Deno.bench("1,000 VMs with 1 GiB RAM each: create", { group: "memory", n: 3, warmup: 1 }, () => {
  thousandVms();
});

// Derived figures, printed once.
{
  const samples: number[] = [];
  for (let i = 0; i < 20; i++) runEcalls(ecallHv); // warm up (the JIT tier compiles hot code)
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const exits = runEcalls(ecallHv);
    samples.push((performance.now() - t0) * 1000 / exits);
  }
  const exitUs = samples.sort((a, b) => a - b)[3];
  runLoopGuest(loopHv, 5e6);
  for (let n = 0; n < 2_000_000; n += 10_000) bare.run(10_000);
  const t1 = performance.now();
  const instr = runLoopGuest(loopHv, 20e6);
  const vmmMips = instr / ((performance.now() - t1) * 1000);
  const t2 = performance.now();
  for (let n = 0; n < 8_000_000; n += 10_000) bare.run(10_000);
  const bareMips = 8_000_000 / ((performance.now() - t2) * 1000);
  const t3 = performance.now();
  let cycles = 0;
  while (performance.now() - t3 < 500) {
    const vm = cycleHv.createVm({ path: "/hello.toml" });
    cycleHv.startVm(vm.id);
    cycleHv.runFor(10_000);
    cycleHv.stopVm(vm.id, { force: true });
    cycleHv.deleteVm(vm.id);
    cycles++;
  }
  const rate = cycles / ((performance.now() - t3) / 1000);
  const heap = thousandVms() / 2 ** 20;
  console.log(
    `vmm: ${exitUs.toFixed(2)} µs per SBI exit; 4-vCPU guest ${
      vmmMips.toFixed(1)
    } MIPS vs bare hart ${bareMips.toFixed(1)} MIPS (${(100 * vmmMips / bareMips).toFixed(0)}%); ${
      rate.toFixed(0)
    } VMs/s create+start+stop+delete; ` +
      `1,000 VMs x 1 GiB: ${heap.toFixed(1)} MiB of heap and buffers`,
  );
}
