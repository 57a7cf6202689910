/**
 * Tests of the ELF64 loader: real images linked by GNU ld (compared with readelf and nm), and
 * hand-built files that are malformed or foreign in each way the loader must name.
 */

import assert from "node:assert/strict";
import { Bus } from "../../../lib/hw/bus.ts";
import { SparseMemory } from "../../../lib/hw/memory.ts";
import {
  ElfError,
  type ElfErrorCode,
  isElf,
  loadElf,
  loadRaw,
  parseElf,
} from "../../../lib/hw/riscv/elf.ts";

interface SegmentSpec {
  paddr: number;
  vaddr?: bigint;
  data: Uint8Array;
  memSize?: number;
  type?: number;
  flags?: number;
}
interface SymbolSpec {
  name: string;
  value: bigint;
  bind?: number;
  type?: number;
  section?: number;
  size?: number;
}
interface ElfSpec {
  entry?: bigint;
  type?: number;
  machine?: number;
  segments?: SegmentSpec[];
  symbols?: SymbolSpec[];
  flags?: number;
}

/** A small ELF64 writer: header, program headers, segment data, .symtab, .strtab, sections. */
function buildElf(spec: ElfSpec): { bytes: Uint8Array; phoff: number; shoff: number } {
  const segments = spec.segments ?? [{ paddr: 0x8000_0000, data: new Uint8Array([0x13, 0, 0, 0]) }];
  const symbols = spec.symbols ?? [];
  const enc = new TextEncoder();
  const phoff = 64;
  let at = phoff + 56 * segments.length;
  const dataOffsets = segments.map((s) => {
    const o = at;
    at += s.data.length;
    return o;
  });
  // String table: "\0" then names.
  const nameOffsets: number[] = [];
  let strtab: number[] = [0];
  for (const s of symbols) {
    nameOffsets.push(strtab.length);
    strtab = strtab.concat([...enc.encode(s.name), 0]);
  }
  const strOffset = at;
  at += strtab.length;
  at = (at + 7) & ~7;
  const symOffset = at;
  const symSize = 24 * (symbols.length + 1);
  at += symSize;
  const shoff = at;
  const shnum = 3;
  at += 64 * shnum;
  const bytes = new Uint8Array(at);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  v.setUint16(16, spec.type ?? 2, true);
  v.setUint16(18, spec.machine ?? 243, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(24, spec.entry ?? BigInt(segments[0].paddr), true);
  v.setBigUint64(32, BigInt(phoff), true);
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint32(48, spec.flags ?? 5, true);
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, segments.length, true);
  v.setUint16(58, 64, true);
  v.setUint16(60, shnum, true);
  v.setUint16(62, 0, true);
  segments.forEach((s, i) => {
    const p = phoff + 56 * i;
    v.setUint32(p, s.type ?? 1, true);
    v.setUint32(p + 4, s.flags ?? 7, true);
    v.setBigUint64(p + 8, BigInt(dataOffsets[i]), true);
    v.setBigUint64(p + 16, s.vaddr ?? BigInt(s.paddr), true);
    v.setBigUint64(p + 24, BigInt(s.paddr), true);
    v.setBigUint64(p + 32, BigInt(s.data.length), true);
    v.setBigUint64(p + 40, BigInt(s.memSize ?? s.data.length), true);
    v.setBigUint64(p + 48, 0x1000n, true);
    bytes.set(s.data, dataOffsets[i]);
  });
  bytes.set(strtab, strOffset);
  symbols.forEach((s, i) => {
    const p = symOffset + 24 * (i + 1);
    v.setUint32(p, nameOffsets[i], true);
    bytes[p + 4] = ((s.bind ?? 1) << 4) | (s.type ?? 1);
    v.setUint16(p + 6, s.section ?? 1, true);
    v.setBigUint64(p + 8, s.value, true);
    v.setBigUint64(p + 16, BigInt(s.size ?? 8), true);
  });
  // Section 1: .symtab (link 2), section 2: .strtab.
  const sh = (
    i: number,
    type: number,
    offset: number,
    size: number,
    link: number,
    entsize: number,
  ) => {
    const p = shoff + 64 * i;
    v.setUint32(p + 4, type, true);
    v.setBigUint64(p + 24, BigInt(offset), true);
    v.setBigUint64(p + 32, BigInt(size), true);
    v.setUint32(p + 40, link, true);
    v.setBigUint64(p + 56, BigInt(entsize), true);
  };
  sh(1, 2, symOffset, symSize, 2, 24);
  sh(2, 3, strOffset, strtab.length, 0, 0);
  return { bytes, phoff, shoff };
}

