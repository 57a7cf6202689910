/**
 * Emulated hardware: sparse memory, the bus, the device contract, devices, device trees, boards
 * and the {@linkcode Machine}, and the RISC-V hart.
 *
 * @module
 */
export * from "./memory.ts";
export * from "./bus.ts";
export * from "./device.ts";
export * from "./devices/mod.ts";
export * from "./fdt/mod.ts";
export * from "./boards/mod.ts";
export * from "./riscv/mod.ts";
