/**
 * Priming of the interpreter's type feedback, once per process.
 *
 * V8 optimizes `Hart.run()` (one large function) with the type feedback its sites have gathered
 * so far; a site that has never run has none, and the optimized code leaves for the bytecode
 * interpreter (a deoptimization) the first time it reaches one. A Linux boot first reaches many
 * integer ops (SRLW, MULW, DIVUW, ...) and slow paths (a TLB miss of a halfword load, a branch out
 * of the page) only after `run()` was optimized: each such first use threw the optimized code away
 * and ran the loop in lower tiers until V8 had optimized it again (18 optimized recompiles per
 * boot). Running every integer op of the table once, in both outcomes of each branch, at the
 * start and at the end of a page, before any guest runs, gives every such site its feedback.
 *
 * It runs on a private hart with its own bus and RAM (no compiled blocks, no shared state).
 *
 * @module
 */

import { Bus } from "../bus.ts";
import { SparseMemory } from "../memory.ts";
import { INT_OPS } from "./int_ops.ts";
import { INSTRUCTIONS } from "./isa_table.ts";

/** The part of a hart the priming uses. */
export interface PrimedHart {
  /** Program counter. */
  pc: number;
  /** Executes at most `budget` instructions. */
  run(budget: number): number;
  /** Sets x`i`. */
  setX(i: number, value: bigint): void;
  /** Instructions retired. */
  readonly instret: number;
}

const RAM = 0x8000_0000;
const DATA = RAM + 0x38_0000;

/**
 * The 32-bit encoding of each integer op of the table with rd = x5, rs1 = x6 (x9 for loads and
 * stores, x8 for jalr), rs2 = x7 and a small immediate (4 for branches and jal: the next
 * instruction, so that taken and not taken both go on).
 */
export function primingWords(): number[] {
  const words: number[] = [];
  for (const spec of INT_OPS) {
    const row = INSTRUCTIONS.find((r) => r.op === spec.op && r.length === 4 && !r.alias);
    if (row === undefined) continue;
    let w = row.match;
    switch (spec.kind) {
      case "branch":
        w |= (6 << 15) | (7 << 20) | (2 << 8);
        break;
      case "jump":
        w |= row.mnemonic === "jal" ? (5 << 7) | (2 << 21) : (5 << 7) | (8 << 15);
        break;
      case "load":
        w |= (5 << 7) | (9 << 15);
        break;
      case "store":
        w |= (9 << 15) | (7 << 20);
        break;
      case "nop":
        break;
      default:
        w |= (5 << 7) | (6 << 15) | (7 << 20);
    }
    // Only bits the row leaves free: reserved fields stay as the row says.
    words.push(((w & ~row.mask) | row.match) >>> 0);
  }
  return words;
}

/**
 * Runs every integer op once per placement (first and last word of a page) and operand set on a
 * hart made by `makeHart` over `bus` (RAM at 0x8000_0000, 4 MiB); returns how many of these
 * instructions retired (all of them: none traps).
 */
export function primeInterpreter(makeHart: (bus: Bus) => PrimedHart): number {
  const memory = new SparseMemory(4 << 20);
  const bus = new Bus();
  bus.mapRam(RAM, memory.size, memory);
  const hart = makeHart(bus);
  const words = primingWords();
  const operands: [bigint, bigint][] = [[3n, 3n], [-5n, 7n], [0x1_2345_6789n, 2n]];
  let page = 0;
  for (const at of [0, 4092]) {
    for (const [a, b] of operands) {
      for (const w of words) {
        const pc = RAM + page * 4096 + at;
        page++;
        const bytes = new Uint8Array(4);
        new DataView(bytes.buffer).setUint32(0, w, true);
        bus.writeBytes(pc, bytes);
        hart.setX(6, a);
        hart.setX(7, b);
        hart.setX(8, BigInt(pc + 4));
        hart.setX(9, BigInt(DATA + (page & 7) * 2));
        hart.pc = pc;
        hart.run(1);
      }
    }
  }
  return hart.instret;
}
