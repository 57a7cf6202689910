/**
 * Speed of the hart's 64-bit multiply-high and division helpers (lib/hw/riscv/alu.ts) against
 * the BigInt formulation they replaced. Every iteration runs 1000 operations over a fixed,
 * seeded table of operand pairs, so the reported time per iteration in µs reads as ns per
 * operation. A summary of ns/op and the speed-up over BigInt is printed when the run ends.
 *
 * Operand classes: `64x64` takes both operands with full 64-bit magnitudes (the paths that used
 * to go through BigInt); `64/32` pairs a full 64-bit dividend with a 32-bit divisor; `workload`
 * mirrors the muldiv loop of bench/workloads/integer.S (a random 64-bit value over 1000003).
 *
 * @module
 */
import * as alu from "../lib/hw/riscv/alu.ts";
import { prng } from "../tests/hw/riscv/prng.ts";

type AluFn = (al: number, ah: number, bl: number, bh: number) => void;

const OPS_PER_ITERATION = 1000;
const TABLE = 1024; // a power of two: the index wraps with a mask

/** Operand table as int32 halves `[al, ah, bl, bh]` per pair. */
function table(seed: number, kind: "64x64" | "64/32" | "workload"): Int32Array {
  const next = prng(seed);
  const t = new Int32Array(TABLE * 4);
  for (let i = 0; i < TABLE; i++) {
    t[i * 4] = next();
    t[i * 4 + 1] = next();
    if (kind === "64x64") {
      t[i * 4 + 2] = next() | 1;
      t[i * 4 + 3] = next() | 0x10;
    } else if (kind === "64/32") {
      t[i * 4 + 2] = next() | 1;
      t[i * 4 + 3] = 0;
    } else {
      t[i * 4 + 2] = 1000003;
      t[i * 4 + 3] = 0;
    }
  }
  return t;
}

// The BigInt formulation the helpers replaced (the paths these operand classes took).
const aluOut = new Int32Array(2);
const bigS = (lo: number, hi: number): bigint => (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0);
const bigU = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
function setBig(v: bigint): void {
  aluOut[0] = Number(BigInt.asIntN(32, v));
  aluOut[1] = Number(BigInt.asIntN(32, v >> 32n));
}
const viaBigInt: Record<string, AluFn> = {
  mulh: (al, ah, bl, bh) => setBig((bigS(al, ah) * bigS(bl, bh)) >> 64n),
  mulhsu: (al, ah, bl, bh) => setBig((bigS(al, ah) * bigU(bl, bh)) >> 64n),
  mulhu: (al, ah, bl, bh) => setBig((bigU(al, ah) * bigU(bl, bh)) >> 64n),
  div: (al, ah, bl, bh) => {
    const a = bigS(al, ah);
    const b = bigS(bl, bh);
    setBig(b === -1n && a === -(1n << 63n) ? a : a / b);
  },
  divu: (al, ah, bl, bh) => setBig(bigU(al, ah) / bigU(bl, bh)),
  rem: (al, ah, bl, bh) => {
    const a = bigS(al, ah);
    const b = bigS(bl, bh);
    setBig(b === -1n ? 0n : a % b);
  },
  remu: (al, ah, bl, bh) => setBig(bigU(al, ah) % bigU(bl, bh)),
};

const current: Record<string, AluFn> = {
  mul: alu.mul,
  mulh: alu.mulh,
  mulhsu: alu.mulhsu,
  mulhu: alu.mulhu,
  div: alu.div,
  divu: alu.divu,
  rem: alu.rem,
  remu: alu.remu,
};

/** ns/op per benchmark name, from the mean of its iterations. */
const perOp = new Map<string, number[]>();

/**
 * A loop of {@link OPS_PER_ITERATION} calls of `fn` over the operand table. Each benchmark gets
 * its own compiled copy (the source differs by name), so every call site stays monomorphic, as
 * the hart's own call sites are.
 */
type Loop = (fn: AluFn, t: Int32Array, start: number, out: Int32Array) => number;
function makeLoop(name: string): Loop {
  return new Function(
    "fn",
    "t",
    "start",
    "out",
    `"use strict"; // ${name.replace(/[^\w /]/g, "")}
    let sink = 0;
    for (let n = 0, i = start; n < ${OPS_PER_ITERATION}; n++, i++) {
      const k = (i & ${TABLE - 1}) * 4;
      fn(t[k], t[k + 1], t[k + 2], t[k + 3]);
      sink ^= out[0];
    }
    return sink;`,
  ) as Loop;
}

function bench(group: string, name: string, fn: AluFn, out: Int32Array, operands: Int32Array) {
  const loop = makeLoop(name);
  let start = 0;
  let sink = 0;
  Deno.bench({
    name,
    group,
    baseline: name.endsWith("BigInt"),
    fn(b) {
      const t0 = performance.now();
      b.start();
      sink ^= loop(fn, operands, start, out);
      b.end();
      const ns = (performance.now() - t0) * 1e6 / OPS_PER_ITERATION;
      start += OPS_PER_ITERATION;
      const list = perOp.get(name) ?? [];
      list.push(ns);
      perOp.set(name, list);
    },
  });
  globalThis.addEventListener("unload", () => {
    if (sink === 0x7fffffff) console.log(`${name}: sink ${sink}`); // keeps the results live
  });
}

const CASES: [string, "64x64" | "64/32" | "workload"][] = [
  ["mul", "64x64"],
  ["mulh", "64x64"],
  ["mulhsu", "64x64"],
  ["mulhu", "64x64"],
  ["div", "64x64"],
  ["div", "64/32"],
  ["div", "workload"],
  ["divu", "64x64"],
  ["divu", "64/32"],
  ["rem", "64x64"],
  ["rem", "64/32"],
  ["rem", "workload"],
  ["remu", "64x64"],
  ["remu", "64/32"],
];

for (const [index, [op, kind]] of CASES.entries()) {
  const operands = table(0xa1 + index, kind);
  const group = `${op} ${kind}`;
  const reference = viaBigInt[op];
  if (reference) bench(group, `${op} ${kind}: BigInt`, reference, aluOut, operands);
  bench(group, `${op} ${kind}: alu.ts`, current[op], alu.aluOut, operands);
}

globalThis.addEventListener("unload", () => {
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
  for (const [op, kind] of CASES) {
    const mine = perOp.get(`${op} ${kind}: alu.ts`);
    const big = perOp.get(`${op} ${kind}: BigInt`);
    if (!mine) continue;
    const m = median(mine);
    const versus = big
      ? `, BigInt ${median(big).toFixed(1)} ns/op (${(median(big) / m).toFixed(1)}x)`
      : "";
    console.log(`${op} ${kind}: alu.ts ${m.toFixed(1)} ns/op${versus}`);
  }
});
