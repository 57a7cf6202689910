/**
 * The 64-bit arithmetic helpers of the hart (int32 halves, number fast paths, BigInt slow paths)
 * against a BigInt reference, over edge values and random operands of every magnitude.
 */
import assert from "node:assert/strict";
import * as alu from "../../../lib/hw/riscv/alu.ts";

const M64 = (1n << 64n) - 1n;
const s64 = (v: bigint) => BigInt.asIntN(64, v);
const u64 = (v: bigint) => BigInt.asUintN(64, v);
const halves = (v: bigint): [number, number] => [
  Number(BigInt.asIntN(32, v)),
  Number(BigInt.asIntN(32, v >> 32n)),
];
const result = (): bigint => alu.bigU(alu.aluOut[0], alu.aluOut[1]);

const EDGE = [
  0n,
  1n,
  2n,
  3n,
  7n,
  -1n,
  -2n,
  -7n,
  0x7fffffffn,
  0x80000000n,
  -0x80000000n,
  0xffffffffn,
  0x100000000n,
  (1n << 52n) - 1n,
  -(1n << 52n),
  1n << 52n,
  (1n << 53n) + 1n,
  0x7fffffffffffffffn,
  -0x8000000000000000n,
  0x123456789abcdef0n,
  -0x123456789abcdefn,
];

function randoms(count: number): bigint[] {
  let x = 0x9e3779b97f4a7c15n;
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    x ^= (x << 13n) & M64;
    x ^= x >> 7n;
    x ^= (x << 17n) & M64;
    const bits = BigInt(1 + (i % 64));
    out.push(s64(x & ((1n << bits) - 1n)) * (i % 3 === 0 ? -1n : 1n));
  }
  return out;
}

const reference: Record<string, (a: bigint, b: bigint) => bigint> = {
  mul: (a, b) => u64(a * b),
  mulh: (a, b) => u64((s64(a) * s64(b)) >> 64n),
  mulhsu: (a, b) => u64((s64(a) * u64(b)) >> 64n),
  mulhu: (a, b) => u64((u64(a) * u64(b)) >> 64n),
  div: (a, b) => {
    const x = s64(a), y = s64(b);
    if (y === 0n) return M64;
    if (x === -(1n << 63n) && y === -1n) return u64(x);
    return u64(x / y);
  },
  divu: (a, b) => (u64(b) === 0n ? M64 : u64(a) / u64(b)),
  rem: (a, b) => {
    const x = s64(a), y = s64(b);
    if (y === 0n) return u64(x);
    if (x === -(1n << 63n) && y === -1n) return 0n;
    return u64(x % y);
  },
  remu: (a, b) => (u64(b) === 0n ? u64(a) : u64(a) % u64(b)),
};

Deno.test("alu: multiply and divide agree with BigInt on edge and random operands", () => {
  const values = [...EDGE, ...randoms(120)];
  const fns: Record<string, (al: number, ah: number, bl: number, bh: number) => void> = {
    mul: alu.mul,
    mulh: alu.mulh,
    mulhsu: alu.mulhsu,
    mulhu: alu.mulhu,
    div: alu.div,
    divu: alu.divu,
    rem: alu.rem,
    remu: alu.remu,
  };
  let checked = 0;
  for (const a of values) {
    for (const b of values) {
      const [al, ah] = halves(a);
      const [bl, bh] = halves(b);
      for (const [name, fn] of Object.entries(fns)) {
        fn(al, ah, bl, bh);
        const want = reference[name](a, b);
        if (result() !== want) {
          assert.fail(`${name}(${u64(a)}, ${u64(b)}) = ${result()}, expected ${want}`);
        }
        checked++;
      }
    }
  }
  assert.ok(checked > 100_000);
});

Deno.test("alu: mulhu32 is the upper word of the 32x32 product", () => {
  for (const a of [0, 1, 0xffffffff, 0x80000000, 0x12345678, 0xdeadbeef]) {
    for (const b of [0, 1, 0xffffffff, 0x7fffffff, 0x9abcdef0]) {
      const want = Number(BigInt.asIntN(32, (BigInt(a) * BigInt(b)) >> 32n));
      assert.equal(alu.mulhu32(a | 0, b | 0), want, `mulhu32(${a}, ${b})`);
    }
  }
});
