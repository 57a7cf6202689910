/**
 * Per-instruction tests of F and D through the assembler (GNU syntax), with exactly
 * representable operands and results (so that the expected values hold on any correct FPU in
 * round-to-nearest), the flags those cases must raise (none for exact results, NV for invalid
 * comparisons and conversions, DZ for division by zero), NaN boxing, conversions at the integer
 * limits with saturation, fclass of every class, and every instruction in both formats. Each
 * suite also runs on QEMU (GNU as + qemu-system-riscv64), which checks the expected values.
 */
import { check, instructionSuites, lit, type Suite } from "./test_harness.ts";

const FS_ON = "li t0, 1 << 13\ncsrs mstatus, t0\ncsrwi fflags, 0\ncsrwi frm, 0";
const d = (v: number): bigint => {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, v, true);
  return b.getBigUint64(0, true);
};
const s32 = (v: number): bigint => {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, v, true);
  return BigInt(b.getUint32(0, true));
};
/** fmv.x.w of a single: the 32 bits sign-extended. */
const sx = (bits: bigint): bigint => BigInt.asUintN(64, BigInt.asIntN(32, bits));
const QNAN_D = 0x7ff8000000000000n;
const QNAN_S = 0x7fc00000n;

type Fmt = "s" | "d";
const load = (fmt: Fmt, reg: string, v: number) =>
  fmt === "d"
    ? `li t0, ${lit(d(v))}\nfmv.d.x ${reg}, t0`
    : `li t0, ${lit(s32(v))}\nfmv.w.x ${reg}, t0`;
const bits = (fmt: Fmt, v: number) => (fmt === "d" ? d(v) : sx(s32(v)));
const readBack = (fmt: Fmt, reg: string) => `fmv.x.${fmt === "d" ? "d" : "w"} x14, ${reg}`;
const flags = (expected: number) => `csrr x14, fflags\n${check("x14", BigInt(expected))}`;

function binary(s: Suite, op: string, fmt: Fmt, a: number, b: number, r: number, fl = 0) {
  s.test(
    `${op}.${fmt} ${a}, ${b} -> ${r}`,
    `${FS_ON}\n${load(fmt, "fa1", a)}\n${load(fmt, "fa2", b)}\n${op}.${fmt} fa0, fa1, fa2\n` +
      `${readBack(fmt, "fa0")}\n${
        check("x14", Number.isNaN(r) ? (fmt === "d" ? QNAN_D : QNAN_S) : bits(fmt, r))
      }\n${flags(fl)}`,
  );
}

const { suite, register } = instructionSuites("fd");

