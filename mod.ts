/**
 * axvisor.ts: an emulated AxVisor hypervisor toolkit for Deno.
 *
 * - The VMM core: hypervisor, VMs, vCPUs, configs, consoles, events, virtual time, the
 *   background driver, an in-memory filesystem (lib/vmm).
 * - The emulated hardware: memory, bus, devices, device trees, boards, the RISC-V hart,
 *   assembler, disassembler and ELF loader (lib/hw).
 * - The shell: AxVisor's command framework and every command (lib/shell).
 * - The serial-console protocol: sessions over stdio and TCP, human and JSON modes, the
 *   host-backed sandboxed filesystem (lib/protocol).
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
export * from "./lib/shell/mod.ts";
export * from "./lib/protocol/mod.ts";
