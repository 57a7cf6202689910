/**
 * FPU benchmarks: double fadd, fmul, fmadd and fdiv on their fast paths, in round-to-nearest
 * (RNE, with NX already accrued as in a running program, and with fflags cleared before every
 * operation so that the exactness check runs) and toward zero (RTZ), next to a plain JS
 * `Float64Array` add (the floor of what an interpreter's FP op can cost) and the exact BigInt
 * path (RMM add, which the fast paths leave to it). Each iteration runs 1,000 operations over 30
 * registers of random normal operands: the time per iteration in µs is the time per op in ns.
 *
 * @module
 */

import { fpAdd, fpDiv, fpFma, fpMul, FpRegisters, RoundingMode } from "../lib/hw/riscv/fpu.ts";

const OPS = 1000;
const { RNE, RTZ, RMM } = RoundingMode;

function registers(): FpRegisters {
  const r = new FpRegisters();
  let s = 12345;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  for (let i = 0; i < 31; i++) r.f64[i] = (1 + rnd()) * 2 ** Math.floor(rnd() * 40 - 20);
  return r;
}

// Each benchmark calls its operation from its own loop (as the hart's interpreter does), so that
// every call site stays monomorphic.
const r = registers();

Deno.bench("baseline: JS f64[rd] = f64[a] + f64[b] x1000", {
  group: "fadd.d",
  baseline: true,
}, () => {
  const f = r.f64;
  for (let i = 0; i < OPS; i++) f[31] = f[i % 30] + f[(i + 7) % 30];
});
Deno.bench("fadd.d RNE (NX accrued) x1000", { group: "fadd.d" }, () => {
  r.fflags = 1;
  for (let i = 0; i < OPS; i++) fpAdd(r, 1, 31, i % 30, (i + 7) % 30, RNE);
});
Deno.bench("fadd.d RNE (flags clear) x1000", { group: "fadd.d" }, () => {
  for (let i = 0; i < OPS; i++) {
    r.fflags = 0;
    fpAdd(r, 1, 31, i % 30, (i + 7) % 30, RNE);
  }
});
Deno.bench("fadd.d RTZ x1000", { group: "fadd.d" }, () => {
  for (let i = 0; i < OPS; i++) fpAdd(r, 1, 31, i % 30, (i + 7) % 30, RTZ);
});
Deno.bench("fadd.d RMM (exact BigInt path) x1000", { group: "fadd.d" }, () => {
  for (let i = 0; i < OPS; i++) fpAdd(r, 1, 31, i % 30, (i + 7) % 30, RMM);
});
Deno.bench("fmul.d RNE (NX accrued) x1000", { group: "fmul.d" }, () => {
  r.fflags = 1;
  for (let i = 0; i < OPS; i++) fpMul(r, 1, 31, i % 30, (i + 7) % 30, RNE);
});
Deno.bench("fmul.d RNE (flags clear) x1000", { group: "fmul.d" }, () => {
  for (let i = 0; i < OPS; i++) {
    r.fflags = 0;
    fpMul(r, 1, 31, i % 30, (i + 7) % 30, RNE);
  }
});
Deno.bench("fmul.d RTZ x1000", { group: "fmul.d" }, () => {
  for (let i = 0; i < OPS; i++) fpMul(r, 1, 31, i % 30, (i + 7) % 30, RTZ);
});
Deno.bench("fmadd.d RNE (NX accrued) x1000", { group: "fmadd.d" }, () => {
  r.fflags = 1;
  for (let i = 0; i < OPS; i++) {
    fpFma(r, 1, 31, i % 30, (i + 7) % 30, (i + 13) % 30, RNE, false, false);
  }
});
Deno.bench("fmadd.d RNE (flags clear) x1000", { group: "fmadd.d" }, () => {
  for (let i = 0; i < OPS; i++) {
    r.fflags = 0;
    fpFma(r, 1, 31, i % 30, (i + 7) % 30, (i + 13) % 30, RNE, false, false);
  }
});
Deno.bench("fmadd.d RTZ x1000", { group: "fmadd.d" }, () => {
  for (let i = 0; i < OPS; i++) {
    fpFma(r, 1, 31, i % 30, (i + 7) % 30, (i + 13) % 30, RTZ, false, false);
  }
});
Deno.bench("fdiv.d RNE (NX accrued) x1000", { group: "fdiv.d" }, () => {
  r.fflags = 1;
  for (let i = 0; i < OPS; i++) fpDiv(r, 1, 31, i % 30, (i + 7) % 30, RNE);
});
Deno.bench("fdiv.d RNE (flags clear) x1000", { group: "fdiv.d" }, () => {
  for (let i = 0; i < OPS; i++) {
    r.fflags = 0;
    fpDiv(r, 1, 31, i % 30, (i + 7) % 30, RNE);
  }
});
Deno.bench("fdiv.d RTZ x1000", { group: "fdiv.d" }, () => {
  for (let i = 0; i < OPS; i++) fpDiv(r, 1, 31, i % 30, (i + 7) % 30, RTZ);
});

const singles = new FpRegisters();
for (let i = 0; i < 31; i++) {
  singles.words[2 * i] = 0x3f800000 + i * 12345;
  singles.words[2 * i + 1] = -1;
}
Deno.bench("fadd.s RNE x1000", { group: "single" }, () => {
  for (let i = 0; i < OPS; i++) fpAdd(singles, 0, 31, i % 30, (i + 7) % 30, RNE);
});
Deno.bench("fmadd.s RNE x1000", { group: "single" }, () => {
  for (let i = 0; i < OPS; i++) {
    fpFma(singles, 0, 31, i % 30, (i + 7) % 30, (i + 13) % 30, RNE, false, false);
  }
});
