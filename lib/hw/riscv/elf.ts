/**
 * ELF64 loader for RISC-V images (little-endian, `EM_RISCV`).
 *
 * {@linkcode parseElf} validates a file and describes it: entry point, `PT_LOAD` segments and
 * the symbol tables (`.symtab`, `.dynsym`). {@linkcode loadElf} copies the segments into physical
 * memory at their physical addresses (`p_paddr`, as spike and QEMU do), zero-filling the part of
 * each segment past its file contents (`.bss`). A malformed or foreign file raises
 * {@linkcode ElfError} with a message that says what is wrong and where.
 *
 * @module
 */

/** `e_machine` of RISC-V. */
export const EM_RISCV = 243;
/** Program header type of a loadable segment. */
export const PT_LOAD = 1;

const ELF_HEADER_SIZE = 64;
const PROGRAM_HEADER_SIZE = 56;
const SECTION_HEADER_SIZE = 64;
const SYMBOL_SIZE = 24;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHT_NOBITS = 8;
const SHT_DYNSYM = 11;
const PN_XNUM = 0xffff;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** What kind of problem an {@linkcode ElfError} reports. */
export type ElfErrorCode =
  | "not-elf"
  | "unsupported"
  | "truncated"
  | "malformed"
  | "load";

/** A malformed, truncated, foreign or unloadable ELF file. */
export class ElfError extends Error {
  /** Category of the problem. */
  readonly code: ElfErrorCode;
  /** Creates an error; `source` (a file name) prefixes the message when given. */
  constructor(code: ElfErrorCode, message: string, source?: string) {
    super(source ? `${source}: ${message}` : message);
    this.name = "ElfError";
    this.code = code;
  }
}

/** One `PT_LOAD` program header. */
export interface ElfSegment {
  /** Index of the program header in the file. */
  index: number;
  /** Physical load address (`p_paddr`). */
  paddr: number;
  /** Virtual address (`p_vaddr`), which may lie above 2^53 (e.g. a kernel's high half). */
  vaddr: bigint;
  /** Offset of the segment's contents in the file. */
  offset: number;
  /** Bytes taken from the file (`p_filesz`). */
  fileSize: number;
  /** Bytes the segment occupies in memory (`p_memsz`); the rest past `fileSize` is zeroed. */
  memSize: number;
  /** `p_flags`: bit 0 execute, bit 1 write, bit 2 read. */
  flags: number;
  /** The segment's file contents (a view into the file, `fileSize` bytes). */
  data: Uint8Array;
}

/** Binding of a symbol. */
export type ElfSymbolBind = "local" | "global" | "weak" | "other";
/** Type of a symbol. */
export type ElfSymbolType = "notype" | "object" | "func" | "section" | "file" | "tls" | "other";

/** One entry of a symbol table. */
export interface ElfSymbol {
  /** Symbol name. */
  name: string;
  /** `st_value`: for a linked image, the symbol's (virtual) address. */
  value: bigint;
  /** `st_size`. */
  size: number;
  /** Binding (local, global, weak). */
  bind: ElfSymbolBind;
  /** Type (object, function, ...). */
  type: ElfSymbolType;
  /** Index of the section the symbol belongs to (0 = undefined, 0xfff1 = absolute). */
  section: number;
}

/** RISC-V `e_flags`, decoded. */
export interface RiscvElfFlags {
  /** The image uses compressed instructions (EF_RISCV_RVC). */
  rvc: boolean;
  /** Floating-point ABI: soft, single, double or quad. */
  floatAbi: "soft" | "single" | "double" | "quad";
  /** The RV32E/RV64E base (EF_RISCV_RVE). */
  rve: boolean;
  /** Total store ordering (EF_RISCV_TSO). */
  tso: boolean;
}

