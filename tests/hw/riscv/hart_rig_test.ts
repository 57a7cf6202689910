/**
 * A small rig for hart tests (no tests of its own; the hart_*, privilege_* and mmu_* test files
 * import it): assembles a program with our assembler at 0x8000_0000, maps 16 MiB of RAM, creates
 * a hart in M-mode at `_start` and runs it until the `done` label. Also the assembly snippets that
 * switch privilege mode ({@linkcode enterS}, {@linkcode enterU}, {@linkcode sretToU}).
 */
import { Bus } from "../../../lib/hw/bus.ts";
import { SparseMemory } from "../../../lib/hw/memory.ts";
import { assemble } from "../../../lib/hw/riscv/assembler.ts";
import { Hart, type HartOptions, StopReason } from "../../../lib/hw/riscv/hart.ts";
import { ABI_REGISTER_NAMES } from "../../../lib/hw/riscv/isa_table.ts";

/** RAM base of the rig. */
export const RAM_BASE = 0x8000_0000;

/** A machine with one hart and a program loaded. */
export interface Rig {
  /** The hart, reset to `_start` in M-mode. */
  hart: Hart;
  /** The bus with the RAM mapped at {@linkcode RAM_BASE} (and any devices the test mapped). */
  bus: Bus;
  /** The 16 MiB of RAM holding the program. */
  memory: SparseMemory;
  /** Address of a symbol of the program. */
  sym(name: string): number;
  /** Runs until pc reaches `done` (returns the last stop reason); fails after `max` instructions. */
  runToDone(max?: number): number;
  /** Runs one instruction at a time until pc reaches the label (or fails after `max`). */
  runTo(name: string, max?: number): void;
  /** Register by ABI name or number, unsigned. */
  x(reg: string | number): bigint;
  /** 64-bit little-endian value at a symbol plus offset. */
  mem64(name: string, offset?: number): bigint;
}

/** Builds a rig for `source` (must define `_start` and `done: j done`). */
export function rig(source: string, options: Partial<HartOptions> = {}): Rig {
  const program = assemble(source, { origin: RAM_BASE, fileName: "test.S" });
  const memory = new SparseMemory(16 * 1024 * 1024);
  const bus = options.bus ?? new Bus();
  bus.mapRam(RAM_BASE, memory.size, memory);
  bus.writeBytes(program.origin, program.image);
  const hart = new Hart({ hartId: 0, ...options, bus });
  const sym = (name: string): number => {
    const v = program.symbols.get(name);
    if (v === undefined) throw new Error(`test program has no symbol ${name}`);
    return v;
  };
  hart.reset(sym("_start"), 3);
  return {
    hart,
    bus,
    memory,
    sym,
    runToDone(max = 1_000_000) {
      const done = sym("done");
      let reason: number = StopReason.Budget;
      let left = max;
      while (hart.pc !== done) {
        if (left <= 0) {
          throw new Error(
            `program did not reach done within ${max} instructions: pc 0x${
              hart.pc.toString(16)
            }, ` +
              `mcause ${hart.readCsr(0x342)}, mepc 0x${hart.readCsr(0x341).toString(16)}`,
          );
        }
        reason = hart.run(Math.min(left, 10_000));
        left -= Math.max(1, hart.lastRunInstructions);
        if (reason !== StopReason.Budget && hart.pc !== done) return reason;
      }
      return reason;
    },
    runTo(name, max = 10_000) {
      const at = sym(name);
      for (let i = 0; i < max && hart.pc !== at; i++) hart.run(1);
      if (hart.pc !== at) {
        throw new Error(`pc 0x${hart.pc.toString(16)} did not reach ${name} within ${max} steps`);
      }
    },
    x(reg) {
      return hart.getX(typeof reg === "number" ? reg : ABI_REGISTER_NAMES.indexOf(reg));
    },
    mem64(name, offset = 0) {
      return bus.read64(sym(name) + offset)!;
    },
  };
}

/** Unsigned 64-bit value of a signed bigint. */
export const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/** Assembly that leaves M-mode for S-mode at label `to` (MPP = S, mepc = `to`, mret). */
export const enterS = (to: string): string => `
  li t0, 0x1800
  csrc mstatus, t0
  li t0, 0x800
  csrs mstatus, t0
  la t0, ${to}
  csrw mepc, t0
  mret
`;

/** Assembly that leaves M-mode for U-mode at label `to` (MPP = U, mepc = `to`, mret). */
export const enterU = (to: string): string => `
  li t0, 0x1800
  csrc mstatus, t0
  la t0, ${to}
  csrw mepc, t0
  mret
`;

/** Assembly that leaves S-mode for U-mode at label `to` (SPP = U, sepc = `to`, sret). */
export const sretToU = (to: string): string => `
  la t0, ${to}
  csrw sepc, t0
  li t0, 0x100
  csrc sstatus, t0
  sret
`;
