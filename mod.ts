/**
 * axvisor.ts: an emulated AxVisor hypervisor toolkit for Deno.
 *
 * The VMM core (hypervisor, VMs, vCPUs, configs, consoles, events, virtual time, the background
 * driver, an in-memory filesystem) and the emulated hardware (memory, bus, devices, device
 * trees, boards, the RISC-V hart, assembler and ELF loader).
 *
 * ```ts ignore
 * import { Hypervisor, loadBoard, MemoryFileSystem } from "./mod.ts";
 * const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs: new MemoryFileSystem({}) });
 * ```
 *
 * @module
 */
export * from "./lib/vmm/mod.ts";
export * from "./lib/hw/mod.ts";
