/**
 * A seeded, deterministic generator of random RV64IMAC + Zicsr test programs for differential
 * testing (see `qemu_differential_test.ts`).
 *
 * A program is bare M-mode firmware for QEMU's `virt` machine (`-bios none`, entry 0x8000_0000):
 *
 * - a prologue installs a trap handler, opens PMP for S-mode, and sets every register;
 * - random blocks of items follow: ALU ops (with W forms and edge immediates), mul/div/rem with
 *   edge operands (0, -1, INT_MIN), loads and stores of every width, LR/SC and AMOs on a scratch
 *   RAM area, compressed instructions, forward branches and jumps, CSR accesses, traps (ecall,
 *   ebreak, illegal instructions, misaligned atomics) and S-mode excursions under Sv39 paging;
 * - an epilogue prints every register, a few CSRs, a checksum of the scratch area and page
 *   tables, and the trap log as hex on the UART (polling LSR), then writes 0x5555 to the
 *   SiFive test finisher.
 *
 * The M-mode trap handler appends `(mcause, mepc - 0x8000_0000, mtval)` to a log in RAM, returns
 * to M-mode after an ecall from S-mode, and skips the trapping instruction (2 or 4 bytes).
 *
 * Reserved registers: `gp` (x3) points into the scratch area and `tp` (x4) at the trap frame;
 * random code never writes them.
 *
 * Some blocks run in a loop ({@linkcode LOOP_ITERATIONS} times, counter in the trap frame) so
 * that a JIT compiles them; those take no traps.
 *
 * QEMU 7.2 (the oracle) departs from the privileged specification in a few places; the generator
 * stays clear of them: mstatus writes never set MPP[1] (QEMU keeps the reserved MPP = 2), the
 * S-mode excursion clears MPRV before its mret (QEMU 7.2 does not clear it on mret to S), AMOs
 * in S-mode only go to writable or already-accessed pages (QEMU sets A before the write check),
 * stvec never gets a reserved mode and mepc/sepc only even values (QEMU keeps sepc[0]).
 *
 * Each block draws from its own PRNG stream (derived from the seed and the block index), so the
 * program made of the first `k` blocks of a seed is a prefix of the full program: this is what
 * the minimiser bisects on.
 *
 * @module
 */

/** Load address and entry point of every program. */
export const ORIGIN = 0x8000_0000;
/** Scratch RAM area: 4 pages, initialised with random doublewords, target of loads and stores. */
export const SCRATCH = 0x8000_1000;
/** Size of the scratch area in bytes. */
export const SCRATCH_SIZE = 4 * 4096;
/** Sv39 page tables: root, level-1 and level-0 tables (3 pages, included in the checksum). */
export const PAGE_TABLES = 0x8000_5000;
/** Trap frame (saved t0..t2 and the log pointer) and the register dump. */
export const FRAME = 0x8000_8000;
/** Trap log: 24-byte entries (mcause, mepc offset, mtval). */
export const TRAP_LOG = 0x8000_9000;
/** Most trap log entries a program may produce. */
export const MAX_TRAPS = 1000;
/** Where the code after the data starts. */
export const CODE = 0x8001_0000;
/** Virtual base of the pages mapped by the Sv39 tables (VPN2 = 1, one level-0 table). */
export const VIRTUAL_BASE = 0x4000_0000;
/** Number of 4 KiB virtual pages mapped at {@linkcode VIRTUAL_BASE}. */
export const VIRTUAL_PAGES = 8;

/** Iterations of a looped block: above the hart's default JIT threshold (24). */
export const LOOP_ITERATIONS = 30;

/** UART (NS16550A) and SiFive test finisher of the virt machine. */
const UART = 0x1000_0000;
const FINISHER = 0x10_0000;

/** The kinds of items a block is made of. */
export const FEATURES = [
  "alu",
  "muldiv",
  "memory",
  "atomic",
  "compressed",
  "branch",
  "csr",
  "trap",
  "sv39",
  "smc",
  "bitmanip",
  "fp",
] as const;

/** One kind of item (see {@linkcode FEATURES}). */
export type Feature = typeof FEATURES[number];

/** One self-contained piece of a block: assembly lines (labels inside are local `1:`/`1f`). */
export interface Item {
  /** What the item exercises. */
  feature: Feature;
  /** GNU assembler lines. */
  lines: string[];
}

/** A generated program, as data that can be rendered again after minimisation. */
export interface RandomProgram {
  /** The seed it was generated from. */
  seed: number;
  /** Initial values of x1..x31 (index 0 unused; gp and tp are overwritten by the prologue). */
  registers: bigint[];
  /** Initial scratch contents, one doubleword per entry. */
  scratch: bigint[];
  /** Leaf PTE flag bits of each virtual page (V, R, W, X, U, A, D). */
  pageFlags: number[];
  /** The random blocks. */
  blocks: Item[][];
  /**
   * How many times each block runs (1, or {@linkcode LOOP_ITERATIONS} for blocks wrapped in a
   * loop so that the hart's second tier compiles them).
   */
  loops: number[];
  /** Whether F/D is on (see {@linkcode ProgramOptions.fp}). */
  fp?: boolean;
}

/** Options of {@linkcode generateProgram}. */
export interface ProgramOptions {
  /** Number of blocks (default 64). */
  blocks?: number;
  /** Items per block: a random count in [min, max] (default [8, 24]). */
  itemsPerBlock?: [number, number];
  /** Share of blocks wrapped in a loop of {@linkcode LOOP_ITERATIONS} (default 0.1). */
  loopShare?: number;
  /** Features to leave out (default none). */
  exclude?: readonly Feature[];
  /**
   * Generate F/D items (the prologue then sets mstatus.FS = Dirty and loads the FP registers).
   * Default false. Items use every rounding mode, the fused multiply-add family, and read and
   * clear fflags, so the exact FPU's results and flags are compared with QEMU's.
   */
  fp?: boolean;
}

