/**
 * The 64-bit arithmetic helpers of the hart (int32 halves, int32/float64 arithmetic only) against
 * a BigInt reference: a full cross product of edge values, ~200k seeded random pairs per
 * operation (divisions also get dividends placed next to quotient boundaries), the ISA's
 * division edge cases, and a check that no operation calls BigInt.
 */
import assert from "node:assert/strict";
import * as alu from "../../../lib/hw/riscv/alu.ts";
import { prng } from "./prng.ts";

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

// ---- exhaustive edge tables and seeded random operands, one test per exported operation ----

type AluFn = (al: number, ah: number, bl: number, bh: number) => void;
const OPS: [string, AluFn][] = [
  ["mul", alu.mul],
  ["mulh", alu.mulh],
  ["mulhsu", alu.mulhsu],
  ["mulhu", alu.mulhu],
  ["div", alu.div],
  ["divu", alu.divu],
  ["rem", alu.rem],
  ["remu", alu.remu],
];

/**
 * Every power of two and its neighbours, positive and negative (so 0, ±1, 2^31±1, 2^32±1,
 * 2^52±1, 2^53±1, 2^63-1 and INT64_MIN among them), plus a few small and odd divisors.
 */
function edgeTable(): bigint[] {
  const set = new Set<bigint>();
  for (let k = 0n; k < 64n; k++) {
    const p = 1n << k;
    for (const v of [p - 1n, p, p + 1n]) {
      set.add(s64(v));
      set.add(s64(-v));
    }
  }
  for (const v of [0n, 3n, 10n, 1000003n, 0x7fffffffffffffffn, -0x8000000000000000n]) {
    set.add(s64(v));
  }
  return [...set];
}

/** A 64-bit operand of random bit length (0..64), negated half of the time. */
function randomOperand(next: () => number): bigint {
  const bits = next() % 65;
  const v = ((BigInt(next()) << 32n) | BigInt(next())) & ((1n << BigInt(bits)) - 1n);
  return s64(next() & 1 ? -v : v);
}

/**
 * Operand pairs for one operation: random magnitudes, plus (for divisions) dividends built as
 * q·b + r with r at the edges (0, 1, b-1) or random, which land next to quotient boundaries.
 */
function randomPairs(seed: number, count: number, division: boolean): [bigint, bigint][] {
  const next = prng(seed);
  const pairs: [bigint, bigint][] = [];
  while (pairs.length < count) {
    const a = randomOperand(next);
    const b = randomOperand(next);
    if (!division || (next() & 1) === 0) {
      pairs.push([a, b]);
      continue;
    }
    const d = u64(b) === 0n ? 1n : u64(b);
    const q = u64(randomOperand(next)) >> BigInt(next() % 64);
    const pick = next() % 4;
    const r = pick === 0 ? 0n : pick === 1 ? 1n % d : pick === 2 ? d - 1n : u64(a) % d;
    const signedB = next() & 1 ? s64(-d) : s64(d);
    pairs.push([s64(q * d + r), signedB]);
  }
  return pairs;
}

function check(name: string, fn: AluFn, pairs: Iterable<[bigint, bigint]>): number {
  const want = reference[name];
  let checked = 0;
  for (const [a, b] of pairs) {
    const [al, ah] = halves(a);
    const [bl, bh] = halves(b);
    fn(al, ah, bl, bh);
    const got = result();
    const expected = want(a, b);
    if (got !== expected) {
      assert.fail(
        `${name}(0x${u64(a).toString(16)}, 0x${u64(b).toString(16)}) = 0x${got.toString(16)}, ` +
          `expected 0x${expected.toString(16)}`,
      );
    }
    checked++;
  }
  return checked;
}

function* allPairs(values: bigint[]): Generator<[bigint, bigint]> {
  for (const a of values) for (const b of values) yield [a, b];
}

const EDGES = edgeTable();
const RANDOM_CASES = 200_000;

for (const [index, [name, fn]] of OPS.entries()) {
  Deno.test(`alu: ${name} over the full edge table and ${RANDOM_CASES} seeded random pairs`, () => {
    const edgeCount = check(name, fn, allPairs(EDGES));
    assert.equal(edgeCount, EDGES.length * EDGES.length);
    const division = name.startsWith("div") || name.startsWith("rem");
    const randomCount = check(name, fn, randomPairs(0x5eed + index, RANDOM_CASES, division));
    assert.equal(randomCount, RANDOM_CASES);
  });
}

Deno.test("alu: RISC-V division edge cases exactly as the ISA manual tabulates them", () => {
  const INT64_MIN = -0x8000000000000000n;
  const cases: [AluFn, bigint, bigint, bigint][] = [
    [alu.div, 12345n, 0n, -1n],
    [alu.divu, 12345n, 0n, M64],
    [alu.rem, -12345n, 0n, u64(-12345n)],
    [alu.remu, -12345n, 0n, u64(-12345n)],
    [alu.div, INT64_MIN, -1n, u64(INT64_MIN)],
    [alu.rem, INT64_MIN, -1n, 0n],
    [alu.div, INT64_MIN, 0n, M64],
    [alu.rem, INT64_MIN, 0n, u64(INT64_MIN)],
    [alu.divu, INT64_MIN, M64, 0n],
    [alu.remu, INT64_MIN, M64, u64(INT64_MIN)],
    [alu.div, -7n, 2n, u64(-3n)],
    [alu.rem, -7n, 2n, u64(-1n)],
    [alu.div, 7n, -2n, u64(-3n)],
    [alu.rem, 7n, -2n, 1n],
  ];
  for (const [fn, a, b, want] of cases) {
    const [al, ah] = halves(a);
    const [bl, bh] = halves(b);
    fn(al, ah, bl, bh);
    assert.equal(result(), u64(want), `${fn.name}(${a}, ${b})`);
  }
});

Deno.test("alu: mulhu32 agrees with BigInt on edge and seeded random words", () => {
  const next = prng(0x32);
  const words = [0, 1, 2, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x80000001, 0xffffffff];
  for (let i = 0; i < 2000; i++) words.push(next());
  for (let i = 0; i < words.length; i++) {
    for (let j = 0; j < words.length; j += 1 + (i % 7)) {
      const a = words[i], b = words[j];
      const want = Number(BigInt.asIntN(32, (BigInt(a) * BigInt(b)) >> 32n));
      if (alu.mulhu32(a | 0, b | 0) !== want) {
        assert.fail(`mulhu32(0x${a.toString(16)}, 0x${b.toString(16)})`);
      }
    }
  }
});

Deno.test("alu: no operation calls BigInt", () => {
  const saved = globalThis.BigInt;
  const values = EDGES.map(halves);
  let calls = 0;
  const trap = new Proxy(saved, {
    apply() {
      calls++;
      throw new Error("BigInt called on the ALU path");
    },
  });
  try {
    globalThis.BigInt = trap;
    for (const [al, ah] of values) {
      for (const [bl, bh] of values) {
        for (const [, fn] of OPS) fn(al, ah, bl, bh);
      }
    }
  } finally {
    globalThis.BigInt = saved;
  }
  assert.equal(calls, 0);
});

Deno.test("alu: bigS and bigU read the halves as signed and unsigned 64-bit values", () => {
  for (const v of EDGES) {
    const [lo, hi] = halves(v);
    assert.equal(alu.bigS(lo, hi), s64(v), `bigS of ${v}`);
    assert.equal(alu.bigU(lo, hi), u64(v), `bigU of ${v}`);
  }
  assert.equal(alu.bigS(0, -0x80000000), -0x8000000000000000n);
  assert.equal(alu.bigU(-1, -1), M64);
});
