/**
 * The CSR table: one registration per CSR the hart implements, as QEMU's target/riscv/csr.c
 * does. An entry says whether the CSR exists on this hart, the access condition beyond what its
 * number encodes (minimum privilege in bits 9:8, read-only when bits 11:10 are 3), how it
 * reads, and how it is written (its WARL rules); an entry without `write` cannot be written. A
 * CSR number without an entry does not exist: accessing it is an illegal instruction. A new
 * CSR is one more entry.
 *
 * @module
 */

import { Csr, Mstatus } from "./csr.ts";
import type { CsrFile } from "./csr_file.ts";
import { standardCsrName } from "./isa_table.ts";
import { MISA_EXTENSION_BITS } from "./isa.ts";

/** One CSR: how it is accessed. Reads leave the value in `f.lo`/`f.hi`. */
export interface CsrSpec {
  /** The CSR number. */
  readonly num: number;
  /** Its name (the ISA table's, else a generated one). */
  readonly name: string;
  /** Whether the CSR exists on this hart (default: always). Debug accesses obey it too. */
  readonly exists?: (f: CsrFile) => boolean;
  /**
   * The access condition of CSR instructions beyond the number's privilege (counter enables,
   * mstatus.FS, mstatus.TVM, menvcfg.STCE); debug accesses skip it. Failing is an illegal
   * instruction.
   */
  readonly allowed?: (f: CsrFile, priv: number) => boolean;
  /** Reads the value into `f.lo`/`f.hi`. */
  readonly read: (f: CsrFile, num: number) => void;
  /** Writes `lo`/`hi` under the CSR's WARL rules; absent: the CSR cannot be written. */
  readonly write?: (f: CsrFile, num: number, lo: number, hi: number) => void;
}

/** The lowest privilege that may access CSR `num` (bits 9:8 of the number). */
export const csrMinPriv = (num: number): number => (num >> 8) & 3;

/** Whether CSR `num` is read-only by its number (bits 11:10 are 3). */
export const csrReadOnly = (num: number): boolean => (num >> 10) === 3;

const TWO32 = 4294967296;
/** mstatus.FS = Dirty. */
const FS_DIRTY = 3 << 13;
/** mip.STIP. */
const STIP = 1 << 5;
/** mstatus high word: UXL = SXL = 2 (64-bit); sstatus shows UXL only. */
const MSTATUS_HI = 0xa;
const SSTATUS_HI = 0x2;
const MSTATUS_WMASK = Mstatus.SIE | Mstatus.MIE | Mstatus.SPIE | Mstatus.MPIE | Mstatus.SPP |
  Mstatus.MPP | Mstatus.FS | Mstatus.MPRV | Mstatus.SUM | Mstatus.MXR | Mstatus.TVM | Mstatus.TW |
  Mstatus.TSR;
/** The mstatus fields sstatus shows. */
const SSTATUS_MASK = Mstatus.SIE | Mstatus.SPIE | Mstatus.SPP | Mstatus.FS |
  Mstatus.SUM | Mstatus.MXR;
/** The supervisor interrupts (SSI, STI, SEI): mideleg's writable bits. */
export const S_INTS = 0x222;
const MIE_MASK = 0xaaa;
/** The delegable exceptions: medeleg's writable bits. */
export const MEDELEG_MASK = 0xb3ff;
/** misa: RV64 (MXL=2) and the extensions of isa.ts (plus S and U). */
const MISA_HI = 0x80000000 | 0;
/** menvcfg.STCE (high word). */
export const MENVCFG_STCE_HI = 0x80000000 | 0;

const table: (CsrSpec | undefined)[] = new Array<CsrSpec | undefined>(4096).fill(undefined);

/** Registers CSR `num`; its name comes from the ISA table unless given. */
function define(num: number, spec: Omit<CsrSpec, "num" | "name">, name?: string): void {
  if (table[num] !== undefined) throw new Error(`CSR 0x${num.toString(16)} defined twice`);
  table[num] = { num, name: name ?? standardCsrName(num) ?? `csr${num.toString(16)}`, ...spec };
}

// ---------------------------------------------------------------- shared accessors