/** A small deterministic PRNG (mulberry32). */
export class Prng {
  #state: number;
  /** Starts the stream at `seed` (any integer). */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** The next 32 random bits as an unsigned integer. */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** A random integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor((this.next() / 4294967296) * (hi - lo + 1));
  }
  /** A random element of `list`. */
  pick<T>(list: readonly T[]): T {
    return list[this.int(0, list.length - 1)];
  }
  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }
  /** 64 random bits. */
  u64(): bigint {
    return (BigInt(this.next()) << 32n) | BigInt(this.next());
  }
}

/** Mixes a seed and a stream index into a new 32-bit seed (splitmix-style). */
function subSeed(seed: number, index: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
/** 64-bit values at the edges of the arithmetic. */
const EDGE_VALUES: readonly bigint[] = [
  0n,
  1n,
  -1n,
  2n,
  -2n,
  INT64_MIN,
  INT64_MAX,
  0x7fff_ffffn,
  0x8000_0000n,
  0xffff_ffffn,
  -0x8000_0000n,
  0x1_0000_0000n,
  0x8000n,
  0xffffn,
  0x7ffn,
  -0x800n,
  31n,
  32n,
  63n,
  64n,
  0x5555_5555_5555_5555n,
  -0x5555_5555_5555_5556n,
];
const EDGE_IMM12 = [-2048, -2047, -1, 0, 1, 2, 31, 32, 63, 2046, 2047];

/** Registers random code may read and write: all but x0 (rd only sometimes), gp and tp. */
const WRITABLE = [1, 2, ...Array.from({ length: 27 }, (_, i) => i + 5)];
/** The registers of compressed 3-bit fields. */
const CREG = [8, 9, 10, 11, 12, 13, 14, 15];

const x = (i: number) => `x${i}`;
const hex = (v: bigint | number) =>
  typeof v === "bigint"
    ? (v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`)
    : (v < 0 ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`);

/** mstatus bits random code may set or clear (see the module comment of the test). */
// Bit 12 (MPP[1]) is left out: MPP = 2 is reserved, and QEMU 7.2 keeps it where we legalise.
const MSTATUS_BITS = [1, 3, 5, 7, 8, 11, 17, 18, 19, 20, 21, 22];
const SSTATUS_BITS = [1, 5, 8, 18, 19];

const R_OPS = [
  "add",
  "sub",
  "sll",
  "slt",
  "sltu",
  "xor",
  "srl",
  "sra",
  "or",
  "and",
  "addw",
  "subw",
  "sllw",
  "srlw",
  "sraw",
];
const I_OPS = ["addi", "slti", "sltiu", "xori", "ori", "andi", "addiw"];
/** Initial FP register values: exact, signed zeros, infinities, a NaN, large and small. */
const FP_VALUES = [
  0,
  -0,
  1,
  -1,
  0.5,
  1.5,
  -2.25,
  3,
  10,
  1e10,
  -1e-5,
  2.5,
  Infinity,
  -Infinity,
  NaN,
  4294967296.5,
  -3.75,
  0.1,
];
const B_RR_OPS = [
  "sh1add",
  "sh2add",
  "sh3add",
  "sh1add.uw",
  "sh2add.uw",
  "sh3add.uw",
  "add.uw",
  "andn",
  "orn",
  "xnor",
  "max",
  "maxu",
  "min",
  "minu",
  "rol",
  "ror",
  "rolw",
  "rorw",
  "bclr",
  "bset",
  "binv",
  "bext",
];
const B_UNARY_OPS = [
  "clz",
  "ctz",
  "cpop",
  "clzw",
  "cpopw",
  "sext.b",
  "sext.h",
  "zext.h",
  "orc.b",
  "rev8",
]; // ctzw is left out: QEMU 7.2 gets ctzw of 0x8000000000000000 wrong (63, not 32)
const B_IMM_OPS: [string, number][] = [
  ["slli.uw", 63],
  ["rori", 63],
  ["roriw", 31],
  ["bclri", 63],
  ["bseti", 63],
  ["binvi", 63],
  ["bexti", 63],
];
const SHIFT_OPS = ["slli", "srli", "srai"];
const SHIFTW_OPS = ["slliw", "srliw", "sraiw"];
const M_OPS = [
  "mul",
  "mulh",
  "mulhsu",
  "mulhu",
  "mulw",
  "div",
  "divu",
  "rem",
  "remu",
  "divw",
  "divuw",
  "remw",
  "remuw",
];
const DIV_OPS = ["div", "divu", "rem", "remu", "divw", "divuw", "remw", "remuw"];
const LOADS: [string, number][] = [
  ["lb", 1],
  ["lbu", 1],
  ["lh", 2],
  ["lhu", 2],
  ["lw", 4],
  ["lwu", 4],
  ["ld", 8],
];
const STORES: [string, number][] = [["sb", 1], ["sh", 2], ["sw", 4], ["sd", 8]];
const AMO_OPS = [
  "amoswap",
  "amoadd",
  "amoxor",
  "amoand",
  "amoor",
  "amomin",
  "amomax",
  "amominu",
  "amomaxu",
];
const AMO_ORDER = ["", ".aq", ".rl", ".aqrl"];
const BRANCHES = ["beq", "bne", "blt", "bge", "bltu", "bgeu"];
/** Encodings that are illegal on both sides (no F/D, no custom extensions, read-only CSRs). */
const ILLEGAL = [
  ".2byte 0x0000", // c.unimp
  ".4byte 0x00000000",
  ".4byte 0xffffffff",
  ".4byte 0xc0001073", // csrrw x0, cycle, x0: write to a read-only CSR
  ".4byte 0xf1101073", // csrrw x0, mvendorid, x0
  ".4byte 0x00b50553", // fadd.s: mstatus.FS is Off
  ".2byte 0x2000", // c.fld: mstatus.FS is Off
  ".4byte 0x0000000b", // custom-0
  ".4byte 0x30200073 | (1 << 20)", // mret with rs2 = 1: reserved SYSTEM encoding
];

/** Item generators by feature. Each returns the lines of one item. */
class BlockWriter {
  constructor(readonly r: Prng, readonly pageFlags: readonly number[] = []) {}

  rd(): string {
    return x(this.r.chance(0.03) ? 0 : this.r.pick(WRITABLE));
  }
  rs(): string {
    return x(this.r.chance(0.05) ? 0 : this.r.pick([...WRITABLE, 3, 4]));
  }
  wreg(): number {
    return this.r.pick(WRITABLE);
  }
  imm12(): number {
    return this.r.chance(0.4) ? this.r.pick(EDGE_IMM12) : this.r.int(-2048, 2047);
  }
  value(): bigint {
    const r = this.r;
    if (r.chance(0.5)) return r.pick(EDGE_VALUES);
    if (r.chance(0.3)) return BigInt(r.int(-5000, 5000));
    return BigInt.asIntN(64, r.u64());
  }
  /** An aligned address in the scratch area for an access of `width` bytes. */
  scratchAddress(width: number): number {
    return SCRATCH + this.r.int(0, SCRATCH_SIZE / width - 1) * width;
  }

  alu(): string[] {
    const r = this.r;
    switch (r.int(0, 6)) {
      case 0:
      case 1:
        return [`${r.pick(R_OPS)} ${this.rd()}, ${this.rs()}, ${this.rs()}`];
      case 2:
        return [`${r.pick(I_OPS)} ${this.rd()}, ${this.rs()}, ${this.imm12()}`];
      case 3:
        return r.chance(0.5)
          ? [
            `${r.pick(SHIFT_OPS)} ${this.rd()}, ${this.rs()}, ${
              r.pick([0, 1, 31, 32, 63, r.int(0, 63)])
            }`,
          ]
          : [
            `${r.pick(SHIFTW_OPS)} ${this.rd()}, ${this.rs()}, ${
              r.pick([0, 1, 15, 31, r.int(0, 31)])
            }`,
          ];
      case 4:
        return [
          `${r.pick(["lui", "auipc"])} ${this.rd()}, ${
            r.pick([0, 1, 0x7ffff, 0x80000, 0xfffff, r.int(0, 0xfffff)])
          }`,
        ];
      case 5:
        return [`li ${this.rd()}, ${hex(this.value())}`];
      default:
        // W forms with edge operands
        return r.chance(0.5)
          ? [
            `${
              r.pick(["addw", "subw", "sllw", "srlw", "sraw"])
            } ${this.rd()}, ${this.rs()}, ${this.rs()}`,
          ]
          : [`addiw ${this.rd()}, ${this.rs()}, ${this.imm12()}`];
    }
  }

  /** F and D: simple operations whose result is exposed in an integer register. */
  fp(): string[] {
    const r = this.r;
    const f = () => `f${r.int(0, 31)}`;
    const s = r.pick(["s", "d"]);
    const fd = f();
    const show = `fmv.x.${s === "s" ? "w" : "d"} ${this.rd()}, ${fd}`;
    const rm = () => r.chance(0.5) ? "" : `, ${r.pick(["rne", "rtz", "rdn", "rup", "rmm"])}`;
    switch (r.int(0, 11)) {
      case 10:
        return [
          `${
            r.pick(["fmadd", "fmsub", "fnmsub", "fnmadd"])
          }.${s} ${fd}, ${f()}, ${f()}, ${f()}${rm()}`,
          show,
        ];
      case 11:
        // Read and clear the accrued flags: every earlier FP item's flags are compared.
        return [`csrrw ${this.rd()}, fflags, x0`];
      case 0:
      case 1:
        return [
          `${r.pick(["fadd", "fsub", "fmul", "fdiv"])}.${s} ${fd}, ${f()}, ${f()}${rm()}`,
          show,
        ];
      case 2:
        return [
          `${r.pick(["fsgnj", "fsgnjn", "fsgnjx", "fmin", "fmax"])}.${s} ${fd}, ${f()}, ${f()}`,
          show,
        ];
      case 3:
        return [`fsqrt.${s} ${fd}, ${f()}${rm()}`, show];
      case 4:
        return [`${r.pick(["feq", "flt", "fle"])}.${s} ${this.rd()}, ${f()}, ${f()}`];
      case 5:
        return [`fclass.${s} ${this.rd()}, ${f()}`];
      case 6:
        return [
          `fcvt.${r.pick(["w", "wu", "l", "lu"])}.${s} ${this.rd()}, ${f()}, ${
            r.pick(["rne", "rtz", "rdn", "rup", "rmm"])
          }`,
        ];
      case 7:
        return r.chance(0.5)
          ? [
            `fcvt.d.${r.pick(["w", "wu", "l", "lu"])} ${fd}, ${this.rs()}`,
            `fmv.x.d ${this.rd()}, ${fd}`,
          ]
          : [`fcvt.s.${r.pick(["w", "wu"])} ${fd}, ${this.rs()}`, `fmv.x.w ${this.rd()}, ${fd}`];
      case 8:
        return [
          r.chance(0.5) ? `fcvt.s.d ${fd}, ${f()}` : `fcvt.d.s ${fd}, ${f()}`,
          `fmv.x.d ${this.rd()}, ${fd}`,
        ];
      default: {
        const off = r.int(-256, 255) * 8;
        return r.chance(0.5)
          ? [`fsd ${f()}, ${off}(gp)`, `ld ${this.rd()}, ${off}(gp)`]
          : [`fld ${fd}, ${off}(gp)`, `fmv.x.d ${this.rd()}, ${fd}`];
      }
    }
  }

  /** Zba, Zbb, Zbs (Zicond is left out: the installed binutils and QEMU predate it). */
  bitmanip(): string[] {
    const r = this.r;
    if (r.chance(0.5)) return [`${r.pick(B_RR_OPS)} ${this.rd()}, ${this.rs()}, ${this.rs()}`];
    if (r.chance(0.5)) return [`${r.pick(B_UNARY_OPS)} ${this.rd()}, ${this.rs()}`];
    const [op, max] = r.pick(B_IMM_OPS);
    return [`${op} ${this.rd()}, ${this.rs()}, ${r.pick([0, 1, max >> 1, max, r.int(0, max)])}`];
  }

  muldiv(): string[] {
    const r = this.r;
    if (r.chance(0.4)) {
      // Edge operands: INT_MIN / -1, x / 0, ...
      const a = this.wreg();
      let b = this.wreg();
      while (b === a) b = this.wreg();
      const dividend = r.pick([INT64_MIN, -0x8000_0000n, -1n, 0n, 1n, INT64_MAX, this.value()]);
      const divisor = r.pick([0n, -1n, 1n, INT64_MIN, -0x8000_0000n, 0xffff_ffffn]);
      return [
        `li ${x(a)}, ${hex(dividend)}`,
        `li ${x(b)}, ${hex(divisor)}`,
        `${r.pick(DIV_OPS)} ${this.rd()}, ${x(a)}, ${x(b)}`,
      ];
    }
    return [`${r.pick(M_OPS)} ${this.rd()}, ${this.rs()}, ${this.rs()}`];
  }

  memory(): string[] {
    const r = this.r;
    const load = r.chance(0.5);
    const [op, width] = load ? r.pick(LOADS) : r.pick(STORES);
    let addr = this.scratchAddress(width);
    // Now and then misaligned, also across a page: both QEMU and our hart perform these in RAM
    // (the specification allows that or a trap).
    if (width > 1 && r.chance(0.08)) {
      addr = Math.min(addr + r.int(1, width - 1), SCRATCH + SCRATCH_SIZE - width);
    }
    const data = load ? this.rd() : this.rs();
    if (r.chance(0.3) && Math.abs(addr - (SCRATCH + 2048)) < 2048) {
      // gp-relative (gp = SCRATCH + 2048)
      return [`${op} ${data}, ${addr - SCRATCH - 2048}(gp)`];
    }
    // Any register as the base (sp gives c.ldsp/c.sdsp forms, x8..x15 c.ld/c.sd forms).
    const base = this.wreg();
    const off = r.int(-256, 255) * width;
    return [`li ${x(base)}, ${hex(addr - off)}`, `${op} ${data}, ${off}(${x(base)})`];
  }

  atomic(): string[] {
    const r = this.r;
    const double = r.chance(0.5);
    const width = double ? 8 : 4;
    const suffix = double ? ".d" : ".w";
    const base = this.wreg();
    const addr = this.scratchAddress(width);
    if (r.chance(0.3)) {
      // LR/SC: a successful pair, then an SC without reservation (must fail with 1).
      const lines = [`li ${x(base)}, ${hex(addr)}`];
      let d = this.wreg();
      while (d === base) d = this.wreg();
      lines.push(`lr${suffix}${r.pick(AMO_ORDER)} ${x(d)}, (${x(base)})`);
      for (let i = r.int(0, 2); i > 0; i--) {
        let t = this.wreg();
        while (t === base) t = this.wreg();
        lines.push(`${r.pick(["add", "xor", "sub"])} ${x(t)}, ${this.rs()}, ${this.rs()}`);
      }
      lines.push(`sc${suffix}${r.pick(AMO_ORDER)} ${this.rd()}, ${this.rs()}, (${x(base)})`);
      if (r.chance(0.5)) lines.push(`sc${suffix} ${this.rd()}, ${this.rs()}, (${x(base)})`);
      return lines;
    }
    return [
      `li ${x(base)}, ${hex(addr)}`,
      `${r.pick(AMO_OPS)}${suffix}${r.pick(AMO_ORDER)} ${this.rd()}, ${this.rs()}, (${x(base)})`,
    ];
  }

  compressed(): string[] {
    const r = this.r;
    const nz = (lo: number, hi: number) => {
      let v = 0;
      while (v === 0) v = r.int(lo, hi);
      return v;
    };
    const cr = () => x(r.pick(CREG));
    const wr = () => x(this.wreg());
    switch (r.int(0, 12)) {
      case 0:
        return [`c.addi ${wr()}, ${nz(-32, 31)}`];
      case 1:
        return [`c.addiw ${wr()}, ${r.int(-32, 31)}`];
      case 2:
        return [`c.li ${wr()}, ${r.int(-32, 31)}`];
      case 3: {
        let rd = this.wreg();
        while (rd === 2) rd = this.wreg();
        return [`c.lui ${x(rd)}, ${r.pick([1, 31, 0xfffe0, 0xfffff, r.int(1, 31)])}`];
      }
      case 4:
        return [`c.slli ${wr()}, ${r.pick([1, 31, 32, 63, r.int(1, 63)])}`];
      case 5:
        return [
          `${r.pick(["c.srli", "c.srai"])} ${cr()}, ${r.pick([1, 31, 32, 63, r.int(1, 63)])}`,
        ];
      case 6:
        return [`c.andi ${cr()}, ${r.int(-32, 31)}`];
      case 7:
        return [`${r.pick(["c.mv", "c.add"])} ${wr()}, ${wr()}`];
      case 8:
        return [
          `${r.pick(["c.sub", "c.xor", "c.or", "c.and", "c.subw", "c.addw"])} ${cr()}, ${cr()}`,
        ];
      case 9:
        return [`c.addi16sp sp, ${nz(-32, 31) * 16}`];
      case 10:
        return [`c.addi4spn ${cr()}, sp, ${r.int(1, 255) * 4}`];
      case 11: {
        // c.lw/c.ld/c.sw/c.sd with a base in x8..x15
        const base = r.pick(CREG);
        const double = r.chance(0.5);
        const width = double ? 8 : 4;
        const off = r.int(0, 31) * width;
        const addr = this.scratchAddress(width);
        let data = r.pick(CREG);
        const load = r.chance(0.5);
        if (load) { while (data === base) data = r.pick(CREG); }
        const op = load ? (double ? "c.ld" : "c.lw") : (double ? "c.sd" : "c.sw");
        return [`li ${x(base)}, ${hex(addr - off)}`, `${op} ${x(data)}, ${off}(${x(base)})`];
      }
      default: {
        // sp-relative: c.lwsp/c.ldsp/c.swsp/c.sdsp
        const double = r.chance(0.5);
        const width = double ? 8 : 4;
        const off = r.int(0, 63) * width;
        const addr = this.scratchAddress(width);
        const load = r.chance(0.5);
        let data = this.wreg();
        if (load) { while (data === 2) data = this.wreg(); }
        const op = load ? (double ? "c.ldsp" : "c.lwsp") : (double ? "c.sdsp" : "c.swsp");
        return [`li sp, ${hex(addr - off)}`, `${op} ${x(data)}, ${off}(sp)`];
      }
    }
  }

  /** A short run of simple instructions to jump over. */
  filler(): string[] {
    const lines: string[] = [];
    for (let i = this.r.int(1, 4); i > 0; i--) {
      lines.push(...(this.r.chance(0.3) ? this.compressed().slice(-1) : this.alu()));
    }
    // Keep only single-line fillers that do not need a preceding setup line.
    return lines.filter((l) => !/^c\.(l|s)[wd]/.test(l));
  }

  branch(): string[] {
    const r = this.r;
    const skipped = this.filler();
    switch (r.int(0, 4)) {
      case 0:
      case 1:
        return [`${r.pick(BRANCHES)} ${this.rs()}, ${this.rs()}, 1f`, ...skipped, "1:"];
      case 2:
        return [
          `${r.pick(["c.beqz", "c.bnez"])} ${x(r.pick(CREG))}, 1f`,
          ...skipped,
          "1:",
        ];
      case 3:
        return [`jal ${this.rd()}, 1f`, ...skipped, "1:"];
      default: {
        const t = this.wreg();
        return [`la ${x(t)}, 1f`, `jalr ${this.rd()}, 0(${x(t)})`, ...skipped, "1:"];
      }
    }
  }

  csr(): string[] {
    const r = this.r;
    const kind = r.int(0, 9);
    if (kind <= 2) {
      // mstatus / sstatus with a value made of writable bits
      const s = r.chance(0.3);
      const bits = s ? SSTATUS_BITS : MSTATUS_BITS;
      let v = 0n;
      for (const b of bits) if (r.chance(0.3)) v |= 1n << BigInt(b);
      const t = this.wreg();
      const op = r.pick(["csrrw", "csrrs", "csrrc"]);
      return [
        `li ${x(t)}, ${hex(v)}`,
        `${op} ${this.rd()}, ${s ? "sstatus" : "mstatus"}, ${x(t)}`,
        `csrr ${this.rd()}, ${s ? "sstatus" : "mstatus"}`,
      ];
    }
    const csr = r.pick([
      "mscratch",
      "sscratch",
      "mepc",
      "sepc",
      "mtval",
      "stval",
      "stvec",
      "mscratch",
      "sscratch",
    ]);
    if (kind === 3) return [`csrr ${this.rd()}, ${r.pick([csr, "mhartid", "mstatus", "sstatus"])}`];
    if (kind <= 5) {
      const op = r.pick(["csrrwi", "csrrsi", "csrrci"]);
      // stvec: no reserved mode (2, 3); mepc/sepc: bit 0 (QEMU 7.2 keeps sepc[0], see the test)
      const uimm = csr === "stvec"
        ? r.int(0, 31) & ~2
        : /epc$/.test(csr)
        ? r.int(0, 31) & ~1
        : r.int(0, 31);
      return [`${op} ${this.rd()}, ${csr}, ${uimm}`, `csrr ${this.rd()}, ${csr}`];
    }
    const op = r.pick(["csrrw", "csrrs", "csrrc"]);
    if (csr === "stvec") {
      // direct or vectored mode only: modes 2 and 3 are reserved
      const t = this.wreg();
      const v = (BigInt.asUintN(64, r.u64()) & ~3n & ((1n << 56n) - 1n)) | BigInt(r.int(0, 1));
      return [
        `li ${x(t)}, ${hex(v)}`,
        `${op} ${this.rd()}, stvec, ${x(t)}`,
        `csrr ${this.rd()}, stvec`,
      ];
    }
    if (/epc$/.test(csr)) {
      const t = this.wreg();
      return [
        `li ${x(t)}, ${hex(BigInt.asIntN(64, r.u64() & ~1n))}`,
        `${op} ${this.rd()}, ${csr}, ${x(t)}`,
        `csrr ${this.rd()}, ${csr}`,
      ];
    }
    return [`${op} ${this.rd()}, ${csr}, ${this.rs()}`, `csrr ${this.rd()}, ${csr}`];
  }

  trap(): string[] {
    const r = this.r;
    switch (r.int(0, 5)) {
      case 0:
        return ["ecall"];
      case 1:
        return [r.pick(["ebreak", "c.ebreak"])];
      case 2:
      case 3:
        return [r.pick(ILLEGAL)];
      case 4: {
        // misaligned AMO / LR (address-misaligned exception, mtval = address)
        const base = this.wreg();
        const addr = this.scratchAddress(8) + r.pick([1, 2, 3, 4, 6]);
        const width = r.pick([".w", ".d"]);
        const op = r.chance(0.3)
          ? `lr${width} ${this.rd()}, (${x(base)})`
          : `${r.pick(AMO_OPS)}${width} ${this.rd()}, ${this.rs()}, (${x(base)})`;
        if (width === ".w" && addr % 4 === 0) return ["ecall"];
        return [`li ${x(base)}, ${hex(addr)}`, op];
      }
      default:
        // reading a CSR that does not exist
        return [`csrr ${this.rd()}, ${r.pick(["0x7c0", "0x5c0", "0x800", "0xfc0"])}`];
    }
  }

  /** An excursion to S-mode with Sv39 on: loads, stores and AMOs through the virtual pages. */
  sv39(): string[] {
    const r = this.r;
    const t = this.wreg();
    const satp = (8n << 60n) | BigInt(PAGE_TABLES >>> 12);
    const lines = [
      `li ${x(t)}, ${hex(satp)}`,
      `csrw satp, ${x(t)}`,
      "sfence.vma",
      `la ${x(t)}, 1f`,
      `csrw mepc, ${x(t)}`,
      // clear MPP and MPRV (QEMU 7.2 does not clear MPRV on mret to S, as 1.12 says)
      `li ${x(t)}, 0x21800`,
      `csrc mstatus, ${x(t)}`,
      `li ${x(t)}, 0x800`,
      `csrs mstatus, ${x(t)}`,
      "mret",
      "1:",
    ];
    for (let i = r.int(2, 8); i > 0; i--) {
      const base = this.wreg();
      let page = r.int(0, VIRTUAL_PAGES - 1);
      const kind = r.int(0, 5);
      if (kind === 0) {
        lines.push(...this.alu());
        continue;
      }
      // QEMU 7.2 performs an AMO as a load then a store and sets A even when the store faults
      // (the specification updates A/D only for permitted accesses): AMOs only go to pages that
      // are writable or already accessed.
      const amoPages = this.pageFlags.flatMap((f, i) => (f & 0x44) !== 0 ? [i] : []);
      const amo = kind === 5 && amoPages.length > 0;
      if (amo) page = r.pick(amoPages);
      const load = kind <= 2;
      const [op, width] = amo
        ? [`${r.pick(AMO_OPS)}${r.chance(0.5) ? ".d" : ".w"}`, 8]
        : load
        ? r.pick(LOADS)
        : r.pick(STORES);
      const off = r.int(0, 4096 / width - 1) * width;
      const va = VIRTUAL_BASE + page * 4096 + off;
      lines.push(`li ${x(base)}, ${hex(va)}`);
      if (amo) lines.push(`${op} ${this.rd()}, ${this.rs()}, (${x(base)})`);
      else if (load) lines.push(`${op} ${this.rd()}, 0(${x(base)})`);
      else lines.push(`${op} ${this.rs()}, 0(${x(base)})`);
    }
    lines.push("ecall", "csrw satp, zero", "sfence.vma");
    return lines;
  }

  /**
   * Self-modifying code: stores a random I-type ALU instruction over a nop ahead, `fence.i`,
   * then executes it (decoded-code and compiled-block invalidation).
   */
  smc(): string[] {
    const r = this.r;
    const [opcode, funct3] = r.pick([[0x13, 0], [0x13, 2], [0x13, 3], [0x13, 4], [0x13, 6], [
      0x13,
      7,
    ], [0x1b, 0]]);
    const rd = this.wreg();
    const rs1 = r.int(0, 31);
    const imm = this.imm12() & 0xfff;
    const word = ((imm << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode) >>> 0;
    const t = this.wreg();
    let v = this.wreg();
    while (v === t) v = this.wreg();
    return [
      `la ${x(t)}, 1f`,
      `li ${x(v)}, ${hex(word)}`,
      `sw ${x(v)}, 0(${x(t)})`,
      "fence.i",
      ".balign 4",
      "1:",
      ".4byte 0x00000013",
    ];
  }

  item(feature: Feature): Item {
    return { feature, lines: this[feature]() };
  }
}

const WEIGHTS: Record<Feature, number> = {
  alu: 30,
  muldiv: 10,
  memory: 14,
  atomic: 8,
  compressed: 12,
  branch: 8,
  csr: 6,
  trap: 4,
  sv39: 2,
  smc: 3,
  bitmanip: 10,
  fp: 10,
};

/** Generates the program of `seed`. The same seed and options always give the same program. */
export function generateProgram(seed: number, options: ProgramOptions = {}): RandomProgram {
  const blocks = options.blocks ?? 64;
  const [minItems, maxItems] = options.itemsPerBlock ?? [8, 24];
  const exclude = new Set(options.exclude ?? []);
  if (!options.fp) exclude.add("fp");
  for (const f of exclude) {
    if (!FEATURES.includes(f)) throw new RangeError(`generateProgram: unknown feature "${f}"`);
  }
  if (!Number.isInteger(blocks) || blocks < 0) {
    throw new RangeError(`generateProgram: blocks must be a non-negative integer, got ${blocks}`);
  }
  if (!(minItems >= 1 && maxItems >= minItems)) {
    throw new RangeError(`generateProgram: bad itemsPerBlock [${minItems}, ${maxItems}]`);
  }
  const features = FEATURES.filter((f) => !exclude.has(f));
  if (features.length === 0) throw new RangeError("generateProgram: every feature is excluded");
  const total = features.reduce((s, f) => s + WEIGHTS[f], 0);
  const loopFeatures = features.filter((f) => f !== "trap" && f !== "sv39");
  const loopTotal = loopFeatures.reduce((s, f) => s + WEIGHTS[f], 0);

  const r = new Prng(subSeed(seed, 0xffff));
  const w = new BlockWriter(r);
  const registers = [0n];
  for (let i = 1; i < 32; i++) registers.push(w.value());
  const scratch: bigint[] = [];
  for (let i = 0; i < SCRATCH_SIZE / 8; i++) {
    scratch.push(r.chance(0.2) ? r.pick(EDGE_VALUES) : BigInt.asIntN(64, r.u64()));
  }
  // V=1 R=2 W=4 X=8 U=16 A=64 D=128; W without R is reserved (page fault), kept on purpose.
  const pageFlags: number[] = [];
  for (let i = 0; i < VIRTUAL_PAGES; i++) {
    const f = r.pick([0x07, 0x07, 0x03, 0x0b, 0x09, 0x17, 0x13, 0x05, 0x00, 0x0f]);
    const ad = r.pick([0xc0, 0xc0, 0x40, 0x00]);
    pageFlags.push(f === 0 ? 0 : f | ad);
  }

  let traps = 0;
  const out: Item[][] = [];
  const loops: number[] = [];
  const loopShare = options.loopShare ?? 0.1;
  for (let b = 0; b < blocks; b++) {
    const br = new BlockWriter(new Prng(subSeed(seed, b)), pageFlags);
    const items: Item[] = [];
    const iterations = br.r.chance(loopShare) ? LOOP_ITERATIONS : 1;
    // Looped blocks (for the second tier, which leaves system instructions to the interpreter
    // anyway) take no traps, so that the trap log stays short and readable.
    const pool = iterations > 1 ? loopFeatures : features;
    const poolTotal = iterations > 1 ? loopTotal : total;
    const n = br.r.int(minItems, maxItems);
    for (let i = 0; i < n && pool.length > 0; i++) {
      let pick = br.r.int(0, poolTotal - 1);
      let feature = pool[0];
      for (const f of pool) {
        if (pick < WEIGHTS[f]) {
          feature = f;
          break;
        }
        pick -= WEIGHTS[f];
      }
      const item = br.item(feature);
      const itemTraps = trapBound(item);
      if (traps + itemTraps > MAX_TRAPS) continue;
      traps += itemTraps;
      items.push(item);
    }
    out.push(items);
    loops.push(iterations);
  }
  return { seed, registers, scratch, pageFlags, blocks: out, loops, fp: options.fp === true };
}

/** An upper bound of the traps an item can take. */
function trapBound(item: Item): number {
  if (item.feature === "trap") return 2;
  if (item.feature === "sv39") return item.lines.length;
  return 0;
}

/** The program with only the first `count` blocks (for bisection). */
export function truncateProgram(program: RandomProgram, count: number): RandomProgram {
  return {
    ...program,
    blocks: program.blocks.slice(0, count),
    loops: program.loops.slice(0, count),
  };
}

/** The assembly source of a program (GNU as syntax, `-march=rv64imac_zicsr_zifencei_zba_zbb_zbs`). */
export function renderProgram(program: RandomProgram): string {
  const L: string[] = [];
  const emit = (...lines: string[]) => L.push(...lines);
  emit(
    `# random program, seed ${program.seed}`,
    "  .option norelax",
    "  .text",
    "  .globl _start",
    "_start:",
    "  csrr t0, mhartid", // other harts of a multi-hart board sleep
    "  bnez t0, park",
    "  j start",
    "park:",
    "  wfi",
    "  j park",
    `  .org ${hex(SCRATCH - ORIGIN)}`,
    "scratch:",
  );
  for (let i = 0; i < program.scratch.length; i += 4) {
    emit(
      `  .dword ${
        program.scratch.slice(i, i + 4).map((v) => hex(BigInt.asUintN(64, v))).join(", ")
      }`,
    );
  }
  // Page tables: root[1] -> L1; L1[0] -> L0; L0[i] = virtual page i -> scratch page i % 4;
  // root[2] = identity gigapage at 0x8000_0000 (RWX, A, D) for the code.
  const l1 = PAGE_TABLES + 4096, l0 = PAGE_TABLES + 8192;
  const pte = (pa: number, flags: number) => hex(((BigInt(pa) >> 12n) << 10n) | BigInt(flags));
  emit(`  .org ${hex(PAGE_TABLES - ORIGIN)}`, "page_tables:");
  emit(`  .dword 0, ${pte(l1, 1)}, ${pte(0x8000_0000, 0xcf)}`);
  emit(`  .org ${hex(l1 - ORIGIN)}`, `  .dword ${pte(l0, 1)}`);
  emit(`  .org ${hex(l0 - ORIGIN)}`);
  program.pageFlags.forEach((flags, i) => {
    emit(`  .dword ${pte(SCRATCH + (i % 4) * 4096, flags)}`);
  });
  emit(`  .org ${hex(CODE - ORIGIN)}`, "start:");
  // Prologue
  emit(
    "  la t0, trap_handler",
    "  csrw mtvec, t0",
    "  li t0, -1",
    "  csrw pmpaddr0, t0",
    "  li t0, 0x1f",
    "  csrw pmpcfg0, t0",
    `  li tp, ${hex(FRAME)}`,
    `  li t0, ${hex(TRAP_LOG)}`,
    "  sd t0, 24(tp)",
    `  li gp, ${hex(SCRATCH + 2048)}`,
  );
  if (program.fp) {
    // FS = Dirty (so that dirty tracking cannot differ), then f0..f31 from exact values:
    // doubles, and NaN-boxed singles in every fourth register.
    emit("  li t0, 3 << 13", "  csrs mstatus, t0");
    for (let i = 0; i < 32; i++) {
      const v = FP_VALUES[(i * 7 + program.seed) % FP_VALUES.length];
      const view = new DataView(new ArrayBuffer(8));
      if (i % 4 === 3) {
        view.setFloat32(0, v, true);
        emit(`  li t0, ${hex(BigInt(view.getUint32(0, true)))}`, `  fmv.w.x f${i}, t0`);
      } else {
        view.setFloat64(0, v, true);
        emit(`  li t0, ${hex(view.getBigUint64(0, true))}`, `  fmv.d.x f${i}, t0`);
      }
    }
  }
  for (let i = 1; i < 32; i++) {
    if (i === 3 || i === 4) continue;
    emit(`  li x${i}, ${hex(program.registers[i])}`);
  }
  emit("blocks:");
  program.blocks.forEach((block, b) => {
    const iterations = program.loops[b] ?? 1;
    emit(`# block ${b}${iterations > 1 ? ` (x${iterations}; counter at 32(tp), via x31)` : ""}`);
    if (iterations > 1) emit(`  li x31, ${iterations}`, "  sd x31, 32(tp)", "99:");
    block.forEach((item, i) => {
      emit(
        `# item ${b}.${i} ${item.feature}`,
        ...item.lines.map((l) => (l.endsWith(":") ? l : `  ${l}`)),
      );
    });
    if (iterations > 1) {
      emit("  ld x31, 32(tp)", "  addi x31, x31, -1", "  sd x31, 32(tp)", "  bnez x31, 99b");
    }
  });
  emit(EPILOGUE);
  return L.join("\n") + "\n";
}

/**
 * Prints the doublewords `from` to `to - 1` of the table at `table` as `<letter><index>=<value>`
 * lines (index in `digits` hex digits, value in 16), looping at the local label `label`.
 */
function printTable(
  p: { table: number; letter: string; digits: number; from: number; to: number; label: number },
): string {
  return `  li s0, ${hex(p.table)}
  li s1, ${p.from}
${p.label}:
  li a0, '${p.letter}'
  call putc
  mv a0, s1
  li a1, ${p.digits}
  call puthex
  li a0, '='
  call putc
  slli t0, s1, 3
  add t0, t0, s0
  ld a0, 0(t0)
  li a1, 16
  call puthex
  li a0, 10
  call putc
  addi s1, s1, 1
  li t0, ${p.to}
  bltu s1, t0, ${p.label}b`;
}

/** Register dump, checksum, printing, finisher, trap handler and print routines. */
const EPILOGUE = `
# epilogue: dump x1..x31 at FRAME + 0x100
finish:
${Array.from({ length: 31 }, (_, i) => `  sd x${i + 1}, ${0x100 + 8 * (i + 1)}(tp)`).join("\n")}
${printTable({ table: FRAME + 0x100, letter: "x", digits: 2, from: 1, to: 32, label: 1 })}
# CSRs
${
  ["mstatus", "mscratch", "sscratch", "mepc", "sepc", "stval", "stvec", "satp"]
    .map((c, i) => `  csrr a0, ${c}\n  li a1, ${i}\n  call putcsr`).join("\n")
}
# leaf PTEs (A/D bits set by the page walker)
${
  printTable({
    table: PAGE_TABLES + 8192,
    letter: "p",
    digits: 1,
    from: 0,
    to: VIRTUAL_PAGES,
    label: 14,
  })
}
# checksum of the scratch area and the page tables: h = (h ^ d) * FNV prime
  li s0, ${hex(SCRATCH)}
  li s1, ${hex(FRAME)}
  li s2, 0x100000001b3
  li s3, 0xcbf29ce484222325
2:
  ld t0, 0(s0)
  xor s3, s3, t0
  mul s3, s3, s2
  addi s0, s0, 8
  bltu s0, s1, 2b
  la a0, name_sum
  call puts
  mv a0, s3
  li a1, 16
  call puthex
  li a0, 10
  call putc
# trap log
  ld s1, 24(tp)
  li s0, ${hex(TRAP_LOG)}
  sub a0, s1, s0
  li t0, 24
  divu a0, a0, t0
  mv s2, a0
  la a0, name_traps
  call puts
  mv a0, s2
  li a1, 4
  call puthex
  li a0, 10
  call putc
3:
  bgeu s0, s1, 4f
  li a0, 't'
  call putc
  li a0, ' '
  call putc
  ld a0, 0(s0)
  li a1, 16
  call puthex
  li a0, ' '
  call putc
  ld a0, 8(s0)
  li a1, 8
  call puthex
  li a0, ' '
  call putc
  ld a0, 16(s0)
  li a1, 16
  call puthex
  li a0, 10
  call putc
  addi s0, s0, 24
  j 3b
4:
  li t0, ${hex(FINISHER)}
  li t1, 0x5555
  sw t1, 0(t0)
5:
  wfi
  j 5b

# putc(a0): polls LSR.THRE, then writes THR
putc:
  li t0, ${hex(UART)}
6:
  lbu t1, 5(t0)
  andi t1, t1, 0x20
  beqz t1, 6b
  sb a0, 0(t0)
  ret

# puthex(a0 = value, a1 = digits)
puthex:
  mv t2, a0
  mv t3, ra
  slli t4, a1, 2
7:
  addi t4, t4, -4
  srl a0, t2, t4
  andi a0, a0, 15
  li t5, 10
  bltu a0, t5, 8f
  addi a0, a0, 'a' - 10
  j 9f
8:
  addi a0, a0, '0'
9:
  call putc
  bnez t4, 7b
  mv ra, t3
  ret

# puts(a0 = NUL-terminated string)
puts:
  mv t6, a0
  mv s11, ra
10:
  lbu a0, 0(t6)
  beqz a0, 11f
  call putc
  addi t6, t6, 1
  j 10b
11:
  mv ra, s11
  ret

# putcsr(a0 = value, a1 = index into csr_names): "name=value\\n"
putcsr:
  mv s4, a0
  mv s5, ra
  la a0, csr_names
  slli a1, a1, 4
  add a0, a0, a1
  call puts
  mv a0, s4
  li a1, 16
  call puthex
  li a0, 10
  call putc
  mv ra, s5
  ret

# trap handler: log (mcause, mepc - ORIGIN, mtval); ecall from S returns to M; skip the insn
  .balign 4
trap_handler:
  sd t0, 0(tp)
  sd t1, 8(tp)
  sd t2, 16(tp)
  ld t0, 24(tp)
  csrr t1, mcause
  sd t1, 0(t0)
  csrr t1, mepc
  li t2, ${hex(ORIGIN)}
  sub t1, t1, t2
  sd t1, 8(t0)
  csrr t1, mtval
  sd t1, 16(t0)
  csrw mtval, zero # logged; cleared so that later reads do not see ebreak's free choice
  addi t0, t0, 24
  sd t0, 24(tp)
  csrr t1, mcause
  li t2, 9
  bne t1, t2, 12f
  li t1, 0x1800
  csrs mstatus, t1
12:
  csrr t1, mepc
  lhu t2, 0(t1)
  andi t2, t2, 3
  li t0, 3
  bne t2, t0, 13f
  addi t1, t1, 2
13:
  addi t1, t1, 2
  csrw mepc, t1
  ld t0, 0(tp)
  ld t1, 8(tp)
  ld t2, 16(tp)
  mret

name_sum: .asciz "sum="
name_traps: .asciz "traps="
  .balign 16
csr_names:
${
  ["mstatus", "mscratch", "sscratch", "mepc", "sepc", "stval", "stvec", "satp"]
    .map((c) => `  .balign 16\n  .asciz "${c}="`).join("\n")
}
`;

/** One parsed line of a program's output: `name=value` or a trap log entry. */
export interface OutputLine {
  /** `x1`..`x31`, a CSR name, `sum`, `traps`, or `trap N`. */
  name: string;
  /** The printed text after `=` (or the trap entry's fields). */
  value: string;
}

/** Splits a program's output into named lines, for readable differences. */
export function parseOutput(text: string): OutputLine[] {
  const lines: OutputLine[] = [];
  let trap = 0;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const m = /^x([0-9a-f]{2})=(.*)$/.exec(line);
    if (m) {
      lines.push({ name: `x${parseInt(m[1], 16)}`, value: m[2] });
    } else if (line.startsWith("t ")) {
      const [cause, epc, tval] = line.slice(2).split(" ");
      lines.push({
        name: `trap ${trap++}`,
        value: `mcause=${cause} mepc=ORIGIN+0x${epc} mtval=${tval}`,
      });
    } else {
      const eq = line.indexOf("=");
      lines.push(
        eq < 0 ? { name: "?", value: line } : {
          name: line.slice(0, eq),
          value: line.slice(eq + 1),
        },
      );
    }
  }
  return lines;
}
