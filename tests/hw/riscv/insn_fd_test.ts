/**
 * F and D on the hart: decoding and execution of every FP instruction class (with simple,
 * exactly representable values in round-to-nearest, so that the results are the same on any
 * correct FPU), mstatus.FS (Off makes every FP instruction and FP CSR illegal; FP state changes
 * set Dirty; SD mirrors it), NaN boxing on flw and fmv.w.x, the compressed FP loads and stores,
 * rounding-mode validity (rm 5 and 6 and an invalid frm with rm = 7 are illegal), the JIT tier
 * running FP code, and FP state in snapshots.
 */
import assert from "node:assert/strict";
import { Hart } from "../../../lib/hw/riscv/hart.ts";
import { decode, Op } from "../../../lib/hw/riscv/decoder.ts";
import { RAM_BASE, rig, u64 } from "./hart_rig_test.ts";

const MSTATUS = 0x300;
const FS_INITIAL = 1n << 13n;
const FS_DIRTY = 3n << 13n;
const SD = 1n << 63n;

/** Encoders of FP instructions (as `.word`/`.half` lines: our assembler has no FP syntax). */
const enc = {
  r: (f7: number, rs2: number, rs1: number, f3: number, rd: number) =>
    `.word 0x${
      (((f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x53) >>> 0).toString(16)
    }`,
  load: (f3: number, rd: number, rs1: number, imm: number) =>
    `.word 0x${
      ((((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x07) >>> 0).toString(16)
    }`,
  store: (f3: number, rs2: number, rs1: number, imm: number) =>
    `.word 0x${
      ((((imm >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 31) << 7) | 0x27) >>>
        0).toString(16)
    }`,
  fma: (opcode: number, fmt: number, rd: number, rs1: number, rs2: number, rs3: number, rm = 7) =>
    `.word 0x${
      (((rs3 << 27) | (fmt << 25) | (rs2 << 20) | (rs1 << 15) | (rm << 12) | (rd << 7) | opcode) >>>
        0).toString(16)
    }`,
};
const D = 1;
const S = 0;
const fadd = (fmt: number, rd: number, a: number, b: number, rm = 7) => enc.r(fmt, b, a, rm, rd);
const fsub = (fmt: number, rd: number, a: number, b: number, rm = 7) =>
  enc.r(4 | fmt, b, a, rm, rd);
const fmul = (fmt: number, rd: number, a: number, b: number, rm = 7) =>
  enc.r(8 | fmt, b, a, rm, rd);
const fdiv = (fmt: number, rd: number, a: number, b: number, rm = 7) =>
  enc.r(12 | fmt, b, a, rm, rd);
const fsqrt = (fmt: number, rd: number, a: number) => enc.r(0x2c | fmt, 0, a, 7, rd);
const fsgnjn = (fmt: number, rd: number, a: number, b: number) => enc.r(0x10 | fmt, b, a, 1, rd);
const fmax = (fmt: number, rd: number, a: number, b: number) => enc.r(0x14 | fmt, b, a, 1, rd);
const fcmp = (fmt: number, kind: number, rd: number, a: number, b: number) =>
  enc.r(0x50 | fmt, b, a, kind, rd);
const fcvtToInt = (fmt: number, kind: number, rd: number, a: number) =>
  enc.r(0x60 | fmt, kind, a, 7, rd);
const fcvtFromInt = (fmt: number, kind: number, rd: number, a: number) =>
  enc.r(0x68 | fmt, kind, a, 7, rd);
