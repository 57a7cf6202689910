/**
 * Boards: TOML board descriptions ({@linkcode parseBoard}, {@linkcode loadBoard}), the built-in
 * boards (`qemu-virt`, `server-64`, `compact-2`), each board's device tree, and the
 * {@linkcode Machine} that instantiates a board and runs firmware on it.
 *
 * @module
 */
export * from "./spec.ts";
export * from "./device_kinds.ts";
export * from "./builtin.ts";
export * from "./load.ts";
export * from "./device_tree.ts";
export * from "./machine.ts";
// Types the board API refers to, re-exported (types only) so that this module documents on its own.
export type * from "../bus.ts";
export type * from "../memory.ts";
export type * from "../device.ts";
export type * from "../riscv/mod.ts";
export type * from "../fdt/mod.ts";
export type * from "../devices/mod.ts";