/** A validated ELF64 RISC-V file. */
export interface ElfImage {
  /** `e_type`: 2 = executable, 3 = shared object / position-independent executable. */
  type: number;
  /** Raw `e_entry` (a virtual address). */
  entryVirtual: bigint;
  /**
   * Physical address execution starts at: `e_entry` translated through the segment that contains
   * it (identity when `p_vaddr` equals `p_paddr`, the usual case for bare-metal images).
   */
  entry: number;
  /** Raw `e_flags`. */
  flags: number;
  /** `e_flags` decoded. */
  riscvFlags: RiscvElfFlags;
  /** The `PT_LOAD` segments in file order. */
  segments: ElfSegment[];
  /** Every named symbol from `.symtab` and `.dynsym`. */
  symbols: ElfSymbol[];
  /** Looks a symbol up by name (a global or weak definition wins over a local one). */
  symbol(name: string): ElfSymbol | undefined;
  /**
   * Physical address of a symbol: its value translated through the segment containing it,
   * or the value itself when no segment contains it. `undefined` when there is no such symbol
   * or its address is not a safe integer.
   */
  symbolAddress(name: string): number | undefined;
}

/** Where {@linkcode loadElf} and {@linkcode loadRaw} write; a `Bus` fits this interface. */
export interface LoadTarget {
  /** Writes bytes at a physical address; `false` when nothing answers there. */
  writeBytes(addr: number, data: Uint8Array): boolean;
}

/** A physical range that a loader wrote. */
export interface LoadedRange {
  /** First byte. */
  addr: number;
  /** Length in bytes. */
  size: number;
}

const MACHINES: Record<number, string> = {
  0: "none",
  2: "SPARC",
  3: "x86",
  8: "MIPS",
  20: "PowerPC",
  21: "PowerPC64",
  22: "S/390",
  40: "ARM",
  42: "SuperH",
  50: "IA-64",
  62: "x86-64",
  183: "AArch64",
  243: "RISC-V",
  247: "BPF",
  258: "LoongArch",
};

const hex = (value: number | bigint): string => `0x${value.toString(16)}`;

/** `true` when the bytes start with the ELF magic `\x7fELF`. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c &&
    bytes[3] === 0x46;
}

/**
 * Parses and validates an ELF64 RISC-V little-endian file.
 *
 * @param bytes the whole file
 * @param source a name for the file (e.g. its path) used in error messages
 * @throws {ElfError} when the file is not an ELF, is foreign (class, endianness, machine, type),
 * truncated, or inconsistent (headers or segments outside the file, overlapping segments).
 */