const fcvtSD = (rd: number, a: number) => enc.r(0x20, 1, a, 7, rd);
const fcvtDS = (rd: number, a: number) => enc.r(0x21, 0, a, 7, rd);
const fmvXF = (fmt: number, rd: number, a: number) => enc.r(0x70 | fmt, 0, a, 0, rd);
const fclass = (fmt: number, rd: number, a: number) => enc.r(0x70 | fmt, 0, a, 1, rd);
const fmvFX = (fmt: number, rd: number, a: number) => enc.r(0x78 | fmt, 0, a, 0, rd);
const fld = (rd: number, rs1: number, imm: number) => enc.load(3, rd, rs1, imm);
const flw = (rd: number, rs1: number, imm: number) => enc.load(2, rd, rs1, imm);
const fsd = (rs2: number, rs1: number, imm: number) => enc.store(3, rs2, rs1, imm);
const fsw = (rs2: number, rs1: number, imm: number) => enc.store(2, rs2, rs1, imm);
const half = (v: number) => `.half 0x${v.toString(16)}`;
const cfld = (rd: number, rs1: number, imm: number) =>
  half(
    (1 << 13) | (((imm >> 3) & 7) << 10) | ((rs1 - 8) << 7) | (((imm >> 6) & 3) << 5) |
      ((rd - 8) << 2),
  );
const cfsd = (rs2: number, rs1: number, imm: number) =>
  half(
    (5 << 13) | (((imm >> 3) & 7) << 10) | ((rs1 - 8) << 7) | (((imm >> 6) & 3) << 5) |
      ((rs2 - 8) << 2),
  );
const cfldsp = (rd: number, imm: number) =>
  half(
    (1 << 13) | (((imm >> 5) & 1) << 12) | (rd << 7) | (((imm >> 3) & 3) << 5) |
      (((imm >> 6) & 7) << 2) | 2,
  );
const cfsdsp = (rs2: number, imm: number) =>
  half((5 << 13) | (((imm >> 3) & 7) << 10) | (((imm >> 6) & 7) << 7) | (rs2 << 2) | 2);

const f64bits = (v: number): bigint => {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, v, true);
  return b.getBigUint64(0, true);
};
const f32bits = (v: number): bigint => {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, v, true);
  return BigInt(b.getUint32(0, true));
};
const boxed = (v: number): bigint => 0xffffffff00000000n | f32bits(v);
/** f register `i` as raw 64 bits. */
const freg = (h: Hart, i: number): bigint =>
  (BigInt(h.fp.words[i * 2 + 1] >>> 0) << 32n) | BigInt(h.fp.words[i * 2] >>> 0);

/** A program that turns FP on (FS = Initial), runs `body`, and stops at `done`. */
const program = (body: string, data = "") => `
_start:
  li t0, 1 << 13
  csrs mstatus, t0
  la s0, data
${body}
done:
  j done
  .align 3
data:
  .dword 0x3ff8000000000000  # 1.5
  .dword 0x4002000000000000  # 2.25
  .dword 0x3f800000bf800000  # singles 1.0 (high), -1.0 (low)
  .dword 0
  .dword 0
  .dword 0
${data}
`;

Deno.test("F/D: double arithmetic, fma, sqrt, sign injection, min/max", () => {
  const r = rig(program(`
  ${fld(1, 8, 0)}
  ${fld(2, 8, 8)}
  ${fadd(D, 3, 1, 2)}
  ${fsub(D, 4, 1, 2)}
  ${fmul(D, 5, 1, 2)}
  ${fdiv(D, 6, 2, 1, 0)}
  ${enc.fma(0x43, D, 7, 1, 2, 1)}
  ${enc.fma(0x4f, D, 8, 1, 2, 1)}
  ${fmul(D, 9, 2, 2)}
  ${fsqrt(D, 10, 9)}
  ${fsgnjn(D, 11, 1, 1)}
  ${fmax(D, 12, 1, 2)}
`));
  r.runToDone();
  const h = r.hart;
  assert.equal(freg(h, 3), f64bits(3.75));
  assert.equal(freg(h, 4), f64bits(-0.75));
  assert.equal(freg(h, 5), f64bits(3.375));
  assert.equal(freg(h, 6), f64bits(1.5));
  assert.equal(freg(h, 7), f64bits(1.5 * 2.25 + 1.5));
  assert.equal(freg(h, 8), f64bits(-(1.5 * 2.25) - 1.5));
  assert.equal(freg(h, 10), f64bits(2.25));
  assert.equal(freg(h, 11), f64bits(-1.5));
  assert.equal(freg(h, 12), f64bits(2.25));
  assert.equal(h.readCsr(0x001), 0n, "exact operations raise no flag");
});

