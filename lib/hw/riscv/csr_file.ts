/**
 * The hart's CSR file: the storage of every CSR, the decoded privileged state the interpreter
 * reads often (mstatus, mie, mip, delegation, satp), the counter offsets, and CSR reads and
 * writes dispatched through {@linkcode CSR_SPECS} (csr_table.ts). Its state is plain data
 * (see {@linkcode CsrFile.snapshot}).
 *
 * @module
 */

import { Csr } from "./csr.ts";
import { CSR_SPECS, MEDELEG_MASK, MENVCFG_STCE_HI, S_INTS } from "./csr_table.ts";
import type { FpRegisters } from "./fpu.ts";
import type { HartState } from "./hart_state.ts";

const TWO32 = 4294967296;
/** mstatus.FS = Dirty. */
const FS_DIRTY = 3 << 13;
/** mip.STIP. */
const STIP = 1 << 5;
/** Entries of the generic storage: every CSR number. */
const CSR_COUNT = 4096;

/** What the CSR file needs from its hart. */
export interface CsrHost {
  /** mhartid. */
  readonly hartId: number;
  /** Whether Sstc is implemented. */
  readonly sstc: boolean;
  /** The FP registers (fflags, frm). */
  readonly fp: FpRegisters;
  /** Instructions retired before the current one (the counters' base). */
  counterNow(): number;
  /** The `time` CSR for a live instruction count. */
  readTime(instretNow: number): number;
  /**
   * What translations mean changed: a satp write (`whole`: every cached translation is
   * stale) or mstatus MPRV/MPP/SUM/MXR (only some may be).
   */
  translationChanged(whole: boolean): void;
}

/** The CSRs of one hart. */
export class CsrFile {
  /** 64-bit storage of every CSR number as int32 halves (`[2n]` low, `[2n + 1]` high). */
  readonly regs: Int32Array = new Int32Array(CSR_COUNT * 2);
  /** mstatus, low 32 bits (the high word is constant but for SD). */
  ms = 0;
  /** mie. */
  mie = 0;
  /** The software-writable mip bits (SSIP, STIP and the VMM's virtual lines). */
  mipSw = 0;
  /** The mip bits driven by external wires (MSIP, MTIP, SEIP, MEIP). */
  mipExt = 0;
  /** mideleg. */
  mideleg = 0;
  /** medeleg. */
  medeleg = 0;
  /** satp.MODE (0 Bare, 8 Sv39). */
  satpMode = 0;
  /** satp.PPN: the root page table's physical page number. */
  satpPpn = 0;
  /** mcycle minus the live instruction count, while counting. */
  cycleOffset = 0;
  /** minstret minus the live instruction count, while counting. */
  instretOffset = 0;
  /** mcycle while inhibited. */
  cycleFrozen = 0;
  /** minstret while inhibited. */
  instretFrozen = 0;
  /** Low word of the last value read. */
  lo = 0;
  /** High word of the last value read. */
  hi = 0;
  /** `fsState[0]` mirrors mstatus.FS for compiled blocks (they run FP ops only when Dirty). */
  readonly fsState: Int32Array = new Int32Array(1);

  /** Creates the CSR file of the hart `host` describes (call {@linkcode CsrFile.reset}). */
  constructor(readonly host: CsrHost) {}

  /**
   * Reads CSR `num` into {@linkcode CsrFile.lo}/{@linkcode CsrFile.hi} at privilege `priv`;
   * false when it does not exist or (unless `debug`) its access condition fails. The privilege
   * and read-only rules of the number are the caller's (csr instructions).
   */
  read(num: number, priv: number, debug: boolean): boolean {
    const spec = CSR_SPECS[num];
    if (spec === undefined) return false;
    if (spec.exists !== undefined && !spec.exists(this)) return false;
    if (!debug && spec.allowed !== undefined && !spec.allowed(this, priv)) return false;
    spec.read(this, num);
    return true;
  }

  /** Writes CSR `num` (WARL rules); false when it cannot be written. Call after a read. */
  write(num: number, lo: number, hi: number): boolean {
    const spec = CSR_SPECS[num];
    if (spec?.write === undefined) return false;
    spec.write(this, num, lo, hi);
    return true;
  }

  /** The 64-bit value of CSR `num`'s storage, as a number (exact below 2^53). */
  get64(num: number): number {
    return this.regs[num * 2 + 1] * TWO32 + (this.regs[num * 2] >>> 0);
  }

  /** mip: software bits, external wires and the Sstc comparison. */
  mip(): number {
    return this.mipSw | this.mipExt | this.#sstcPending();
  }

  /** Whether menvcfg.STCE is set (Sstc enabled for S-mode). */
  stce(): boolean {
    return this.host.sstc && this.regs[Csr.menvcfg * 2 + 1] < 0;
  }