/** Reads the CSR's own 64-bit storage. */
const stored = (f: CsrFile, num: number): void => {
  f.lo = f.regs[num * 2];
  f.hi = f.regs[num * 2 + 1];
};
/** Writes the CSR's own 64-bit storage (no WARL restriction). */
const store = (f: CsrFile, num: number, lo: number, hi: number): void => {
  f.regs[num * 2] = lo;
  f.regs[num * 2 + 1] = hi;
};
/** Reads a constant. */
const constant = (lo: number, hi = 0) => (f: CsrFile): void => {
  f.lo = lo;
  f.hi = hi;
};
/** Sets `f.lo` to a 32-bit value (zero-extended high word 0). */
const value = (f: CsrFile, lo: number): void => {
  f.lo = lo;
  f.hi = 0;
};
/** Writes are accepted and ignored (WARL with a single legal value). */
const ignore = (): void => {};
/** Sets `f.lo`/`f.hi` from a number below 2^53. */
const setNumber = (f: CsrFile, v: number): void => {
  f.lo = v | 0;
  f.hi = Math.floor(v / TWO32) | 0;
};
/** The counter-enable gate of counter bit `bit` (cycle 0, time 1, instret 2, hpm 3..31). */
const counterGate = (bit: number) => (f: CsrFile, priv: number): boolean =>
  f.counterAllowed(priv, bit);
const fpOn = (f: CsrFile): boolean => (f.ms & Mstatus.FS) !== 0;

// ---------------------------------------------------------------- status and FP

function writeStatus(f: CsrFile, mask: number, lo: number): void {
  let ms = (f.ms & ~mask) | (lo & mask);
  if (((ms >> 11) & 3) === 2) ms &= ~Mstatus.MPP; // reserved MPP value -> U
  const changed = ms ^ f.ms;
  f.ms = ms;
  f.syncFs();
  if ((changed & (Mstatus.MPRV | Mstatus.MPP | Mstatus.SUM | Mstatus.MXR)) !== 0) {
    f.host.translationChanged(false);
  }
}
const sd = (f: CsrFile): number => (f.ms & FS_DIRTY) === FS_DIRTY ? 0x80000000 | 0 : 0;

define(Csr.mstatus, {
  read: (f) => {
    f.lo = f.ms;
    f.hi = MSTATUS_HI | sd(f);
  },
  write: (f, _n, lo) => writeStatus(f, MSTATUS_WMASK, lo),
});
define(Csr.sstatus, {
  read: (f) => {
    f.lo = f.ms & SSTATUS_MASK;
    f.hi = SSTATUS_HI | sd(f);
  },
  write: (f, _n, lo) => writeStatus(f, SSTATUS_MASK, lo),
});
define(Csr.fflags, {
  allowed: fpOn,
  read: (f) => value(f, f.host.fp.fflags),
  write: (f, _n, lo) => {
    f.host.fp.fflags = lo & 31;
    f.markFsDirty();
  },
});
define(Csr.frm, {
  allowed: fpOn,
  read: (f) => value(f, f.host.fp.frm),
  write: (f, _n, lo) => {
    f.host.fp.frm = lo & 7;
    f.markFsDirty();
  },
});
define(Csr.fcsr, {
  allowed: fpOn,
  read: (f) => value(f, (f.host.fp.frm << 5) | f.host.fp.fflags),
  write: (f, _n, lo) => {
    f.host.fp.fflags = lo & 31;
    f.host.fp.frm = (lo >> 5) & 7;
    f.markFsDirty();
  },
});
define(Csr.misa, { read: constant(MISA_EXTENSION_BITS, MISA_HI), write: ignore });

// ---------------------------------------------------------------- interrupts and delegation