Deno.test("F/D: compares, fclass, conversions to and from integers and between formats", () => {
  const r = rig(program(`
  ${fld(1, 8, 0)}
  ${fld(2, 8, 8)}
  ${fcmp(D, 2, 10, 1, 1)}
  ${fcmp(D, 1, 11, 1, 2)}
  ${fcmp(D, 0, 12, 2, 1)}
  ${fclass(D, 13, 1)}
  ${fsgnjn(D, 3, 2, 2)}
  ${fcvtToInt(D, 2, 14, 3)}
  li t1, -5
  ${fcvtFromInt(D, 2, 4, 6)}
  ${fcvtToInt(D, 0, 15, 4)}
  li t2, 7
  ${fcvtFromInt(S, 0, 5, 7)}
  ${fcvtDS(6, 5)}
  ${fcvtSD(7, 1)}
  ${fmvXF(D, 16, 6)}
`));
  r.runToDone();
  const h = r.hart;
  assert.equal(r.x("a0"), 1n, "feq 1.5, 1.5");
  assert.equal(r.x("a1"), 1n, "flt 1.5, 2.25");
  assert.equal(r.x("a2"), 0n, "fle 2.25, 1.5");
  assert.equal(r.x("a3"), 1n << 6n, "fclass of a positive normal");
  assert.equal(r.x("a4"), u64(-2n), "fcvt.l.d -2.25 (dynamic RNE) = -2");
  assert.equal(freg(h, 4), f64bits(-5));
  assert.equal(r.x("a5"), u64(-5n), "fcvt.w.d -5.0");
  assert.equal(freg(h, 5), boxed(7), "fcvt.s.w gives a NaN-boxed single");
  assert.equal(r.x("a6"), f64bits(7), "fcvt.d.s");
  assert.equal(freg(h, 7), boxed(1.5), "fcvt.s.d");
});

Deno.test("F: NaN boxing on flw and fmv.w.x; fmv.x.w sign-extends; fsw stores the low word", () => {
  const r = rig(program(`
  ${flw(1, 8, 16)}
  ${flw(2, 8, 20)}
  ${fmvXF(S, 10, 1)}
  ${fmvXF(D, 11, 2)}
  li t1, 0x40000000
  ${fmvFX(S, 3, 6)}
  ${fadd(S, 4, 2, 3)}
  ${fsw(4, 8, 24)}
  lwu a2, 24(s0)
  ${fmvFX(D, 5, 6)}
  ${fadd(S, 6, 5, 5)}
  ${fmvXF(S, 13, 6)}
`));
  r.runToDone();
  const h = r.hart;
  assert.equal(freg(h, 1), boxed(-1));
  assert.equal(r.x("a0"), u64(BigInt.asIntN(32, f32bits(-1))), "fmv.x.w sign-extends");
  assert.equal(r.x("a1"), boxed(1), "fmv.x.d shows the box");
  assert.equal(freg(h, 3), boxed(2));
  assert.equal(r.x("a2"), f32bits(3));
  // f5 holds 0x0000_0000_4000_0000: not a boxed single, so it reads as the canonical NaN.
  assert.equal(r.x("a3"), 0x7fc00000n, "an unboxed single operand reads as the canonical NaN");
});

