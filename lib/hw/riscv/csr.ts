/**
 * CSR numbers, `mstatus` fields, interrupt bits and trap causes of the RISC-V privileged
 * architecture (version 1.12), as far as the hart implements them.
 *
 * @module
 */

/** CSR numbers by name. */
export const Csr = {
  // Floating point (F, D): accessible while mstatus.FS is not Off
  fflags: 0x001,
  frm: 0x002,
  fcsr: 0x003,
  // User counters (read-only shadows, gated by mcounteren/scounteren)
  cycle: 0xc00,
  time: 0xc01,
  instret: 0xc02,
  hpmcounter3: 0xc03,
  hpmcounter31: 0xc1f,
  // Supervisor
  sstatus: 0x100,
  sie: 0x104,
  stvec: 0x105,
  scounteren: 0x106,
  senvcfg: 0x10a,
  sscratch: 0x140,
  sepc: 0x141,
  scause: 0x142,
  stval: 0x143,
  sip: 0x144,
  /** Sstc: supervisor timer compare. */
  stimecmp: 0x14d,
  satp: 0x180,
  // Machine information (read-only)
  mvendorid: 0xf11,
  marchid: 0xf12,
  mimpid: 0xf13,
  mhartid: 0xf14,
  mconfigptr: 0xf15,
  // Machine trap setup and handling
  mstatus: 0x300,
  misa: 0x301,
  medeleg: 0x302,
  mideleg: 0x303,
  mie: 0x304,
  mtvec: 0x305,
  mcounteren: 0x306,
  menvcfg: 0x30a,
  mcountinhibit: 0x320,
  mhpmevent3: 0x323,
  mhpmevent31: 0x33f,
  mscratch: 0x340,
  mepc: 0x341,
  mcause: 0x342,
  mtval: 0x343,
  mip: 0x344,
  // Memory protection
  pmpcfg0: 0x3a0,
  pmpcfg15: 0x3af,
  pmpaddr0: 0x3b0,
  pmpaddr63: 0x3ef,
  mseccfg: 0x747,
  // Debug triggers (none implemented: tselect reads 0 and tdata1 reads type 0)
  tselect: 0x7a0,
  tdata1: 0x7a1,
  tdata2: 0x7a2,
  tdata3: 0x7a3,
  tinfo: 0x7a4,
  // Machine counters
  mcycle: 0xb00,
  minstret: 0xb02,
  mhpmcounter3: 0xb03,
  mhpmcounter31: 0xb1f,
} as const;

/** `mstatus` / `sstatus` field masks (low 32 bits). */
export const Mstatus = {
  SIE: 1 << 1,
  MIE: 1 << 3,
  SPIE: 1 << 5,
  UBE: 1 << 6,
  MPIE: 1 << 7,
  SPP: 1 << 8,
  MPP: 3 << 11,
  FS: 3 << 13,
  MPRV: 1 << 17,
  SUM: 1 << 18,
  MXR: 1 << 19,
  TVM: 1 << 20,
  TW: 1 << 21,
  TSR: 1 << 22,
} as const;

/** Interrupt numbers (bit positions in mip/mie and the cause code of an interrupt). */
export const Interrupt = {
  SSI: 1,
  MSI: 3,
  STI: 5,
  MTI: 7,
  SEI: 9,
  MEI: 11,
} as const;

/** mip bit masks, as passed to `Hart.setIrqLine`. */
export const Mip = {
  SSIP: 1 << 1,
  MSIP: 1 << 3,
  STIP: 1 << 5,
  MTIP: 1 << 7,
  SEIP: 1 << 9,
  MEIP: 1 << 11,
} as const;

/** Exception cause codes (mcause/scause with the interrupt bit clear). */
export const Cause = {
  InstructionMisaligned: 0,
  InstructionAccessFault: 1,
  IllegalInstruction: 2,
  Breakpoint: 3,
  LoadMisaligned: 4,
  LoadAccessFault: 5,
  StoreMisaligned: 6,
  StoreAccessFault: 7,
  EcallFromU: 8,
  EcallFromS: 9,
  EcallFromM: 11,
  InstructionPageFault: 12,
  LoadPageFault: 13,
  StorePageFault: 15,
} as const;

/** Privilege levels. */
export const Priv = { U: 0, S: 1, M: 3 } as const;

/** A privilege level: 0 (U), 1 (S) or 3 (M). */
export type PrivilegeLevel = 0 | 1 | 3;

/** The names of CSRs, by number (for disassemblers, debuggers and messages). */
export function csrName(num: number): string | undefined {
  for (const [name, n] of Object.entries(Csr)) if (n === num) return name;
  if (num > Csr.hpmcounter3 && num < Csr.hpmcounter31) return `hpmcounter${num - 0xc00}`;
  if (num > Csr.mhpmcounter3 && num < Csr.mhpmcounter31) return `mhpmcounter${num - 0xb00}`;
  if (num > Csr.mhpmevent3 && num < Csr.mhpmevent31) return `mhpmevent${num - 0x320}`;
  if (num > Csr.pmpcfg0 && num < Csr.pmpcfg15) return `pmpcfg${num - 0x3a0}`;
  if (num > Csr.pmpaddr0 && num < Csr.pmpaddr63) return `pmpaddr${num - 0x3b0}`;
  return undefined;
}