for (const fmt of ["s", "d"] as const) {
  suite(`arithmetic.${fmt}`, (s) => {
    binary(s, "fadd", fmt, 1.5, 2.25, 3.75);
    binary(s, "fadd", fmt, -1.5, 1.5, 0);
    binary(s, "fadd", fmt, Infinity, -Infinity, NaN, 16);
    binary(s, "fsub", fmt, 1.5, 2.25, -0.75);
    binary(s, "fsub", fmt, -0, 0, -0);
    binary(s, "fmul", fmt, 1.5, -2.25, -3.375);
    binary(s, "fmul", fmt, 0, Infinity, NaN, 16);
    binary(s, "fdiv", fmt, 3.375, 1.5, 2.25);
    binary(s, "fdiv", fmt, 1, 0, Infinity, 8);
    binary(s, "fdiv", fmt, -1, 0, -Infinity, 8);
    binary(s, "fdiv", fmt, 0, 0, NaN, 16);
    binary(s, "fmin", fmt, 1.5, -2.25, -2.25);
    binary(s, "fmax", fmt, 1.5, -2.25, 1.5);
    binary(s, "fmin", fmt, -0, 0, -0);
    binary(s, "fmax", fmt, -0, 0, 0);
    binary(s, "fmin", fmt, NaN, 2, 2);
    binary(s, "fmax", fmt, 2, NaN, 2);
    binary(s, "fsgnj", fmt, 1.5, -2, -1.5);
    binary(s, "fsgnjn", fmt, 1.5, -2, 1.5);
    binary(s, "fsgnjx", fmt, -1.5, -2, 1.5);
    s.test(
      `fsqrt.${fmt} 2.25 -> 1.5; fsqrt of -1 is NaN with NV`,
      `${FS_ON}\n${load(fmt, "fa1", 2.25)}\nfsqrt.${fmt} fa0, fa1\n${readBack(fmt, "fa0")}\n${
        check("x14", bits(fmt, 1.5))
      }\n${flags(0)}\n${load(fmt, "fa1", -1)}\nfsqrt.${fmt} fa0, fa1\n${readBack(fmt, "fa0")}\n${
        check("x14", fmt === "d" ? QNAN_D : QNAN_S)
      }\n${flags(16)}`,
    );
    for (
      const [op, r] of [
        ["fmadd", 1.5 * 2 + 0.25],
        ["fmsub", 1.5 * 2 - 0.25],
        ["fnmsub", -(1.5 * 2) + 0.25],
        ["fnmadd", -(1.5 * 2) - 0.25],
      ] as const
    ) {
      s.test(
        `${op}.${fmt} 1.5, 2, 0.25 -> ${r}`,
        `${FS_ON}\n${load(fmt, "fa1", 1.5)}\n${load(fmt, "fa2", 2)}\n${
          load(fmt, "fa3", 0.25)
        }\n${op}.${fmt} fa0, fa1, fa2, fa3\n${readBack(fmt, "fa0")}\n${
          check("x14", bits(fmt, r))
        }\n${flags(0)}`,
      );
    }
  });

  suite(`compare.${fmt}`, (s) => {
    const cmp = (op: string, a: number, b: number, r: number, fl: number) =>
      s.test(
        `${op}.${fmt} ${a}, ${b} -> ${r}`,
        `${FS_ON}\n${load(fmt, "fa1", a)}\n${load(fmt, "fa2", b)}\n${op}.${fmt} x14, fa1, fa2\n${
          check("x14", BigInt(r))
        }\n${flags(fl)}`,
      );
    cmp("feq", 1.5, 1.5, 1, 0);
    cmp("feq", -0, 0, 1, 0);
    cmp("feq", NaN, 1, 0, 0);
    cmp("flt", 1, 1.5, 1, 0);
    cmp("flt", 1.5, 1.5, 0, 0);
    cmp("flt", NaN, 1, 0, 16);
    cmp("fle", 1.5, 1.5, 1, 0);
    cmp("fle", -Infinity, -1e30, 1, 0);
    cmp("fle", 1, NaN, 0, 16);
    const cls = (v: number, mask: number) =>
      s.test(
        `fclass.${fmt} ${v} -> ${mask}`,
        `${FS_ON}\n${load(fmt, "fa1", v)}\nfclass.${fmt} x14, fa1\n${check("x14", BigInt(mask))}`,
      );
    cls(-Infinity, 1 << 0);
    cls(-1.5, 1 << 1);
    cls(fmt === "d" ? -5e-324 : -1e-45, 1 << 2);
    cls(-0, 1 << 3);
    cls(0, 1 << 4);
    cls(fmt === "d" ? 5e-324 : 1e-45, 1 << 5);
    cls(1.5, 1 << 6);
    cls(Infinity, 1 << 7);
    cls(NaN, 1 << 9);
  });

  suite(`convert.${fmt}`, (s) => {
    const toInt = (int: string, rm: string, v: number, r: bigint, fl: number) =>
      s.test(
        `fcvt.${int}.${fmt} ${v} (${rm}) -> ${r}`,
        `${FS_ON}\n${load(fmt, "fa1", v)}\nfcvt.${int}.${fmt} x14, fa1, ${rm}\n${
          check("x14", BigInt.asUintN(64, r))
        }\n${flags(fl)}`,
      );
    toInt("w", "rtz", -2.5, -2n, 1); // inexact: NX
    toInt("w", "rne", 3, 3n, 0);
    toInt("w", "rdn", -1e10, -(2n ** 31n), 16);
    toInt("w", "rup", 1e10, 2n ** 31n - 1n, 16);
    toInt("w", "rtz", NaN, 2n ** 31n - 1n, 16);
    toInt("wu", "rtz", -3, 0n, 16);
    toInt("wu", "rtz", 4, 4n, 0);
    toInt("l", "rtz", -Infinity, -(2n ** 63n), 16);
    toInt("l", "rtz", 1024, 1024n, 0);
    toInt("lu", "rtz", 1e30, 2n ** 64n - 1n, 16);
    toInt("lu", "rmm", 7, 7n, 0);
    const fromInt = (int: string, x: bigint, r: number) =>
      s.test(
        `fcvt.${fmt}.${int} ${x} -> ${r}`,
        `${FS_ON}\nli t1, ${lit(x)}\nfcvt.${fmt}.${int} fa0, t1\n${readBack(fmt, "fa0")}\n${
          check("x14", bits(fmt, r))
        }\n${flags(0)}`,
      );
    fromInt("w", -7n, -7);
    fromInt("w", 0xffffffff_80000000n, -(2 ** 31));
    fromInt("wu", 0xffffffff_00ffffffn, 16777215); // W forms ignore the upper half
    fromInt("l", -(2n ** 40n), -(2 ** 40));
    fromInt("lu", 2n ** 40n, 2 ** 40);
    if (fmt === "d") {
      s.test(
        "fcvt.s.d 1.5 and fcvt.d.s -2.25",
        `${FS_ON}\n${load("d", "fa1", 1.5)}\nfcvt.s.d fa0, fa1\n${readBack("s", "fa0")}\n${
          check("x14", sx(s32(1.5)))
        }\n${load("s", "fa2", -2.25)}\nfcvt.d.s fa0, fa2\n${readBack("d", "fa0")}\n${
          check("x14", d(-2.25))
        }\n${flags(0)}`,
      );
    }
  });

  suite(`move.${fmt}`, (s) => {
    const w = fmt === "d" ? "d" : "w";
    const l = fmt === "d" ? "fld" : "flw";
    const st = fmt === "d" ? "fsd" : "fsw";
    s.addData(`fp_${fmt}: .dword 0x${(fmt === "d" ? d(-3.5) : s32(-3.5)).toString(16)}, 0`);
    s.test(
      `${l}/${st} round trip, fmv.x.${w} / fmv.${w}.x`,
      `${FS_ON}\nla t1, fp_${fmt}\n${l} fa0, 0(t1)\n${st} fa0, 8(t1)\n${
        fmt === "d" ? "ld" : "lwu"
      } x14, 8(t1)\n${check("x14", fmt === "d" ? d(-3.5) : s32(-3.5))}\nfmv.x.${w} x14, fa0\n${
        check("x14", bits(fmt, -3.5))
      }\nli t1, 0x12345678\nfmv.${w}.x fa1, t1\nfmv.x.${w} x14, fa1\n${check("x14", 0x12345678n)}`,
    );
  });
}

suite("nan-boxing", (s) => {
  s.test(
    "flw and fmv.w.x box; an unboxed single reads as the canonical NaN",
    `${FS_ON}\nli t1, ${lit(s32(1.5))}\nfmv.w.x fa0, t1\nfmv.x.d x14, fa0\n${
      check("x14", 0xffffffff00000000n | s32(1.5))
    }\nli t1, ${lit(s32(1.5))}\nfmv.d.x fa1, t1\nfadd.s fa2, fa1, fa1\nfmv.x.w x14, fa2\n${
      check("x14", QNAN_S)
    }`,
  );
});

register();
