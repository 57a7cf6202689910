/**
 * Per-instruction tests of the M extension: every multiply and divide in its 64-bit and W form,
 * with negative operands for the high-half multiplies, division by zero and signed overflow as
 * the ISA defines them (no trap; fixed results), register aliasing and x0.
 */

import { instructionSuites, s64, sext32, Suite, u64 } from "./test_harness.ts";

const MIN64 = -(1n << 63n);
const MIN32 = -(1n << 31n);
const u32 = (v: bigint) => BigInt.asUintN(32, v);

/** The ISA's definitions, division by zero and overflow included (Table 7.1 of the spec). */
const OPS: Record<string, (a: bigint, b: bigint) => bigint> = {
  mul: (a, b) => s64(a * b),
  mulh: (a, b) => s64((s64(a) * s64(b)) >> 64n),
  mulhsu: (a, b) => s64((s64(a) * u64(b)) >> 64n),
  mulhu: (a, b) => s64((u64(a) * u64(b)) >> 64n),
  div: (a, b) => {
    if (u64(b) === 0n) return -1n;
    if (s64(a) === MIN64 && s64(b) === -1n) return MIN64;
    return s64(s64(a) / s64(b));
  },
  divu: (a, b) => (u64(b) === 0n ? -1n : s64(u64(a) / u64(b))),
  rem: (a, b) => {
    if (u64(b) === 0n) return s64(a);
    if (s64(a) === MIN64 && s64(b) === -1n) return 0n;
    return s64(s64(a) % s64(b));
  },
  remu: (a, b) => (u64(b) === 0n ? s64(a) : s64(u64(a) % u64(b))),
  mulw: (a, b) => sext32(a * b),
  divw: (a, b) => {
    const x = sext32(a), y = sext32(b);
    if (y === 0n) return -1n;
    if (x === MIN32 && y === -1n) return MIN32;
    return sext32(x / y);
  },
  divuw: (a, b) => (u32(b) === 0n ? -1n : sext32(u32(a) / u32(b))),
  remw: (a, b) => {
    const x = sext32(a), y = sext32(b);
    if (y === 0n) return x;
    if (x === MIN32 && y === -1n) return 0n;
    return sext32(x % y);
  },
  remuw: (a, b) => (u32(b) === 0n ? sext32(a) : sext32(u32(a) % u32(b))),
};

const VALUES: bigint[] = [
  0n,
  1n,
  -1n,
  2n,
  -7n,
  3n,
  0x7fffffffn,
  MIN32,
  0xffffffffn,
  0x7fffffffffffffffn,
  MIN64,
  0x123456789abcdef0n,
  -0x5555555555555555n,
  0x100000000n,
];

const { suites, register } = instructionSuites("m");
for (const [op, f] of Object.entries(OPS)) {
  const s = new Suite(op);
  for (const a of VALUES) {
    for (const b of VALUES) s.rr(op, a, b, f(a, b));
  }
  // Named edge cases, explicit even where the cross product has them too.
  s.rr(op, 20n, 0n, f(20n, 0n)); // division by zero
  s.rr(op, -20n, 0n, f(-20n, 0n));
  s.rr(op, MIN64, -1n, f(MIN64, -1n)); // 64-bit signed overflow
  s.rr(op, 0xffffffff80000000n, -1n, f(0xffffffff80000000n, -1n)); // 32-bit signed overflow
  s.rr(op, 0x1234567880000000n, 0xabcdef00ffffffffn, f(0x1234567880000000n, 0xabcdef00ffffffffn));
  s.rr(op, -20n, 6n, f(-20n, 6n)); // truncation toward zero
  s.rr(op, 20n, -6n, f(20n, -6n));
  s.rr(op, 0xdeadbeef00000000n, 0x1200000000n, f(0xdeadbeef00000000n, 0x1200000000n)); // W: low halves 0
  const a = -0x0123456789abcdefn, b = 0x3b9aca07n;
  s.rrAliases(op, a, b, f(a, b), f(a, a));
  s.rrZero(op, a, f(0n, a), f(a, 0n), f(0n, 0n));
  suites.push(s);
}

register();