  /** mip.STIP driven by Sstc: time >= stimecmp while menvcfg.STCE is set. */
  #sstcPending(): number {
    if (!this.stce()) return 0;
    const cmp = this.get64(Csr.stimecmp);
    if (cmp < 0) return 0; // stimecmp >= 2^63: never (time is below)
    return this.host.readTime(this.host.counterNow()) >= cmp ? STIP : 0;
  }

  /** The armed Sstc deadline (`stimecmp`), or undefined (see `Hart.sstcDeadline`). */
  sstcDeadline(): number | undefined {
    if (!this.stce()) return undefined;
    const cmp = this.get64(Csr.stimecmp);
    return cmp < 0 ? undefined : cmp;
  }

  /** Whether counter bit `bit` (mcounteren/scounteren) is accessible at privilege `priv`. */
  counterAllowed(priv: number, bit: number): boolean {
    if (priv === 3) return true;
    if (((this.regs[Csr.mcounteren * 2] >>> bit) & 1) === 0) return false;
    if (priv === 0 && ((this.regs[Csr.scounteren * 2] >>> bit) & 1) === 0) return false;
    return true;
  }

  /** Mirrors mstatus.FS into {@linkcode CsrFile.fsState}; call after every change of FS. */
  syncFs(): void {
    this.fsState[0] = (this.ms >> 13) & 3;
  }

  /** Sets mstatus.FS to Dirty (an instruction changed FP state). */
  markFsDirty(): void {
    this.ms |= FS_DIRTY;
    this.fsState[0] = 3;
  }

  /**
   * Resets every CSR. With `guestDelegation`, M-mode CSRs are set as SBI firmware sets them
   * for an S-mode guest (see `HartOptions.guestDelegation`).
   */
  reset(guestDelegation: boolean): void {
    this.regs.fill(0);
    this.ms =
      this.mie =
      this.mipSw =
      this.mideleg =
      this.medeleg =
        0;
    this.satpMode = this.satpPpn = 0;
    this.cycleOffset =
      this.instretOffset =
      this.cycleFrozen =
      this.instretFrozen =
        0;
    this.syncFs();
    if (this.host.sstc) {
      // stimecmp's reset value is unspecified: all ones, i.e. no Sstc timer armed.
      this.regs[Csr.stimecmp * 2] = -1;
      this.regs[Csr.stimecmp * 2 + 1] = -1;
    }
    if (guestDelegation) {
      this.medeleg = MEDELEG_MASK;
      this.mideleg = S_INTS;
      this.regs[Csr.mcounteren * 2] = 7;
      // As OpenSBI does at boot: U-mode may read cycle, time and instret (a Linux guest's vDSO
      // reads `time` in clock_gettime; without an SBI PMU the kernel leaves scounteren alone).
      this.regs[Csr.scounteren * 2] = 7;
      // What SBI firmware does on a hart with Sstc: S-mode owns stimecmp.
      if (this.host.sstc) this.regs[Csr.menvcfg * 2 + 1] = MENVCFG_STCE_HI;
    }
  }

  /** The CSR part of a hart snapshot. */
  snapshot(): Pick<
    HartState,
    "mstatus" | "mipSw" | "mipExt" | "mie" | "mideleg" | "medeleg" | "counters" | "csrs"
  > {
    const csrs: number[][] = [];
    for (let i = 0; i < CSR_COUNT; i++) {
      const lo = this.regs[i * 2];
      const hi = this.regs[i * 2 + 1];
      if (lo !== 0 || hi !== 0) csrs.push([i, lo, hi]);
    }
    return {
      mstatus: this.ms,
      mipSw: this.mipSw,
      mipExt: this.mipExt,
      mie: this.mie,
      mideleg: this.mideleg,
      medeleg: this.medeleg,
      counters: [this.cycleOffset, this.instretOffset, this.cycleFrozen, this.instretFrozen],
      csrs,
    };
  }

  /** Restores the CSR part of a hart snapshot. */
  restore(state: HartState): void {
    this.ms = state.mstatus;
    this.mipSw = state.mipSw;
    this.mipExt = state.mipExt;
    this.mie = state.mie;
    this.mideleg = state.mideleg;
    this.medeleg = state.medeleg;
    [this.cycleOffset, this.instretOffset, this.cycleFrozen, this.instretFrozen] = state.counters;
    this.regs.fill(0);
    for (const [i, lo, hi] of state.csrs) {
      this.regs[i * 2] = lo;
      this.regs[i * 2 + 1] = hi;
    }
    const satpHi = this.regs[Csr.satp * 2 + 1];
    this.satpMode = satpHi >>> 28;
    this.satpPpn = (satpHi & 0xfff) * TWO32 + (this.regs[Csr.satp * 2] >>> 0);
    this.syncFs();
  }
}