export function parseElf(bytes: Uint8Array, source?: string): ElfImage {
  const fail = (code: ElfErrorCode, message: string): never => {
    throw new ElfError(code, message, source);
  };
  if (!isElf(bytes)) {
    const shown = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0"));
    fail(
      bytes.length < 4 ? "truncated" : "not-elf",
      bytes.length < 4
        ? `not an ELF file: only ${bytes.length} bytes, too short for the magic number`
        : `not an ELF file: wrong magic number ${shown.join(" ")} (expected 7f 45 4c 46)`,
    );
  }
  if (bytes.length < 16) fail("truncated", `truncated ELF identification: ${bytes.length} bytes`);
  const elfClass = bytes[4];
  if (elfClass === 1) {
    fail("unsupported", "ELF32 file (class 1): only ELF64 (RV64) images are supported");
  }
  if (elfClass !== 2) fail("malformed", `invalid ELF class ${elfClass} (expected 2, ELF64)`);
  const data = bytes[5];
  if (data === 2) fail("unsupported", "big-endian ELF file: RISC-V images are little-endian");
  if (data !== 1) {
    fail("malformed", `invalid ELF data encoding ${data} (expected 1, little-endian)`);
  }
  if (bytes[6] !== 1) fail("malformed", `invalid ELF identification version ${bytes[6]}`);
  if (bytes.length < ELF_HEADER_SIZE) {
    fail(
      "truncated",
      `truncated ELF header: the file has ${bytes.length} bytes, the header needs ${ELF_HEADER_SIZE}`,
    );
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number) => view.getBigUint64(at, true);
  const size = (at: number, what: string): number => {
    const value = u64(at);
    if (value > MAX_SAFE) fail("malformed", `${what} ${hex(value)} is out of range`);
    return Number(value);
  };

  const type = u16(16);
  if (type === 1) {
    fail("unsupported", "relocatable object file (ET_REL): link it into an executable first");
  }
  if (type === 4) fail("unsupported", "core dump (ET_CORE), not an executable image");
  if (type !== 2 && type !== 3) fail("malformed", `unknown ELF type ${type}`);
  const machine = u16(18);
  if (machine !== EM_RISCV) {
    const name = MACHINES[machine];
    fail(
      "unsupported",
      `not a RISC-V file: machine ${machine}${
        name ? ` (${name})` : ""
      }, expected ${EM_RISCV} (RISC-V)`,
    );
  }
  const version = u32(20);
  if (version !== 1) fail("malformed", `invalid ELF version ${version} (expected 1)`);
  const entryVirtual = u64(24);
  const phoff = size(32, "program header offset");
  const shoff = size(40, "section header offset");
  const flags = u32(48);
  const ehsize = u16(52);
  if (ehsize < ELF_HEADER_SIZE) {
    fail("malformed", `ELF header size ${ehsize} is smaller than ${ELF_HEADER_SIZE}`);
  }
  const phentsize = u16(54);
  let phnum = u16(56);
  const shentsize = u16(58);
  let shnum = u16(60);

  // Section headers (optional for loading; needed for symbols).
  if (shoff !== 0) {
    if (shentsize !== SECTION_HEADER_SIZE) {
      fail("malformed", `section header size ${shentsize} (expected ${SECTION_HEADER_SIZE})`);
    }
    if (shoff + SECTION_HEADER_SIZE > bytes.length) {
      fail(
        "truncated",
        `section header table at ${
          hex(shoff)
        } lies past the end of the file (${bytes.length} bytes)`,
      );
    }
    if (shnum === 0) shnum = size(shoff + 32, "section count (section 0 sh_size)");
    if (phnum === PN_XNUM) phnum = u32(shoff + 44);
    if (shoff + shnum * SECTION_HEADER_SIZE > bytes.length) {
      fail(
        "truncated",
        `section header table (${shnum} entries at ${
          hex(shoff)
        }) extends past the end of the file (${bytes.length} bytes)`,
      );
    }
  } else {
    shnum = 0;
  }

  if (phnum === 0) fail("malformed", "no program headers: nothing to load");
  if (phentsize !== PROGRAM_HEADER_SIZE) {
    fail("malformed", `program header size ${phentsize} (expected ${PROGRAM_HEADER_SIZE})`);
  }
  if (phoff === 0 || phoff + phnum * PROGRAM_HEADER_SIZE > bytes.length) {
    fail(
      "truncated",
      `program header table (${phnum} entries at ${
        hex(phoff)
      }) extends past the end of the file (${bytes.length} bytes)`,
    );
  }

  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * PROGRAM_HEADER_SIZE;
    if (u32(at) !== PT_LOAD) continue;
    const where = `program header ${i} (PT_LOAD)`;
    const segFlags = u32(at + 4);
    const offset = size(at + 8, `${where}: file offset`);
    const vaddr = u64(at + 16);
    const paddr = size(at + 24, `${where}: physical address`);
    const fileSize = size(at + 32, `${where}: file size`);
    const memSize = size(at + 40, `${where}: memory size`);
    if (fileSize > memSize) {
      fail(
        "malformed",
        `${where}: file size ${hex(fileSize)} exceeds memory size ${hex(memSize)}`,
      );
    }
    if (offset + fileSize > bytes.length) {
      fail(
        "truncated",
        `${where}: contents at file offset ${hex(offset)}..${
          hex(offset + fileSize)
        } lie outside the file (${bytes.length} bytes)`,
      );
    }
    if (paddr + memSize > Number.MAX_SAFE_INTEGER) {
      fail("malformed", `${where}: physical range ${hex(paddr)}+${hex(memSize)} is out of range`);
    }
    if (memSize === 0) continue;
    segments.push({
      index: i,
      paddr,
      vaddr,
      offset,
      fileSize,
      memSize,
      flags: segFlags,
      data: bytes.subarray(offset, offset + fileSize),
    });
  }
  if (segments.length === 0) fail("malformed", "no loadable (PT_LOAD) segments with contents");
  const sorted = [...segments].sort((a, b) => a.paddr - b.paddr);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1], next = sorted[i];
    if (prev.paddr + prev.memSize > next.paddr) {
      fail(
        "malformed",
        `program headers ${prev.index} and ${next.index} overlap in physical memory ` +
          `(${hex(prev.paddr)}+${hex(prev.memSize)} and ${hex(next.paddr)}+${hex(next.memSize)})`,
      );
    }
  }

  const toPhysical = (vaddrValue: bigint): number | undefined => {
    for (const s of segments) {
      if (vaddrValue >= s.vaddr && vaddrValue < s.vaddr + BigInt(s.memSize)) {
        return s.paddr + Number(vaddrValue - s.vaddr);
      }
    }
    return vaddrValue <= MAX_SAFE ? Number(vaddrValue) : undefined;
  };
  const entry = toPhysical(entryVirtual);
  if (entry === undefined) {
    fail(
      "malformed",
      `entry point ${hex(entryVirtual)} lies in no segment and is not a physical address`,
    );
  }

  const symbols = shnum > 0 ? readSymbols(bytes, view, shoff, shnum, fail) : [];
  const byName = new Map<string, ElfSymbol>();
  const rank = (s: ElfSymbol) => (s.section === 0 ? 0 : s.bind === "local" ? 1 : 2);
  for (const s of symbols) {
    const known = byName.get(s.name);
    if (!known || rank(s) > rank(known)) byName.set(s.name, s);
  }

  return {
    type,
    entryVirtual,
    entry: entry as number,
    flags,
    riscvFlags: {
      rvc: (flags & 1) !== 0,
      floatAbi: (["soft", "single", "double", "quad"] as const)[(flags >> 1) & 3],
      rve: (flags & 8) !== 0,
      tso: (flags & 0x10) !== 0,
    },
    segments,
    symbols,
    symbol: (name) => byName.get(name),
    symbolAddress: (name) => {
      const s = byName.get(name);
      return s && s.section !== 0 ? toPhysical(s.value) : undefined;
    },
  };
}

