/**
 * axvisor.ts: an emulated AxVisor hypervisor toolkit for Deno.
 *
 * @module
 */
export * from "./lib/vmm/filesystem.ts";
export * from "./lib/hw/device.ts";
