/**
 * The device tree the VMM generates for a Linux guest (examples/configs/linux-smp.toml), checked
 * with `dtc -I dtb -O dts` (no warnings) and node by node: what Linux expects of a virt-like
 * board (cpus with ISA, MMU, interrupt controllers and cpu-map; timebase; PLIC; the UART's
 * clock; /chosen with bootargs, stdout-path, the initrd range and a 64-byte rng-seed that is the
 * same on every run with the warp clock and different on each boot).
 */
import assert from "node:assert/strict";
import { loadBoard } from "../../lib/hw/boards/load.ts";
import { readFdt } from "../../lib/hw/fdt/reader.ts";
import type { FdtNode } from "../../lib/hw/fdt/node.ts";
import { guestRngSeed, RNG_SEED_BYTES } from "../../lib/vmm/guest_dtb.ts";
import { Hypervisor } from "../../lib/vmm/hypervisor.ts";
import { MemoryFileSystem } from "../../lib/vmm/memory_filesystem.ts";
import { decodeDtb } from "../hw/fdt/dtc.ts";
import { exampleConfig } from "./linux_support.ts";

const u32 = (b: Uint8Array | undefined, i = 0) =>
  b ? new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(i * 4) : undefined;
const u64 = (b: Uint8Array | undefined) =>
  b ? Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0)) : undefined;
const str = (b: Uint8Array | undefined) => b ? new TextDecoder().decode(b).replace(/\0$/, "") : "";

/** Boots linux-smp.toml with small stand-in images (enough to build and place the tree). */
function bootedDtb(clock: "warp" | "realtime" = "warp"): { dtb: Uint8Array; hv: Hypervisor } {
  const fs = new MemoryFileSystem({
    "/configs/linux-smp.toml": exampleConfig("linux-smp.toml"),
    // wfi; j . : the stand-in kernel just waits.
    "/images/linux/Image": new Uint8Array([0x73, 0x00, 0x50, 0x10, 0x6f, 0x00, 0x00, 0x00]),
    "/images/linux/initramfs.cpio.gz": new Uint8Array(3000).fill(7),
  });
  const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs, clock });
  const vm = hv.createVm({ path: "/configs/linux-smp.toml" });
  assert.equal(hv.startVm(vm.id).ok, true);
  const dtb = new Uint8Array(vm.dtbSize);
  for (let i = 0; i < vm.dtbSize; i++) dtb[i] = vm.bus.read(vm.dtbGpa! + i, 1)!;
  return { dtb, hv };
}

Deno.test("guest dtb for Linux: dtc decodes it without warnings", async () => {
  const { warnings, dts } = await decodeDtb(bootedDtb().dtb);
  assert.equal(warnings.trim(), "", warnings);
  assert.match(dts, /cpu-map \{\s*cluster0 \{\s*core0 \{\s*cpu = <0x[0-9a-f]+>;/);
  assert.match(dts, /rng-seed = <(0x[0-9a-f]+ ?){16}>;/, "64 bytes");
});

Deno.test("guest dtb for Linux: cpus, cpu-map, PLIC, UART and /chosen", () => {
  const root = readFdt(bootedDtb().dtb).root;
  const cpus = root.child("cpus")!;
  assert.equal(u32(cpus.get("timebase-frequency")), 10_000_000);
  const phandles = new Map<number, string>();
  for (let i = 0; i < 4; i++) {
    const cpu = cpus.child(`cpu@${i}`)!;
    assert.ok(cpu, `cpu@${i}`);
    assert.equal(str(cpu.get("device_type")), "cpu");
    assert.equal(u32(cpu.get("reg")), i);
    assert.equal(str(cpu.get("mmu-type")), "riscv,sv39");
    assert.equal(str(cpu.get("riscv,isa-base")), "rv64i");
    assert.match(str(cpu.get("riscv,isa")), /^rv64i/);
    assert.ok(str(cpu.get("riscv,isa-extensions")).split("\0").includes("zicsr"));
    const intc = cpu.child("interrupt-controller")!;
    assert.equal(str(intc.get("compatible")), "riscv,cpu-intc");
    assert.equal(u32(intc.get("#interrupt-cells")), 1);
    phandles.set(u32(cpu.get("phandle"))!, `cpu@${i}`);
  }
  const cluster = cpus.child("cpu-map")!.child("cluster0")!;
  for (let i = 0; i < 4; i++) {
    assert.equal(phandles.get(u32(cluster.child(`core${i}`)!.get("cpu"))!), `cpu@${i}`);
  }
  const soc = root.child("soc")!;
  const plic = soc.child("plic@c000000")!;
  assert.ok(plic.has("interrupt-controller"));
  assert.equal(u32(plic.get("riscv,ndev")), 96);
  assert.equal(plic.get("interrupts-extended")!.length, 4 * 8, "one S-mode context per vCPU");
  const uart = soc.child("serial@10000000")!;
  assert.equal(str(uart.get("compatible")), "ns16550a");
  assert.equal(u32(uart.get("clock-frequency")), 3_686_400);
  assert.equal(u32(uart.get("interrupts")), 10);
  assert.equal(u32(uart.get("interrupt-parent")), u32(plic.get("phandle")));

  const chosen: FdtNode = root.child("chosen")!;
  assert.equal(str(chosen.get("bootargs")), "console=ttyS0 earlycon");
  assert.equal(str(chosen.get("stdout-path")), "/soc/serial@10000000");
  assert.equal(u64(chosen.get("linux,initrd-start")), 0x8800_0000);
  assert.equal(u64(chosen.get("linux,initrd-end")), 0x8800_0000 + 3000);
  assert.equal(chosen.get("rng-seed")!.length, RNG_SEED_BYTES);
});

Deno.test("guest dtb for Linux: the rng-seed is reproducible (warp) and new on each boot", () => {
  const seed = (dtb: Uint8Array) => [...readFdt(dtb).root.child("chosen")!.get("rng-seed")!];
  assert.deepEqual(seed(bootedDtb().dtb), seed(bootedDtb().dtb), "same run, same seed");
  const a = guestRngSeed({ id: 22, name: "linux-smp", boots: 0 });
  const b = guestRngSeed({ id: 22, name: "linux-smp", boots: 1 });
  const c = guestRngSeed({ id: 21, name: "linux", boots: 0 });
  assert.notDeepEqual([...a], [...b], "a reboot gets a new seed");
  assert.notDeepEqual([...a], [...c], "another VM gets another seed");
  assert.ok(new Set(a).size > 32, "the bytes are spread");
  assert.notDeepEqual(seed(bootedDtb("realtime").dtb), seed(bootedDtb("realtime").dtb));
});