function readSymbols(
  bytes: Uint8Array,
  view: DataView,
  shoff: number,
  shnum: number,
  fail: (code: ElfErrorCode, message: string) => never,
): ElfSymbol[] {
  const section = (i: number) => {
    const at = shoff + i * SECTION_HEADER_SIZE;
    const offset = view.getBigUint64(at + 24, true);
    const size = view.getBigUint64(at + 32, true);
    return {
      type: view.getUint32(at + 4, true),
      offset,
      size,
      link: view.getUint32(at + 40, true),
      entsize: Number(view.getBigUint64(at + 56, true) & 0xffffn),
    };
  };
  const inFile = (i: number, what: string) => {
    const s = section(i);
    if (s.type !== SHT_NOBITS && s.offset + s.size > BigInt(bytes.length)) {
      fail(
        "truncated",
        `section ${i} (${what}) at file offset ${hex(s.offset)}+${
          hex(s.size)
        } extends past the end of the file (${bytes.length} bytes)`,
      );
    }
    return { ...s, offset: Number(s.offset), size: Number(s.size) };
  };
  const decoder = new TextDecoder();
  const symbols: ElfSymbol[] = [];
  for (let i = 0; i < shnum; i++) {
    const type = section(i).type;
    if (type !== SHT_SYMTAB && type !== SHT_DYNSYM) continue;
    const what = type === SHT_SYMTAB ? "symbol table" : "dynamic symbol table";
    const table = inFile(i, what);
    if (table.entsize !== 0 && table.entsize !== SYMBOL_SIZE) {
      fail("malformed", `section ${i} (${what}): entry size ${table.entsize} (expected 24)`);
    }
    if (table.link >= shnum) {
      fail("malformed", `section ${i} (${what}): string table index ${table.link} out of range`);
    }
    const strings = inFile(table.link, "string table");
    if (strings.type !== SHT_STRTAB) {
      fail(
        "malformed",
        `section ${i} (${what}): linked section ${table.link} is not a string table`,
      );
    }
    const strBytes = bytes.subarray(strings.offset, strings.offset + strings.size);
    const count = Math.floor(table.size / SYMBOL_SIZE);
    for (let k = 1; k < count; k++) {
      const at = table.offset + k * SYMBOL_SIZE;
      const nameOffset = view.getUint32(at, true);
      if (nameOffset === 0) continue;
      if (nameOffset >= strBytes.length) {
        fail(
          "malformed",
          `section ${i} (${what}): symbol ${k} has a name outside the string table`,
        );
      }
      let end = nameOffset;
      while (end < strBytes.length && strBytes[end] !== 0) end++;
      const info = bytes[at + 4];
      const bindValue = info >> 4, typeValue = info & 15;
      symbols.push({
        name: decoder.decode(strBytes.subarray(nameOffset, end)),
        value: view.getBigUint64(at + 8, true),
        size: Number(view.getBigUint64(at + 16, true) & 0xffffffffn),
        bind: bindValue === 0
          ? "local"
          : bindValue === 1
          ? "global"
          : bindValue === 2
          ? "weak"
          : "other",
        type:
          (["notype", "object", "func", "section", "file", "other", "tls"] as const)[typeValue] ??
            "other",
        section: view.getUint16(at + 6, true),
      });
    }
  }
  return symbols;
}

