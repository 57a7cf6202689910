/**
 * Bus and board costs: a RAM load/store through the bus's slow-path accessors, an MMIO access
 * (UART scratch register, PLIC claim, CLINT mtime), and the host memory of the default 8 GiB
 * board after 16 MiB of its RAM has been touched. Run with `deno task bench`; the memory figures
 * are printed once per run.
 */
import type { SparseMemory } from "../lib/hw/memory.ts";
import { loadBoard, Machine } from "../lib/hw/boards/mod.ts";

const RAM = 0x8000_0000;
const machine = new Machine(loadBoard("qemu-virt"));
const bus = machine.bus;
const MASK = 0xfffc; // a 64 KiB window of RAM, 4-byte aligned

// Host memory of an 8 GiB board with 16 MiB touched (one write per 4 KiB page, then a full fill).
{
  const before = Deno.memoryUsage();
  const board = new Machine(loadBoard("qemu-virt"));
  const base = board.memory.residentBytes();
  for (let off = 0; off < 16 * 1024 * 1024; off += 4096) {
    board.bus.write(RAM + 0x100_0000 + off, 4, off);
  }
  const after = Deno.memoryUsage();
  const resident = board.memory.residentBytes();
  console.log(
    `qemu-virt (8 GiB RAM, 4 harts): resident RAM pages ${(base / 1024).toFixed(0)} KiB at boot ` +
      `(the DTB), ${(resident / 1024 / 1024).toFixed(2)} MiB after touching 16 MiB; ` +
      `process RSS grew ${((after.rss - before.rss) / 1024 / 1024).toFixed(1)} MiB ` +
      `(external ${((after.external - before.external) / 1024 / 1024).toFixed(1)} MiB)`,
  );
}

Deno.bench("bus: RAM read32 (slow-path accessor)", { group: "ram", baseline: true }, () => {
  let sum = 0;
  for (let i = 0; i < 1000; i++) sum += bus.read(RAM + ((i * 52) & MASK), 4)!;
  if (sum < 0) throw new Error("unreachable");
});

Deno.bench("bus: RAM write32 (slow-path accessor)", { group: "ram" }, () => {
  for (let i = 0; i < 1000; i++) bus.write(RAM + ((i * 52) & MASK), 4, i);
});

Deno.bench("bus: RAM read64 (bigint)", { group: "ram" }, () => {
  let x = 0n;
  for (let i = 0; i < 1000; i++) x ^= bus.read64(RAM + ((i * 56) & 0xfff8))!;
  if (x < 0n) throw new Error("unreachable");
});

Deno.bench("direct: SparseMemory read32 (no bus)", { group: "ram" }, () => {
  const mem: SparseMemory = machine.memory;
  let sum = 0;
  for (let i = 0; i < 1000; i++) sum += mem.read32((i * 52) & MASK);
  if (sum < 0) throw new Error("unreachable");
});

Deno.bench("mmio: UART SCR read (ns16550a)", { group: "mmio", baseline: true }, () => {
  let sum = 0;
  for (let i = 0; i < 1000; i++) sum += bus.read(0x1000_0007, 1)!;
  if (sum < 0) throw new Error("unreachable");
});

Deno.bench("mmio: UART SCR write", { group: "mmio" }, () => {
  for (let i = 0; i < 1000; i++) bus.write(0x1000_0007, 1, i & 0xff);
});

Deno.bench("mmio: CLINT mtime read (low word)", { group: "mmio" }, () => {
  let sum = 0;
  for (let i = 0; i < 1000; i++) sum += bus.read(0x0200_bff8, 4)!;
  if (sum < 0) throw new Error("unreachable");
});

Deno.bench("mmio: PLIC claim + complete (nothing pending)", { group: "mmio" }, () => {
  for (let i = 0; i < 1000; i++) {
    const id = bus.read(0x0c20_0004, 4)!;
    bus.write(0x0c20_0004, 4, id);
  }
});

Deno.bench("mmio: unanswered read (no device)", { group: "mmio" }, () => {
  let misses = 0;
  for (let i = 0; i < 1000; i++) if (bus.read(0x4000_0000, 4) === undefined) misses++;
  if (misses !== 1000) throw new Error("an access was answered");
});

Deno.bench("board: build qemu-virt (bus, devices, 4 harts, DTB)", { group: "board" }, () => {
  new Machine(loadBoard("qemu-virt"));
});

Deno.bench("board: build server-64 (64 harts, 128 GiB)", { group: "board" }, () => {
  new Machine(loadBoard("server-64"));
});
