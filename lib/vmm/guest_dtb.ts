/**
 * The device tree a guest sees when its config gives no `dtb_path` (guest-abi.md): CPUs with
 * their interrupt controllers, timebase, memory, `/chosen`, and every emulated or passthrough
 * device with `compatible`, `reg` and `interrupts`.
 *
 * @module
 */

import { cells64, FdtNode, writeFdt } from "../hw/fdt/mod.ts";
import { ISA_BASE, isaExtensionNames, isaString } from "../hw/riscv/isa.ts";

/** A device as the guest device tree describes it. */
export interface GuestDtbDevice {
  /** Node name prefix, e.g. `serial`, `plic`, `ivc`. */
  node: string;
  /** `compatible` strings. */
  compatible: string[];
  /** Guest-physical base. */
  base: number;
  /** Window size. */
  size: number;
  /** Interrupt (PLIC source), 0 when none. */
  irq: number;
  /** Extra properties. */
  props?: Record<string, number | string | number[] | true>;
  /** Whether this is the interrupt controller of the VM (a PLIC). */
  interruptController?: boolean;
  /** Whether this is the console (stdout-path). */
  console?: boolean;
}

/** Everything the generator needs. */
export interface GuestDtbInput {
  /** VM name (used in `model`). */
  name: string;
  /** Hart id of each vCPU. */
  hartIds: number[];
  /** Timebase frequency in Hz. */
  timebaseHz: number;
  /** Which optional extensions the vCPUs offer (Sstc), for `riscv,isa*`; default all. */
  isa?: { sstc?: boolean };
  /** RAM regions (GPA, size). */
  memory: { gpa: number; size: number }[];
  /** Reserved regions (GPA, size), listed under /reserved-memory. */
  reserved: { gpa: number; size: number }[];
  /** Devices. */
  devices: GuestDtbDevice[];
  /** Kernel command line. */
  bootargs?: string;
  /** Ramdisk range. */
  initrd?: { start: number; end: number };
  /**
   * `/chosen/rng-seed`: bytes Linux adds to its entropy pool at boot, so its random pool is
   * initialised at once and `getrandom()` never blocks (see {@linkcode guestRngSeed}).
   */
  rngSeed?: Uint8Array;
}

/** Size of the `rng-seed` the VMM gives a guest (Linux credits up to 64 bytes). */
export const RNG_SEED_BYTES = 64;

/**
 * A `rng-seed` for one boot of a VM: derived from its id, name and boot number, so the same run
 * gives the same seed (the warp clock's determinism), or, with `random`, drawn from the host's
 * cryptographic generator.
 */
export function guestRngSeed(
  vm: { id: number; name: string; boots: number },
  random = false,
): Uint8Array {
  const out = new Uint8Array(RNG_SEED_BYTES);
  if (random) return crypto.getRandomValues(out);
  // FNV-1a over the identity, then splitmix64 to spread it over the bytes.
  let h = 0xcbf29ce484222325n;
  for (const c of new TextEncoder().encode(`${vm.id}\0${vm.name}\0${vm.boots}`)) {
    h = BigInt.asUintN(64, (h ^ BigInt(c)) * 0x100000001b3n);
  }
  for (let i = 0; i < RNG_SEED_BYTES; i += 8) {
    h = BigInt.asUintN(64, h + 0x9e3779b97f4a7c15n);
    let z = h;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    z ^= z >> 31n;
    for (let k = 0; k < 8; k++) out[i + k] = Number((z >> BigInt(8 * k)) & 0xffn);
  }
  return out;
}

const hexName = (n: number) => n.toString(16);

/** Builds the guest's device tree blob. */
export function buildGuestDtb(input: GuestDtbInput): Uint8Array {
  const root = new FdtNode();
  root.set("#address-cells", 2).set("#size-cells", 2);
  root.set("compatible", ["axvisor,riscv-virt", "riscv-virtio"]);
  root.set("model", `axvisor.ts guest ${input.name}`);

  const chosen = root.add("chosen");
  if (input.bootargs !== undefined) chosen.set("bootargs", input.bootargs);
  if (input.initrd) {
    chosen.set("linux,initrd-start", BigInt(input.initrd.start));
    chosen.set("linux,initrd-end", BigInt(input.initrd.end));
  }
  if (input.rngSeed) chosen.set("rng-seed", input.rngSeed);

  const cpus = root.add("cpus");
  cpus.set("#address-cells", 1).set("#size-cells", 0);
  cpus.set("timebase-frequency", input.timebaseHz);
  let phandle = 1;
  const intcPhandles: number[] = [];
  for (const hartId of input.hartIds) {
    const cpu = cpus.add(`cpu@${hexName(hartId)}`);
    cpu.set("device_type", "cpu").set("reg", hartId).set("status", "okay");
    cpu.set("compatible", "riscv").set("riscv,isa", isaString(input.isa));
    cpu.set("riscv,isa-base", ISA_BASE);
    cpu.set("riscv,isa-extensions", isaExtensionNames(input.isa));
    cpu.set("mmu-type", "riscv,sv39");
    const intc = cpu.add("interrupt-controller");
    intc.set("#address-cells", 0).set("#interrupt-cells", 1).set("interrupt-controller", true);
    intc.set("compatible", "riscv,cpu-intc").set("phandle", phandle);
    intcPhandles.push(phandle++);
  }
  // The topology Linux reads (cpu-map): one cluster, one core per vCPU.
  const cluster = cpus.add("cpu-map").add("cluster0");
  input.hartIds.forEach((hartId, i) => {
    const cpuPhandle = phandle++;
    cpus.child(`cpu@${hexName(hartId)}`)!.set("phandle", cpuPhandle);
    cluster.add(`core${i}`).set("cpu", cpuPhandle);
  });

  for (const m of input.memory) {
    const mem = root.add(`memory@${hexName(m.gpa)}`);
    mem.set("device_type", "memory").set("reg", [...cells64(m.gpa), ...cells64(m.size)]);
  }
  if (input.reserved.length > 0) {
    const rm = root.add("reserved-memory");
    rm.set("#address-cells", 2).set("#size-cells", 2).set("ranges", true);
    for (const r of input.reserved) {
      rm.add(`reserved@${hexName(r.gpa)}`).set("reg", [...cells64(r.gpa), ...cells64(r.size)])
        .set("no-map", true);
    }
  }

  const soc = root.add("soc");
  soc.set("#address-cells", 2).set("#size-cells", 2);
  soc.set("compatible", "simple-bus").set("ranges", true);
  const plic = input.devices.find((d) => d.interruptController);
  const plicPhandle = plic ? phandle++ : 0;
  for (const d of [...input.devices].sort((a, b) => a.base - b.base)) {
    const node = soc.add(`${d.node}@${hexName(d.base)}`);
    node.set("compatible", d.compatible);
    node.set("reg", [...cells64(d.base), ...cells64(d.size)]);
    if (d.interruptController) {
      node.set("#interrupt-cells", 1).set("#address-cells", 0).set("interrupt-controller", true);
      node.set("interrupts-extended", intcPhandles.flatMap((p) => [p, 9]));
      node.set("phandle", plicPhandle);
    } else if (d.irq > 0 && plic) {
      node.set("interrupts", d.irq).set("interrupt-parent", plicPhandle);
    }
    for (const [k, v] of Object.entries(d.props ?? {})) node.set(k, v);
    if (d.console) chosen.set("stdout-path", `/soc/${node.name}`);
  }
  return writeFdt(root);
}
