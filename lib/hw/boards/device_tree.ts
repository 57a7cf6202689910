/**
 * The device tree a board describes itself with: what OpenSBI's generic platform, U-Boot and
 * Linux need, laid out as QEMU `virt` does (`/cpus` with per-hart interrupt controllers, `/memory`
 * nodes, `/soc` with the CLINT, PLIC, UARTs and test finisher, poweroff/reboot syscon nodes and
 * `/chosen`).
 *
 * @module
 */

import { cells64, FdtNode } from "../fdt/node.ts";
import { writeFdt } from "../fdt/writer.ts";
import { deviceKind } from "./device_kinds.ts";
import type { BoardSpec } from "./spec.ts";

/** mip bit numbers used in `interrupts-extended`. */
const IRQ_M_SOFT = 3, IRQ_M_TIMER = 7, IRQ_S_EXT = 9, IRQ_M_EXT = 11;

/** Splits an ISA string into `riscv,isa-base` and `riscv,isa-extensions`. */
export function isaExtensions(isa: string): { base: string; extensions: string[] } {
  const [head, ...multi] = isa.toLowerCase().split("_");
  const m = /^(rv(?:32|64))([a-z]*)$/.exec(head);
  if (!m) throw new RangeError(`"${isa}" is not a RISC-V ISA string`);
  const letters = m[2].replace(/g/, "imafd").split("");
  const single = [...new Set(letters)];
  return { base: `${m[1]}i`, extensions: [...single, ...multi] };
}

/** The path of a device's node in the board's tree, e.g. `/soc/serial@10000000`. */
export function boardDevicePath(spec: BoardSpec, deviceName: string): string | undefined {
  const d = spec.devices.find((x) => x.name === deviceName);
  if (!d) return undefined;
  return `/soc/${deviceKind(d.type).node}@${d.base.toString(16)}`;
}

/** Builds the board's device tree. */
export function boardDeviceTree(spec: BoardSpec): FdtNode {
  let nextPhandle = 1;
  const root = new FdtNode()
    .set("#address-cells", 2)
    .set("#size-cells", 2)
    .set("compatible", spec.compatible)
    .set("model", spec.model);

  const chosen = root.add("chosen");
  if (spec.chosen.stdout) chosen.set("stdout-path", boardDevicePath(spec, spec.chosen.stdout)!);
  if (spec.chosen.bootargs) chosen.set("bootargs", spec.chosen.bootargs);

  for (const m of spec.memory) {
    root.add(`memory@${m.base.toString(16)}`)
      .set("device_type", "memory")
      .set("reg", [...cells64(m.base), ...cells64(m.size)]);
  }

  const cpus = root.add("cpus")
    .set("#address-cells", 1)
    .set("#size-cells", 0)
    .set("timebase-frequency", spec.timebaseFrequency);
  const { base, extensions } = isaExtensions(spec.cpus.isa);
  const intcPhandles: number[] = [];
  const cpuPhandles: number[] = [];
  for (const id of spec.cpus.hartIds) {
    const cpuPhandle = nextPhandle++;
    const intcPhandle = nextPhandle++;
    cpuPhandles.push(cpuPhandle);
    intcPhandles.push(intcPhandle);
    const cpu = cpus.add(`cpu@${id.toString(16)}`)
      .set("device_type", "cpu")
      .set("reg", id)
      .set("status", "okay")
      .set("compatible", "riscv")
      .set("riscv,isa", spec.cpus.isa)
      .set("riscv,isa-base", base)
      .set("riscv,isa-extensions", extensions)
      .set("mmu-type", spec.cpus.mmuType)
      .set("phandle", cpuPhandle);
    cpu.add("interrupt-controller")
      .set("#address-cells", 0)
      .set("#interrupt-cells", 1)
      .set("interrupt-controller", true)
      .set("compatible", "riscv,cpu-intc")
      .set("phandle", intcPhandle);
  }
  const cluster = cpus.add("cpu-map").add("cluster0");
  cpuPhandles.forEach((ph, i) => cluster.add(`core${i}`).set("cpu", ph));

  const soc = root.add("soc")
    .set("#address-cells", 2)
    .set("#size-cells", 2)
    .set("compatible", "simple-bus")
    .set("ranges", true);
  const reg = (base: number, size: number) => [...cells64(base), ...cells64(size)];
  const plicSpec = spec.devices.find((d) => d.type === "plic");
  const plicPhandle = plicSpec ? nextPhandle++ : 0;
  for (const d of spec.devices) {
    const kind = deviceKind(d.type);
    const node = soc.add(`${kind.node}@${d.base.toString(16)}`)
      .set("compatible", [...kind.compatible])
      .set("reg", reg(d.base, d.size));
    for (const [key, value] of Object.entries(kind.treeProps?.(d) ?? {})) node.set(key, value);
    if (d.irq !== undefined) node.set("interrupts", d.irq).set("interrupt-parent", plicPhandle);
    switch (d.type) {
      case "sifive-test": {
        const phandle = nextPhandle++;
        node.set("phandle", phandle);
        root.add("poweroff").set("compatible", "syscon-poweroff").set("regmap", phandle)
          .set("offset", 0).set("value", 0x5555);
        root.add("reboot").set("compatible", "syscon-reboot").set("regmap", phandle)
          .set("offset", 0).set("value", 0x7777);
        break;
      }
      case "aclint":
        node.set(
          "interrupts-extended",
          intcPhandles.flatMap((ph) => [ph, IRQ_M_SOFT, ph, IRQ_M_TIMER]),
        );
        break;
      case "plic":
        node.set("#address-cells", 0)
          .set("#interrupt-cells", 1)
          .set("interrupt-controller", true)
          .set("interrupts-extended", intcPhandles.flatMap((ph) => [ph, IRQ_M_EXT, ph, IRQ_S_EXT]))
          .set("riscv,ndev", d.sources!)
          .set("phandle", plicPhandle);
        break;
    }
  }
  return root;
}

/** The board's device tree as a DTB (with 4 KiB of room for firmware fixups). */
export function boardDtb(spec: BoardSpec): Uint8Array {
  return writeFdt(boardDeviceTree(spec), { bootCpuId: spec.cpus.hartIds[0], padding: 4096 });
}