define(Csr.medeleg, {
  read: (f) => value(f, f.medeleg),
  write: (f, _n, lo) => void (f.medeleg = lo & MEDELEG_MASK),
});
define(Csr.mideleg, {
  read: (f) => value(f, f.mideleg),
  write: (f, _n, lo) => void (f.mideleg = lo & S_INTS),
});
define(Csr.mie, {
  read: (f) => value(f, f.mie),
  write: (f, _n, lo) => void (f.mie = lo & MIE_MASK),
});
define(Csr.sie, {
  read: (f) => value(f, f.mie & f.mideleg),
  write: (f, _n, lo) => void (f.mie = (f.mie & ~f.mideleg) | (lo & f.mideleg & S_INTS)),
});
define(Csr.mip, {
  read: (f) => value(f, f.mip()),
  write: (f, _n, lo) => {
    // With Sstc on, STIP is the comparison's (read-only to software).
    const m = f.stce() ? S_INTS & ~STIP : S_INTS;
    f.mipSw = (f.mipSw & ~m) | (lo & m);
  },
});
define(Csr.sip, {
  read: (f) => value(f, f.mip() & f.mideleg),
  write: (f, _n, lo) => {
    const m = f.mideleg & 2;
    f.mipSw = (f.mipSw & ~m) | (lo & m);
  },
});
define(Csr.stimecmp, {
  exists: (f) => f.host.sstc,
  allowed: (f, priv) => priv !== 1 || (f.counterAllowed(priv, 1) && f.stce()),
  read: stored,
  write: store,
});

// ---------------------------------------------------------------- trap setup and handling

for (const num of [Csr.mtvec, Csr.stvec]) {
  define(num, {
    read: stored,
    write: (f, n, lo, hi) => {
      const mode = lo & 3; // Direct or Vectored; reserved modes read as Direct
      store(f, n, (lo & ~3) | (mode > 1 ? 0 : mode), hi);
    },
  });
}
for (const num of [Csr.mepc, Csr.sepc]) {
  define(num, { read: stored, write: (f, n, lo, hi) => store(f, n, lo & ~1, hi) });
}
for (const num of [Csr.mscratch, Csr.mcause, Csr.mtval, Csr.sscratch, Csr.scause, Csr.stval]) {
  define(num, { read: stored, write: store });
}
define(Csr.satp, {
  allowed: (f, priv) => priv !== 1 || (f.ms & Mstatus.TVM) === 0,
  read: stored,
  write: (f, n, lo, hi) => {
    const mode = hi >>> 28;
    if (mode !== 0 && mode !== 8) return; // unsupported mode: the write is ignored
    store(f, n, lo, hi);
    f.satpMode = mode;
    f.satpPpn = (hi & 0xfff) * TWO32 + (lo >>> 0);
    f.host.translationChanged(true);
  },
});
define(Csr.menvcfg, {
  read: stored,
  // FIOM, and STCE when Sstc is implemented.
  write: (f, n, lo, hi) => store(f, n, lo & 1, f.host.sstc ? hi & MENVCFG_STCE_HI : 0),
});
define(Csr.senvcfg, { read: stored, write: (f, n, lo) => void (f.regs[n * 2] = lo & 1) });

// ---------------------------------------------------------------- machine information

for (const num of [Csr.mvendorid, Csr.marchid, Csr.mimpid, Csr.mconfigptr]) {
  define(num, { read: constant(0) });
}
define(Csr.mhartid, { read: (f) => value(f, f.host.hartId) });
// No Smepmp and no debug triggers: tselect reads 0, tdata1 type 0, tinfo 1; writes ignored.
for (const num of [Csr.mseccfg, Csr.tselect, Csr.tdata1, Csr.tdata2, Csr.tdata3]) {
  define(num, { read: constant(0), write: ignore });
}
define(Csr.tinfo, { read: constant(1), write: ignore });

// ---------------------------------------------------------------- counters