const ZERO_CHUNK = new Uint8Array(65536);

/**
 * Copies an ELF's `PT_LOAD` segments into memory at their physical addresses and zero-fills
 * each segment's tail past its file contents.
 *
 * @returns the ranges written, one per segment
 * @throws {ElfError} (code `load`) when a segment falls where no memory answers
 */
export function loadElf(elf: ElfImage, target: LoadTarget, source?: string): LoadedRange[] {
  const ranges: LoadedRange[] = [];
  for (const s of elf.segments) {
    const ok = (s.fileSize === 0 || target.writeBytes(s.paddr, s.data)) &&
      zeroFill(target, s.paddr + s.fileSize, s.memSize - s.fileSize);
    if (!ok) {
      throw new ElfError(
        "load",
        `program header ${s.index}: ${hex(s.paddr)}..${
          hex(s.paddr + s.memSize)
        } is not backed by memory`,
        source,
      );
    }
    ranges.push({ addr: s.paddr, size: s.memSize });
  }
  return ranges;
}

function zeroFill(target: LoadTarget, addr: number, length: number): boolean {
  while (length > 0) {
    const n = Math.min(length, ZERO_CHUNK.length);
    if (!target.writeBytes(addr, ZERO_CHUNK.subarray(0, n))) return false;
    addr += n;
    length -= n;
  }
  return true;
}

/**
 * Copies a raw binary image into memory at `addr`.
 *
 * @throws {ElfError} (code `load`) when the range is not backed by memory
 */
export function loadRaw(
  bytes: Uint8Array,
  addr: number,
  target: LoadTarget,
  source?: string,
): LoadedRange {
  if (bytes.length > 0 && !target.writeBytes(addr, bytes)) {
    throw new ElfError(
      "load",
      `raw image ${hex(addr)}..${hex(addr + bytes.length)} is not backed by memory`,
      source,
    );
  }
  return { addr, size: bytes.length };
}
