/**
 * 64-bit arithmetic on int32 halves for the hart's slow paths: the high multiplies and the
 * divisions. Results are written to {@linkcode aluOut} (`[lo, hi]`, signed int32 halves).
 *
 * Everything runs on int32 and float64 arithmetic; no BigInt is involved (only the
 * {@linkcode bigS}/{@linkcode bigU} conversion helpers produce one, for callers that want it).
 *
 * - Products: the 128-bit product is assembled from four 32x32-bit partial products, each exact
 *   via {@linkcode mulhu32} (16-bit limbs) and `Math.imul`. Signed high products are the unsigned
 *   one corrected by subtracting the other operand for each negative operand.
 * - Divisions: operands within 2^53 in magnitude use double arithmetic, which is exact there:
 *   for integers `0 <= a, b` with `a <= 2^53`, `Math.floor(a / b)` is `⌊a/b⌋` exactly (the true
 *   quotient is at least `1/b` below the next integer, more than half an ulp of it because
 *   `b·⌊a/b⌋ <= a`), and `a - q·b` is then exact. Larger unsigned operands go to long division:
 *   by digits (the low word whole for divisors up to 2^21, else two 16-bit digits estimated with
 *   the divisor's reciprocal and corrected once) when the divisor fits in 32 bits, otherwise by
 *   one quotient digit estimated with doubles (biased low so it is `q` or `q - 1`) and corrected
 *   once with exact 64-bit arithmetic on halves. Signed forms divide the magnitudes, which
 *   yields RISC-V's overflow results (`INT64_MIN / -1 = INT64_MIN`, remainder 0) without a
 *   special case; division by zero gives all ones and the dividend, as the ISA specifies.
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
  const p01 = a0 * b1; // each partial product is below 2^32: `>>> 16` is its exact upper half
  const p10 = a1 * b0;
  const mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}

/** Signed BigInt of the halves. */
export const bigS = (lo: number, hi: number): bigint => (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0);
/** Unsigned BigInt of the halves. */
export const bigU = (lo: number, hi: number): bigint =>
  (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

/** Stores an integer-valued number of magnitude at most 2^53 as halves (two's complement). */
function setNum(v: number): void {
  aluOut[0] = v | 0;
  aluOut[1] = Math.floor(v / TWO32) | 0;
}

/** Low 64 bits of the product. */
export function mul(al: number, ah: number, bl: number, bh: number): void {
  aluOut[0] = Math.imul(al, bl);
  aluOut[1] = (mulhu32(al, bl) + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
}

// High half of the last unsigned 128-bit product (int32 halves), set by umulh.
let hLo = 0;
let hHi = 0;

/** Upper 64 bits of the unsigned 128-bit product into `hLo`/`hHi`. */
function umulh(al: number, ah: number, bl: number, bh: number): void {
  // a·b = ah·bh·2^64 + (al·bh + ah·bl)·2^32 + al·bl; each 32x32 partial as (imul, mulhu32).
  const mid = (mulhu32(al, bl) >>> 0) + (Math.imul(al, bh) >>> 0) + (Math.imul(ah, bl) >>> 0);
  const low = (Math.imul(ah, bh) >>> 0) + (mulhu32(al, bh) >>> 0) + (mulhu32(ah, bl) >>> 0) +
    ((mid / TWO32) | 0); // below 2^35: exact; `| 0` floors these non-negative quotients
  hLo = low | 0;
  hHi = (mulhu32(ah, bh) + ((low / TWO32) | 0)) | 0;
}

/** High 64 bits of the signed x signed 128-bit product. */
export function mulh(al: number, ah: number, bl: number, bh: number): void {
  if (ah === al >> 31 && bh === bl >> 31) {
    // Both operands are int32: |product| <= 2^62, so the high half is its sign extension.
    const s = al * bl < 0 ? -1 : 0;
    aluOut[0] = s;
    aluOut[1] = s;
    return;
  }
  umulh(al, ah, bl, bh);
  let lo = hLo;
  let hi = hHi;
  if (ah < 0) { // signed a = unsigned a - 2^64: subtract b from the high half
    const d = (lo >>> 0) - (bl >>> 0);
    lo = d | 0;
    hi = (hi - bh - (d < 0 ? 1 : 0)) | 0;
  }
  if (bh < 0) {
    const d = (lo >>> 0) - (al >>> 0);
    lo = d | 0;
    hi = (hi - ah - (d < 0 ? 1 : 0)) | 0;
  }
  aluOut[0] = lo;
  aluOut[1] = hi;
}

/** High 64 bits of the signed x unsigned 128-bit product. */
export function mulhsu(al: number, ah: number, bl: number, bh: number): void {
  if (ah === 0 && bh === 0) {
    aluOut[0] = 0; // both operands below 2^32: the product fits in 64 bits
    aluOut[1] = 0;
    return;
  }
  umulh(al, ah, bl, bh);
  if (ah < 0) {
    const d = (hLo >>> 0) - (bl >>> 0);
    aluOut[0] = d;
    aluOut[1] = hHi - bh - (d < 0 ? 1 : 0);
  } else {
    aluOut[0] = hLo;
    aluOut[1] = hHi;
  }
}

/** High 64 bits of the unsigned x unsigned 128-bit product. */
export function mulhu(al: number, ah: number, bl: number, bh: number): void {
  if (ah === 0 && bh === 0) {
    aluOut[0] = 0; // both operands below 2^32: the product fits in 64 bits
    aluOut[1] = 0;
    return;
  }
  umulh(al, ah, bl, bh);
  aluOut[0] = hLo;
  aluOut[1] = hHi;
}

// Quotient and remainder of the last unsigned division (int32 halves), set by udivmod.
let qLo = 0;
let qHi = 0;
let rLo = 0;
let rHi = 0;

/**
 * Unsigned 64-bit division of `a` by a non-zero `b` into `qLo`/`qHi` and `rLo`/`rHi`.
 * See the module notes for why each step is exact.
 */
function udivmod(al: number, ah: number, bl: number, bh: number): void {
  const ahu = ah >>> 0;
  const bhu = bh >>> 0;
  const alu = al >>> 0;
  const blu = bl >>> 0;
  if (ahu < 0x200000 && bhu < 0x200000) { // both below 2^53
    const a = ahu * TWO32 + alu;
    const b = bhu * TWO32 + blu;
    const q = Math.floor(a / b);
    const r = a - q * b;
    qLo = q | 0;
    qHi = (q / TWO32) | 0;
    rLo = r | 0;
    rHi = (r / TWO32) | 0;
  } else if (bhu === 0) {
    // Divisor below 2^32: long division of the dividend's digits; each partial remainder is
    // below the divisor, so every partial dividend stays below 2^53.
    const qh = Math.floor(ahu / blu);
    let r = ahu - qh * blu;
    let q = 0;
    if (blu <= 0x200000) { // r·2^32 + al < 2^53: the low word as one digit
      const x = r * TWO32 + alu;
      q = Math.floor(x / blu);
      r = x - q * blu;
    } else {
      // Two 16-bit digits, by the reciprocal: each partial quotient is below 2^16, so the
      // product's error (under 2^-35) is smaller than the 1/d gap below the next integer; the
      // floor is the digit, or one less when the partial dividend is an exact multiple.
      const inv = 1 / blu;
      let x = r * 65536 + (alu >>> 16);
      let q1 = Math.floor(x * inv);
      r = x - q1 * blu;
      if (r >= blu) {
        q1++;
        r -= blu;
      }
      x = r * 65536 + (alu & 0xffff);
      let q0 = Math.floor(x * inv);
      r = x - q0 * blu;
      if (r >= blu) {
        q0++;
        r -= blu;
      }
      q = q1 * 65536 + q0;
    }
    qLo = q | 0;
    qHi = qh | 0;
    rLo = r | 0;
    rHi = 0;
  } else {
    // Divisor at least 2^32, so the quotient is below 2^32. The double quotient is within
    // 3·2^-53 relative (below 2^-19 absolute) of a/b; biased down by 2^-18 its floor is the
    // quotient or one less, never more, so a - q·b is non-negative and fits in 64 bits.
    let q = Math.floor((ahu * TWO32 + alu) / (bhu * TWO32 + blu) - 1 / 262144);
    if (q < 0) q = 0;
    const pl = Math.imul(q, bl);
    const ph = mulhu32(q, bl) + Math.imul(q, bh);
    const dl = alu - (pl >>> 0);
    let lo = dl | 0;
    let hi = (ah - ph - (dl < 0 ? 1 : 0)) | 0;
    const hiu = hi >>> 0;
    if (hiu > bhu || (hiu === bhu && (lo >>> 0) >= blu)) { // remainder >= b: one more
      q++;
      const el = (lo >>> 0) - blu;
      lo = el | 0;
      hi = (hi - bh - (el < 0 ? 1 : 0)) | 0;
    }
    qLo = q | 0;
    qHi = 0;
    rLo = lo;
    rHi = hi;
  }
}

/** Whether the signed value hi:lo lies in [-2^53, 2^53), where number arithmetic is exact. */
const fits53 = (hi: number): boolean => hi >= -0x200000 && hi < 0x200000;
const num = (lo: number, hi: number): number => hi * TWO32 + (lo >>> 0);

/** Division of the magnitudes of the signed values `a` and `b` into `qLo`/`qHi`, `rLo`/`rHi`. */
function divmodMagnitudes(al: number, ah: number, bl: number, bh: number): void {
  if (ah < 0) {
    const l = al;
    al = -l | 0;
    ah = l === 0 ? -ah | 0 : ~ah;
  }
  if (bh < 0) {
    const l = bl;
    bl = -l | 0;
    bh = l === 0 ? -bh | 0 : ~bh;
  }
  udivmod(al, ah, bl, bh);
}

/** Stores the halves `lo`/`hi`, negated when `negate` is true. */
function setSigned(lo: number, hi: number, negate: boolean): void {
  if (negate) {
    aluOut[0] = -lo;
    aluOut[1] = lo === 0 ? -hi : ~hi;
  } else {
    aluOut[0] = lo;
    aluOut[1] = hi;
  }
}

/** Signed division as RISC-V defines it (x/0 = -1, overflow gives the dividend). */
export function div(al: number, ah: number, bl: number, bh: number): void {
  if ((bl | bh) === 0) {
    aluOut[0] = -1;
    aluOut[1] = -1;
  } else if (ah === al >> 31 && bh === bl >> 31) {
    setNum(Math.trunc(al / bl)); // -2^31 / -1 = 2^31 is representable in 64 bits
  } else if (fits53(ah) && fits53(bh)) {
    setNum(Math.trunc(num(al, ah) / num(bl, bh)));
  } else {
    divmodMagnitudes(al, ah, bl, bh);
    setSigned(qLo, qHi, (ah ^ bh) < 0); // truncation toward zero: the quotient's sign
  }
}

/** Unsigned division (x/0 = all ones). */
export function divu(al: number, ah: number, bl: number, bh: number): void {
  if ((bl | bh) === 0) {
    aluOut[0] = -1;
    aluOut[1] = -1;
  } else if (ah === 0 && bh === 0) {
    aluOut[0] = Math.floor((al >>> 0) / (bl >>> 0));
    aluOut[1] = 0;
  } else {
    udivmod(al, ah, bl, bh);
    aluOut[0] = qLo;
    aluOut[1] = qHi;
  }
}

/** Signed remainder (x%0 = x, overflow gives 0). */
export function rem(al: number, ah: number, bl: number, bh: number): void {
  if ((bl | bh) === 0) {
    aluOut[0] = al;
    aluOut[1] = ah;
  } else if (ah === al >> 31 && bh === bl >> 31) {
    const r = (al % bl) | 0;
    aluOut[0] = r;
    aluOut[1] = r >> 31;
  } else if (fits53(ah) && fits53(bh)) {
    const a = num(al, ah);
    const b = num(bl, bh);
    setNum(a - Math.trunc(a / b) * b);
  } else {
    divmodMagnitudes(al, ah, bl, bh);
    setSigned(rLo, rHi, ah < 0); // the remainder takes the dividend's sign
  }
}

/** Unsigned remainder (x%0 = x). */
export function remu(al: number, ah: number, bl: number, bh: number): void {
  if ((bl | bh) === 0) {
    aluOut[0] = al;
    aluOut[1] = ah;
  } else if (ah === 0 && bh === 0) {
    aluOut[0] = (al >>> 0) % (bl >>> 0);
    aluOut[1] = 0;
  } else {
    udivmod(al, ah, bl, bh);
    aluOut[0] = rLo;
    aluOut[1] = rHi;
  }
}