/** The live value of mcycle (`cycle` true) or minstret. */
function counter(f: CsrFile, cycle: boolean): number {
  const inhibit = f.regs[Csr.mcountinhibit * 2];
  const now = f.host.counterNow();
  return cycle
    ? ((inhibit & 1) !== 0 ? f.cycleFrozen : now + f.cycleOffset)
    : ((inhibit & 4) !== 0 ? f.instretFrozen : now + f.instretOffset);
}
define(Csr.cycle, { allowed: counterGate(0), read: (f) => setNumber(f, counter(f, true)) });
define(Csr.instret, { allowed: counterGate(2), read: (f) => setNumber(f, counter(f, false)) });
define(Csr.time, {
  allowed: counterGate(1),
  read: (f) => setNumber(f, f.host.readTime(f.host.counterNow())),
});
define(Csr.mcycle, {
  read: (f) => setNumber(f, counter(f, true)),
  write: (f, _n, lo, hi) => {
    const v = hi * TWO32 + (lo >>> 0);
    // The write takes effect after the csr instruction retires.
    if ((f.regs[Csr.mcountinhibit * 2] & 1) !== 0) f.cycleFrozen = v;
    else f.cycleOffset = v - (f.host.counterNow() + 1);
  },
});
define(Csr.minstret, {
  read: (f) => setNumber(f, counter(f, false)),
  write: (f, _n, lo, hi) => {
    const v = hi * TWO32 + (lo >>> 0);
    if ((f.regs[Csr.mcountinhibit * 2] & 4) !== 0) f.instretFrozen = v;
    else f.instretOffset = v - (f.host.counterNow() + 1);
  },
});
define(Csr.mcountinhibit, {
  read: stored,
  write: (f, n, lo) => {
    const old = f.regs[n * 2];
    const nv = lo & 5; // CY and IR
    const now = f.host.counterNow() + 1;
    if ((old & 1) === 0 && (nv & 1) !== 0) f.cycleFrozen = now + f.cycleOffset;
    if ((old & 1) !== 0 && (nv & 1) === 0) f.cycleOffset = f.cycleFrozen - now;
    if ((old & 4) === 0 && (nv & 4) !== 0) f.instretFrozen = now + f.instretOffset;
    if ((old & 4) !== 0 && (nv & 4) === 0) f.instretOffset = f.instretFrozen - now;
    f.regs[n * 2] = nv;
  },
});
for (const num of [Csr.mcounteren, Csr.scounteren]) {
  define(num, { read: stored, write: (f, n, lo) => void (f.regs[n * 2] = lo) });
}
// No hardware performance counters: they read zero, the machine ones ignore writes.
for (let i = 3; i <= 31; i++) {
  define(Csr.cycle + i, { allowed: counterGate(i), read: constant(0) }, `hpmcounter${i}`);
  define(Csr.mcycle + i, { read: constant(0), write: ignore }, `mhpmcounter${i}`);
  define(Csr.mcountinhibit + i, { read: constant(0), write: ignore }, `mhpmevent${i}`);
}

// ---------------------------------------------------------------- PMP (WARL, not enforced)

/** pmpNcfg, the configuration byte of PMP entry `i`. */
function pmpCfgByte(f: CsrFile, i: number): number {
  const reg = Csr.pmpcfg0 + (i >> 3) * 2;
  const k = i & 7;
  return (f.regs[reg * 2 + (k >> 2)] >>> ((k & 3) * 8)) & 0xff;
}

/** Whether pmpaddr`i` is locked (its entry's L bit, or the next entry is a locked TOR). */
function pmpAddrLocked(f: CsrFile, i: number): boolean {
  if ((pmpCfgByte(f, i) & 0x80) !== 0) return true;
  if (i < 63) {
    const next = pmpCfgByte(f, i + 1);
    if ((next & 0x80) !== 0 && ((next >> 3) & 3) === 1) return true;
  }
  return false;
}

// RV64: only the even pmpcfg registers exist, each holding 8 entries.
for (let r = 0; r < 16; r += 2) {
  define(Csr.pmpcfg0 + r, {
    read: stored,
    write: (f, n, lo, hi) => {
      const first = (n - Csr.pmpcfg0) * 4;
      const halves = [lo, hi];
      for (let k = 0; k < 8; k++) {
        if ((pmpCfgByte(f, first + k) & 0x80) !== 0) continue; // locked
        let b = (halves[k >> 2] >>> ((k & 3) * 8)) & 0x9f;
        if ((b & 3) === 2) b &= ~2; // W without R is reserved
        const idx = n * 2 + (k >> 2);
        const shift = (k & 3) * 8;
        f.regs[idx] = (f.regs[idx] & ~(0xff << shift)) | (b << shift);
      }
    },
  }, `pmpcfg${r}`);
}
for (let i = 0; i < 64; i++) {
  define(Csr.pmpaddr0 + i, {
    read: stored,
    write: (f, n, lo, hi) => {
      if (!pmpAddrLocked(f, i)) store(f, n, lo, hi & 0x3fffff); // 54 address bits
    },
  }, `pmpaddr${i}`);
}

/** The implemented CSRs by number (`undefined`: no such CSR). */
export const CSR_SPECS: readonly (CsrSpec | undefined)[] = table;