Deno.test("C: c.fld, c.fsd, c.fldsp, c.fsdsp", () => {
  const r = rig(program(`
  ${cfld(9, 8, 8)}
  ${cfsd(9, 8, 32)}
  ld a0, 32(s0)
  mv sp, s0
  ${cfldsp(20, 0)}
  ${cfsdsp(20, 40)}
  ld a1, 40(s0)
`));
  r.runToDone();
  assert.equal(r.x("a0"), f64bits(2.25));
  assert.equal(r.x("a1"), f64bits(1.5));
  assert.equal(freg(r.hart, 20), f64bits(1.5));
  // The RV64 encodings of c.flw/c.fsw are c.ld/c.sd.
  assert.equal(decode(0x6000).word & 255, Op.LD);
  assert.equal(decode(0xe000).word & 255, Op.SD);
  assert.equal(decode(0x2000).word & 255, Op.FLD);
  assert.equal(decode(0xa002).word & 255, Op.FSD);
});

const trapVector = `
  la t0, trap
  csrw mtvec, t0
`;
const trapHandler = `
  .align 2
trap:
  csrr a6, mcause
  csrr a7, mtval
  j done
`;

Deno.test("mstatus.FS Off: FP instructions and FP CSRs are illegal", () => {
  const cases: [string, string][] = [
    ["fadd.d", fadd(D, 1, 2, 3)],
    ["fld", fld(1, 8, 0)],
    ["fsd", fsd(1, 8, 0)],
    ["fmv.x.d", fmvXF(D, 10, 1)],
    ["c.fld", cfld(9, 8, 0)],
    ["csrr fcsr", "csrr a0, fcsr"],
    ["csrw frm", "csrwi frm, 1"],
    ["csrr fflags", "csrr a0, fflags"],
  ];
  for (const [name, insn] of cases) {
    const r = rig(`
_start:
${trapVector}
  la s0, buf
  li a6, 99
insn:
  ${insn}
done:
  j done
${trapHandler}
  .align 3
buf:
  .dword 0
`);
    r.runToDone();
    assert.equal(r.x("a6"), 2n, `${name}: illegal instruction`);
    const bits = r.bus.read(r.sym("insn"), 4)!;
    const expected = name === "c.fld" ? bits & 0xffff : bits;
    assert.equal(r.x("a7"), BigInt(expected >>> 0), `${name}: mtval holds the instruction`);
  }
});

Deno.test("mstatus.FS: FP state changes set Dirty and SD (mstatus and sstatus); stores do not", () => {
  const r = rig(`
_start:
  li t0, 1 << 13
  csrs mstatus, t0
  la s0, buf
  ${fsd(1, 8, 0)}
  ${fmvXF(D, 10, 1)}
  csrr a1, mstatus
  ${fld(1, 8, 0)}
  csrr a2, mstatus
  csrr a3, sstatus
  li t0, 3 << 13
  csrc mstatus, t0
  li t0, 2 << 13
  csrs mstatus, t0
  csrr a4, mstatus
  csrwi fflags, 0
  csrr a5, mstatus
done:
  j done
  .align 3
buf:
  .dword 0x4000000000000000
`);
  r.runToDone();
  const fs = (v: bigint) => (v >> 13n) & 3n;
  assert.equal(fs(r.x("a1")), 1n, "fsd and fmv.x.d leave FS Initial");
  assert.equal(r.x("a1") & SD, 0n);
  assert.equal(fs(r.x("a2")), 3n, "fld sets Dirty");
  assert.equal(r.x("a2") & SD, SD, "SD mirrors Dirty in mstatus");
  assert.equal(r.x("a3") & SD, SD, "and in sstatus");
  assert.equal(fs(r.x("a3")), 3n, "sstatus shows FS");
  assert.equal(fs(r.x("a4")), 2n);
  assert.equal(r.x("a4") & SD, 0n, "Clean: no SD");
  assert.equal(fs(r.x("a5")), 3n, "an FP CSR write sets Dirty");
});

