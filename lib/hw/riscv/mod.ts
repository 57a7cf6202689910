/**
 * The RISC-V (RV64IMAC) hart and its tools: decoder, interpreter with M/S/U privilege and Sv39,
 * assembler, disassembler and ELF loader.
 *
 * @module
 */
export * from "./alu.ts";
export * from "./csr.ts";
export * from "./decoder.ts";
export * from "./hart.ts";
export * from "./hart_stats.ts";
export * from "./mmu.ts";
export * from "./assembler.ts";
export * from "./disassembler.ts";
export * from "./elf.ts";
export type { BlockFn } from "./jit.ts";
export type * from "../bus.ts";
