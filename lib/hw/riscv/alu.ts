/**
 * 64-bit arithmetic on int32 halves for the hart's slow paths: the high multiplies and the
 * divisions. Results are written to {@linkcode aluOut} (`[lo, hi]`, signed int32 halves).
 *
 * Fast paths stay in plain number arithmetic (32-bit operands); BigInt is used only for full
 * 64-bit divisions and the 128-bit products of MULH, MULHSU and MULHU.
 *
 * @module
 */

/** Result of the last operation: `[lo, hi]` as signed int32 halves. */
export const aluOut: Int32Array = new Int32Array(2);

const TWO32 = 4294967296;

/** Upper 32 bits of the unsigned 32x32-bit product of `a` and `b` (as int32). */
export function mulhu32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + Math.floor(p01 / 65536) + Math.floor(p10 / 65536) + Math.floor(mid / 65536)) |
    0;
}

/** Signed BigInt of the halves. */
export const bigS = (lo: number, hi: number): bigint => (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0);
/** Unsigned BigInt of the halves. */
export const bigU = (lo: number, hi: number): bigint =>
  (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

function setBig(v: bigint): void {
  aluOut[0] = Number(BigInt.asIntN(32, v));
  aluOut[1] = Number(BigInt.asIntN(32, v >> 32n));
}

function setNum(v: number): void {
  aluOut[0] = v | 0;
  aluOut[1] = Math.floor(v / TWO32) | 0;
}

/** Low 64 bits of the product. */
export function mul(al: number, ah: number, bl: number, bh: number): void {
  aluOut[0] = Math.imul(al, bl);
  aluOut[1] = (mulhu32(al, bl) + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
}

/** High 64 bits of the signed x signed 128-bit product. */
export function mulh(al: number, ah: number, bl: number, bh: number): void {
  setBig((bigS(al, ah) * bigS(bl, bh)) >> 64n);
}

/** High 64 bits of the signed x unsigned 128-bit product. */
export function mulhsu(al: number, ah: number, bl: number, bh: number): void {
  setBig((bigS(al, ah) * bigU(bl, bh)) >> 64n);
}

/** High 64 bits of the unsigned x unsigned 128-bit product. */
export function mulhu(al: number, ah: number, bl: number, bh: number): void {
  if (ah === 0 && bh === 0) {
    aluOut[0] = 0; // both operands below 2^32: the product fits in 64 bits
    aluOut[1] = 0;
    return;
  }
  setBig((bigU(al, ah) * bigU(bl, bh)) >> 64n);
}

const isInt32 = (lo: number, hi: number): boolean => hi === lo >> 31;
/** Whether the signed value hi:lo lies in (-2^52, 2^52), where number arithmetic is exact. */
const isSmall = (hi: number): boolean => hi >= -0x100000 && hi < 0x100000;
const num = (lo: number, hi: number): number => hi * TWO32 + (lo >>> 0);

/** Truncating division of numbers below 2^52 in magnitude: quotient and remainder, exactly. */
function divSmall(a: number, b: number, wantRem: boolean): void {
  let q = Math.trunc(a / b);
  let r = a - q * b;
  const s = (a < 0) !== (b < 0) ? -1 : 1;
  if (r !== 0 && (r < 0) !== (a < 0)) {
    q -= s;
    r += s * b;
  } else if (Math.abs(r) >= Math.abs(b)) {
    q += s;
    r -= s * b;
  }
  setNum(wantRem ? r : q);
}

/** Signed division as RISC-V defines it (x/0 = -1, overflow gives the dividend). */
export function div(al: number, ah: number, bl: number, bh: number): void {
  if ((bl | bh) === 0) {
    aluOut[0] = -1;
    aluOut[1] = -1;
  } else if (isInt32(al, ah) && isInt32(bl, bh)) {
    setNum(Math.trunc(al / bl));
  } else if (isSmall(ah) && isSmall(bh)) {
    divSmall(num(al, ah), num(bl, bh), false);
  } else {
    const a = bigS(al, ah);
    const b = bigS(bl, bh);
    if (b === -1n && a === -(1n << 63n)) setBig(a);
    else setBig(a / b);
  }
}

/** Unsigned division (x/0 = all ones). */
export function divu(al: number, ah: number, bl: number, bh: number): void {
  if ((bl | bh) === 0) {
    aluOut[0] = -1;
    aluOut[1] = -1;
  } else if (ah === 0 && bh === 0) {
    setNum(Math.floor((al >>> 0) / (bl >>> 0)));
  } else if ((ah >>> 0) < 0x100000 && (bh >>> 0) < 0x100000) {
    divSmall(num(al, ah), num(bl, bh), false);
  } else {
    setBig(bigU(al, ah) / bigU(bl, bh));
  }
}

/** Signed remainder (x%0 = x, overflow gives 0). */
export function rem(al: number, ah: number, bl: number, bh: number): void {
  if ((bl | bh) === 0) {
    aluOut[0] = al;
    aluOut[1] = ah;
  } else if (isInt32(al, ah) && isInt32(bl, bh)) {
    const r = (al % bl) | 0;
    aluOut[0] = r;
    aluOut[1] = r >> 31;
  } else if (isSmall(ah) && isSmall(bh)) {
    divSmall(num(al, ah), num(bl, bh), true);
  } else {
    const a = bigS(al, ah);
    const b = bigS(bl, bh);
    setBig(b === -1n ? 0n : a % b);
  }
}

/** Unsigned remainder (x%0 = x). */
export function remu(al: number, ah: number, bl: number, bh: number): void {
  if ((bl | bh) === 0) {
    aluOut[0] = al;
    aluOut[1] = ah;
  } else if (ah === 0 && bh === 0) {
    aluOut[0] = ((al >>> 0) % (bl >>> 0)) | 0;
    aluOut[1] = 0;
  } else if ((ah >>> 0) < 0x100000 && (bh >>> 0) < 0x100000) {
    divSmall(num(al, ah), num(bl, bh), true);
  } else {
    setBig(bigU(al, ah) % bigU(bl, bh));
  }
}