function assertElfError(bytes: Uint8Array, code: ElfErrorCode, pattern: RegExp): void {
  assert.throws(
    () => parseElf(bytes, "image.elf"),
    (e: unknown) => {
      assert.ok(e instanceof ElfError, `expected ElfError, got ${e}`);
      assert.equal(e.code, code, e.message);
      assert.match(e.message, /^image\.elf: /);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

function bus(size = 0x100000, base = 0x8000_0000): { bus: Bus; memory: SparseMemory } {
  const memory = new SparseMemory(size);
  const b = new Bus();
  b.mapRam(base, size, memory);
  return { bus: b, memory };
}

Deno.test("elf: parses a hand-built image: entry, segments, symbols, flags", () => {
  const code = new Uint8Array([0x93, 0x00, 0x10, 0x00, 0x6f, 0x00, 0x00, 0x00]);
  const { bytes } = buildElf({
    entry: 0x8000_0004n,
    segments: [
      { paddr: 0x8000_0000, data: code, flags: 5 },
      { paddr: 0x8000_1000, data: new Uint8Array([1, 2, 3]), memSize: 0x2000, flags: 6 },
    ],
    symbols: [
      { name: "tohost", value: 0x8000_1000n },
      { name: "fromhost", value: 0x8000_1040n, bind: 0 },
    ],
  });
  assert.ok(isElf(bytes));
  const elf = parseElf(bytes);
  assert.equal(elf.entry, 0x8000_0004);
  assert.equal(elf.entryVirtual, 0x8000_0004n);
  assert.equal(elf.type, 2);
  assert.deepEqual(elf.riscvFlags, { rvc: true, floatAbi: "double", rve: false, tso: false });
  assert.equal(elf.segments.length, 2);
  assert.deepEqual(
    elf.segments.map((s) => [s.index, s.paddr, s.fileSize, s.memSize, s.flags]),
    [[0, 0x8000_0000, 8, 8, 5], [1, 0x8000_1000, 3, 0x2000, 6]],
  );
  assert.deepEqual([...elf.segments[0].data], [...code]);
  assert.equal(elf.symbolAddress("tohost"), 0x8000_1000);
  assert.equal(elf.symbolAddress("fromhost"), 0x8000_1040);
  assert.equal(elf.symbol("fromhost")?.bind, "local");
  assert.equal(elf.symbol("tohost")?.type, "object");
  assert.equal(elf.symbol("missing"), undefined);
  assert.equal(elf.symbolAddress("missing"), undefined);
});

Deno.test("elf: loads segments at their physical addresses and zero-fills .bss", () => {
  const { bytes } = buildElf({
    segments: [
      { paddr: 0x8000_0000, data: new Uint8Array([1, 2, 3, 4]) },
      { paddr: 0x8001_0000, data: new Uint8Array([9, 9]), memSize: 0x12345 },
    ],
  });
  const { bus: b, memory } = bus(0x40000);
  memory.fill(0, 0x40000, 0xaa); // stale contents that .bss must clear
  const ranges = loadElf(parseElf(bytes), b);
  assert.deepEqual(ranges, [{ addr: 0x8000_0000, size: 4 }, { addr: 0x8001_0000, size: 0x12345 }]);
  assert.deepEqual([...b.readBytes(0x8000_0000, 5)!], [1, 2, 3, 4, 0xaa]);
  assert.deepEqual([...b.readBytes(0x8001_0000, 4)!], [9, 9, 0, 0]);
  const bss = b.readBytes(0x8001_0002, 0x12343)!;
  assert.ok(bss.every((x) => x === 0), "the whole .bss is zero");
  assert.equal(b.read(0x8001_0000 + 0x12345, 1), 0xaa, "the byte after .bss is untouched");
});

Deno.test("elf: entry and symbols translate through segments when vaddr != paddr", () => {
  const { bytes } = buildElf({
    entry: 0xffff_ffff_8000_0010n,
    segments: [{ paddr: 0x8020_0000, vaddr: 0xffff_ffff_8000_0000n, data: new Uint8Array(0x40) }],
    symbols: [{ name: "_start", value: 0xffff_ffff_8000_0010n, type: 2 }],
  });
  const elf = parseElf(bytes);
  assert.equal(elf.entry, 0x8020_0010);
  assert.equal(elf.entryVirtual, 0xffff_ffff_8000_0010n);
  assert.equal(elf.symbolAddress("_start"), 0x8020_0010);
  assert.equal(elf.symbol("_start")?.type, "func");
});

Deno.test("elf: a global definition wins over a local one and over an undefined one", () => {
  const { bytes } = buildElf({
    symbols: [
      { name: "x", value: 1n, bind: 0 },
      { name: "x", value: 0x8000_0000n, bind: 1 },
      { name: "y", value: 0n, bind: 1, section: 0 },
      { name: "y", value: 0x8000_0002n, bind: 0 },
      { name: "w", value: 0x8000_0003n, bind: 2 },
    ],
  });
  const elf = parseElf(bytes);
  assert.equal(elf.symbol("x")?.value, 0x8000_0000n);
  assert.equal(elf.symbol("y")?.value, 0x8000_0002n);
  assert.equal(elf.symbol("w")?.bind, "weak");
  assert.equal(elf.symbols.length, 5);
});

Deno.test("elf: rejects files that are not ELF", () => {
  assertElfError(
    new TextEncoder().encode("#!/bin/sh\necho hi\n"),
    "not-elf",
    /wrong magic number 23 21 2f 62/,
  );
  assertElfError(new Uint8Array([0x7f, 0x45]), "truncated", /only 2 bytes/);
  assert.equal(isElf(new Uint8Array([0x7f, 0x45, 0x4c])), false);
});

Deno.test("elf: rejects foreign files, naming class, endianness, machine and type", () => {
  const good = () => buildElf({}).bytes;
  const b32 = good();
  b32[4] = 1;
  assertElfError(b32, "unsupported", /ELF32 .*only ELF64/);
  const badClass = good();
  badClass[4] = 7;
  assertElfError(badClass, "malformed", /invalid ELF class 7/);
  const be = good();
  be[5] = 2;
  assertElfError(be, "unsupported", /big-endian/);
  assertElfError(
    buildElf({ machine: 62 }).bytes,
    "unsupported",
    /machine 62 \(x86-64\), expected 243/,
  );
  assertElfError(buildElf({ machine: 183 }).bytes, "unsupported", /AArch64/);
  assertElfError(buildElf({ machine: 9999 }).bytes, "unsupported", /machine 9999,/);
  assertElfError(buildElf({ type: 1 }).bytes, "unsupported", /relocatable object file/);
  assertElfError(buildElf({ type: 4 }).bytes, "unsupported", /core dump/);
  assertElfError(buildElf({ type: 9 }).bytes, "malformed", /unknown ELF type 9/);
  const version = good();
  new DataView(version.buffer).setUint32(20, 2, true);
  assertElfError(version, "malformed", /invalid ELF version 2/);
});

Deno.test("elf: rejects truncated headers and tables", () => {
  const { bytes, phoff, shoff } = buildElf({});
  assertElfError(bytes.subarray(0, 40), "truncated", /truncated ELF header: the file has 40 bytes/);
  assertElfError(bytes.subarray(0, 12), "truncated", /truncated ELF identification/);
  const noSections = bytes.slice(0, phoff + 20);
  new DataView(noSections.buffer).setBigUint64(40, 0n, true);
  assertElfError(noSections, "truncated", /program header table .* extends past the end/);
  assertElfError(
    bytes.subarray(0, shoff + 70),
    "truncated",
    /section header table .* extends past the end/,
  );
  const far = bytes.slice();
  new DataView(far.buffer).setBigUint64(32, 0x10000n, true);
  assertElfError(far, "truncated", /program header table \(1 entries at 0x10000\)/);
  const sh = bytes.slice();
  new DataView(sh.buffer).setBigUint64(40, 0x7fff_0000n, true);
  assertElfError(sh, "truncated", /section header table at 0x7fff0000 lies past the end/);
});

Deno.test("elf: rejects segments outside the file and inconsistent segments", () => {
  const { bytes, phoff } = buildElf({});
  const outside = bytes.slice();
  new DataView(outside.buffer).setBigUint64(phoff + 8, 0x9999n, true);
  assertElfError(
    outside,
    "truncated",
    /program header 0 \(PT_LOAD\): contents at file offset 0x9999/,
  );
  const big = bytes.slice();
  new DataView(big.buffer).setBigUint64(phoff + 32, 0x100000n, true);
  new DataView(big.buffer).setBigUint64(phoff + 40, 0x100000n, true);
  assertElfError(big, "truncated", /lie outside the file/);
  const inverted = bytes.slice();
  new DataView(inverted.buffer).setBigUint64(phoff + 40, 2n, true);
  assertElfError(inverted, "malformed", /file size 0x4 exceeds memory size 0x2/);
  const huge = bytes.slice();
  new DataView(huge.buffer).setBigUint64(phoff + 24, 0xffff_ffff_ffff_0000n, true);
  assertElfError(huge, "malformed", /physical address 0xffffffffffff0000 is out of range/);
  assertElfError(
    buildElf({ segments: [{ paddr: 0x8000_0000, data: new Uint8Array(4), type: 4 }] }).bytes,
    "malformed",
    /no loadable \(PT_LOAD\) segments/,
  );
  assertElfError(
    buildElf({
      segments: [
        { paddr: 0x8000_0000, data: new Uint8Array(16) },
        { paddr: 0x8000_0008, data: new Uint8Array(16) },
      ],
    }).bytes,
    "malformed",
    /program headers 0 and 1 overlap in physical memory/,
  );
  const phsize = bytes.slice();
  new DataView(phsize.buffer).setUint16(54, 32, true);
  assertElfError(phsize, "malformed", /program header size 32 \(expected 56\)/);
  const nophdr = bytes.slice();
  new DataView(nophdr.buffer).setUint16(56, 0, true);
  assertElfError(nophdr, "malformed", /no program headers/);
  assertElfError(
    buildElf({ entry: 0xffff_ffff_0000_0000n }).bytes,
    "malformed",
    /entry point 0xffffffff00000000 lies in no segment/,
  );
});

Deno.test("elf: rejects a symbol table outside the file or with a bad string table", () => {
  const { bytes, shoff } = buildElf({ symbols: [{ name: "tohost", value: 0x8000_0000n }] });
  const sym = bytes.slice();
  new DataView(sym.buffer).setBigUint64(shoff + 64 + 24, 0x100000n, true);
  assertElfError(sym, "truncated", /section 1 \(symbol table\) at file offset 0x100000/);
  const link = bytes.slice();
  new DataView(link.buffer).setUint32(shoff + 64 + 40, 9, true);
  assertElfError(link, "malformed", /string table index 9 out of range/);
  const notStr = bytes.slice();
  new DataView(notStr.buffer).setUint32(shoff + 64 + 40, 1, true);
  assertElfError(notStr, "malformed", /linked section 1 is not a string table/);
  const name = bytes.slice();
  const symAt = Number(new DataView(name.buffer).getBigUint64(shoff + 64 + 24, true)) + 24;
  new DataView(name.buffer).setUint32(symAt, 0x5000, true);
  assertElfError(name, "malformed", /symbol 1 has a name outside the string table/);
});

Deno.test("elf: extended program header numbering (PN_XNUM) reads the count from section 0", () => {
  const { bytes, shoff } = buildElf({});
  const v = new DataView(bytes.buffer);
  v.setUint16(56, 0xffff, true);
  v.setUint32(shoff + 44, 1, true);
  assert.equal(parseElf(bytes).segments.length, 1);
});

Deno.test("elf: loading where no memory answers is an error naming the segment", () => {
  const { bytes } = buildElf({ segments: [{ paddr: 0x1000, data: new Uint8Array(8) }] });
  const { bus: b } = bus();
  assert.throws(() => loadElf(parseElf(bytes), b, "k.elf"), (e: unknown) => {
    assert.ok(e instanceof ElfError);
    assert.equal(e.code, "load");
    assert.match(e.message, /^k\.elf: program header 0: 0x1000\.\.0x1008 is not backed by memory/);
    return true;
  });
  const partly = buildElf({
    segments: [{ paddr: 0x800f_fff0, data: new Uint8Array(8), memSize: 0x100 }],
  }).bytes;
  assert.throws(() => loadElf(parseElf(partly), b), /is not backed by memory/);
});

Deno.test("elf: loadRaw copies bytes and rejects unbacked ranges", () => {
  const { bus: b } = bus();
  assert.deepEqual(loadRaw(new Uint8Array([5, 6, 7]), 0x8000_0100, b), {
    addr: 0x8000_0100,
    size: 3,
  });
  assert.deepEqual([...b.readBytes(0x8000_0100, 3)!], [5, 6, 7]);
  assert.throws(
    () => loadRaw(new Uint8Array([1]), 0x10, b, "x.bin"),
    /x\.bin: raw image 0x10\.\.0x11/,
  );
});

const GNU_AS = "riscv64-unknown-elf-as";
const haveBinutils = (() => {
  try {
    return new Deno.Command(GNU_AS, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

function tool(cmd: string, args: string[]): string {
  const out = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).outputSync();
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

Deno.test({
  name: "elf: a GNU-linked image matches readelf, nm and objcopy",
  ignore: !haveBinutils,
  fn() {
    const dir = Deno.makeTempDirSync({ prefix: "elf_test_" });
    try {
      Deno.writeTextFileSync(
        `${dir}/t.S`,
        `.text\n.globl _start\n_start:\n  la t0, counter\n  ld t1, 0(t0)\n  j _start\n` +
          `.data\n.balign 8\n.globl tohost\ntohost: .dword 0\nfromhost: .dword 0\nmessage: .asciz "hi"\n` +
          `.bss\n.balign 8\ncounter: .zero 8\nbuffer: .zero 70000\n`,
      );
      tool(GNU_AS, ["-march=rv64imac", "-o", `${dir}/t.o`, `${dir}/t.S`]);
      Deno.writeTextFileSync(
        `${dir}/link.ld`,
        `ENTRY(_start)\nSECTIONS {\n  . = 0x80000000;\n  .text : { *(.text) }\n` +
          `  . = 0x80002000;\n  .data : { *(.data) }\n  .bss : { *(.bss) }\n}\n`,
      );
      tool("riscv64-unknown-elf-ld", ["-T", `${dir}/link.ld`, "-o", `${dir}/t.elf`, `${dir}/t.o`]);
      const bytes = Deno.readFileSync(`${dir}/t.elf`);
      const elf = parseElf(bytes, "t.elf");

      const header = tool("riscv64-unknown-elf-readelf", ["-hlW", `${dir}/t.elf`]);
      const entry = /Entry point address:\s+0x([0-9a-f]+)/.exec(header)![1];
      assert.equal(elf.entry, parseInt(entry, 16));
      const loads = [...header.matchAll(
        /^\s+LOAD\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+)/gm,
      )].map((m) => m.slice(1).map((x) => parseInt(x, 16)));
      assert.deepEqual(
        elf.segments.map((s) => [s.offset, Number(s.vaddr), s.paddr, s.fileSize, s.memSize]),
        loads.filter((l) => l[4] > 0),
      );

      const nm = tool("riscv64-unknown-elf-nm", [`${dir}/t.elf`]);
      for (const line of nm.trim().split("\n")) {
        const [value, , name] = line.trim().split(/\s+/);
        assert.equal(elf.symbol(name)?.value, BigInt(`0x${value}`), `symbol ${name}`);
      }
      assert.equal(elf.symbolAddress("tohost"), 0x8000_2000);
      assert.equal(elf.symbolAddress("fromhost"), 0x8000_2008);

      const { bus: b, memory } = bus(0x100000);
      memory.fill(0, 0x100000, 0x5a);
      loadElf(elf, b);
      tool("riscv64-unknown-elf-objcopy", [
        "-O",
        "binary",
        "-j",
        ".text",
        `${dir}/t.elf`,
        `${dir}/text.bin`,
      ]);
      const text = Deno.readFileSync(`${dir}/text.bin`);
      assert.deepEqual(b.readBytes(0x8000_0000, text.length), text);
      assert.deepEqual([...b.readBytes(elf.symbolAddress("message")!, 3)!], [0x68, 0x69, 0]);
      const counter = elf.symbolAddress("counter")!;
      assert.ok(b.readBytes(counter, 70008)!.every((x) => x === 0), ".bss is zero-filled");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
