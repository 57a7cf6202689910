/**
 * The VMM core: the hypervisor, its VMs, vCPUs, configs, consoles, events, virtual time and the
 * background driver.
 *
 * ```ts ignore
 * import { Hypervisor, MemoryFileSystem, loadBoard } from "../../mod.ts";
 * const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs: new MemoryFileSystem({}) });
 * const vm = hv.createVm({ path: "/configs/hello.toml" });
 * hv.startVm(vm.id);
 * hv.runUntil(() => vm.console.text().includes("Hello"), 1e9);
 * ```
 *
 * @module
 */
export * from "./clock.ts";
export * from "./config.ts";
export * from "./console.ts";
export * from "./console_wait.ts";
export * from "./cpio.ts";
export * from "./driver.ts";
export * from "./events.ts";
export * from "./exit_handler.ts";
export * from "./exit_reason.ts";
export * from "./filesystem.ts";
export * from "./guest_dtb.ts";
export * from "./guest_paging.ts";
export * from "./host_memory.ts";
export * from "./hypercall_handler.ts";
export * from "./hypervisor.ts";
export * from "./image_loader.ts";
export * from "./initramfs.ts";
export * from "./ivc.ts";
export * from "./lifecycle.ts";
export * from "./memory_filesystem.ts";
export * from "./persist.ts";
export * from "./sbi.ts";
export * from "./sbi_dispatcher.ts";
export * from "./sbi_hsm.ts";
export * from "./scheduler.ts";
export * from "./snapshot_file.ts";
export * from "./snapshot_types.ts";
export * from "./status.ts";
export * from "./vcpu.ts";
export * from "./vcpu_interrupts.ts";
export * from "./vm.ts";
export * from "./vm_builder.ts";
export * from "./vm_list.ts";
export * from "./vm_name.ts";