Deno.test("rounding modes: rm 5 and 6 are illegal; rm 7 takes frm; an invalid frm is illegal", () => {
  for (const rm of [5, 6]) {
    const r = rig(`
_start:
${trapVector}
  li t0, 1 << 13
  csrs mstatus, t0
  ${fadd(D, 1, 2, 3, rm)}
  li a6, 99
done:
  j done
${trapHandler}
`);
    r.runToDone();
    assert.equal(r.x("a6"), 2n, `static rm ${rm} is reserved`);
  }
  for (const frm of [5, 6, 7]) {
    const r = rig(`
_start:
${trapVector}
  li t0, 1 << 13
  csrs mstatus, t0
  csrwi frm, ${frm}
  ${fsgnjn(D, 1, 2, 2)}
  li a5, 1
  ${fadd(D, 1, 2, 3, 7)}
  li a6, 99
done:
  j done
${trapHandler}
`);
    r.runToDone();
    assert.equal(r.x("a5"), 1n, "an op without rounding does not look at frm");
    assert.equal(r.x("a6"), 2n, `dynamic rounding with frm ${frm} is illegal`);
  }
  const ok = rig(program(`
  csrwi frm, 1
  ${fld(1, 8, 0)}
  ${fadd(D, 2, 1, 1, 7)}
  csrr a0, fcsr
`));
  ok.runToDone();
  assert.equal(ok.x("a0"), 1n << 5n, "fcsr = frm << 5 | fflags");
  assert.equal(freg(ok.hart, 2), f64bits(3));
});

Deno.test("JIT: hot FP loops run in compiled blocks and give the interpreter's results", () => {
  const source = program(`
  ${fld(1, 8, 0)}
  ${fld(2, 8, 8)}
  ${fsgnjn(D, 3, 1, 1)}
  ${fsgnjn(D, 3, 3, 3)}
  li t1, 1000
loop:
  ${fadd(D, 3, 3, 2)}
  ${fsd(3, 8, 32)}
  ${fld(4, 8, 32)}
  ${fcvtToInt(D, 2, 10, 4)}
  ${fcmp(D, 1, 11, 1, 4)}
  addi t1, t1, -1
  bnez t1, loop
`);
  const results: bigint[][] = [];
  for (const jit of [false, true]) {
    const r = rig(source, { jit, jitThreshold: 1 });
    r.runToDone();
    results.push([freg(r.hart, 3), r.x("a0"), r.x("a1")]);
    if (jit) assert.ok(r.hart.blockInstructions > 4000, "the loop ran in blocks");
  }
  assert.deepEqual(results[1], results[0]);
  assert.equal(results[0][0], f64bits(1.5 + 2250));
  assert.equal(results[0][1], 2252n);
});

Deno.test("snapshot/restore keeps FP registers and fcsr", () => {
  const r = rig(program(`
  ${fld(1, 8, 0)}
  csrwi frm, 3
  csrwi fflags, 5
`));
  r.runToDone();
  const state = r.hart.snapshot();
  const other = rig(program(""));
  other.hart.restore(JSON.parse(JSON.stringify(state)));
  assert.equal(freg(other.hart, 1), f64bits(1.5));
  assert.equal(other.hart.readCsr(0x003), (3n << 5n) | 5n);
  assert.equal(other.hart.readCsr(MSTATUS) & FS_DIRTY, FS_DIRTY);
  assert.equal(other.hart.readCsr(MSTATUS) & SD, SD);
});

Deno.test("misa reports F and D; reset leaves FS Off", () => {
  const r = rig(program(""));
  const misa = r.hart.readCsr(0x301);
  assert.equal((misa >> 5n) & 1n, 1n, "F");
  assert.equal((misa >> 3n) & 1n, 1n, "D");
  assert.equal(misa >> 62n, 2n, "MXL 64");
  r.hart.reset(RAM_BASE, 3);
  assert.equal(r.hart.readCsr(MSTATUS) & FS_DIRTY, 0n);
  assert.equal(FS_INITIAL, 1n << 13n);
});
