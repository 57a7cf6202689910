/**
 * The A extension: LR/SC with the hart's reservation, and the AMOs (read-modify-write of a
 * naturally aligned word or doubleword). Misaligned addresses raise address-misaligned
 * exceptions (the spec allows access faults too); the reservation is the physical address
 * and width of the last LR.
 *
 * @module
 */

import { Cause } from "./csr.ts";
import { Op } from "./decoder.ts";
import type { MemoryAccess } from "./memory_access.ts";

/**
 * The LR reservation of a hart. Dropped at every trap, at reset and restore, and when another
 * hart ran (see hart.ts); an SC consumes it.
 */
export class Reservation {
  /** Whether a reservation is held. */
  valid = false;
  /** Its physical address. */
  addr = 0;
  /** Its width in bytes (4 or 8). */
  width = 0;
}

/**
 * Executes the LR, SC or AMO `w` (a decoded word): true when it completed (the caller
 * advances pc by 4), false after a trap or a bus-error stop.
 */
export function amo(
  mem: MemoryAccess,
  res: Reservation,
  xl: Int32Array,
  xh: Int32Array,
  w: number,
): boolean {
  const op = w & 255;
  const d = op >= Op.LR_D;
  const width = d ? 8 : 4;
  const va = mem.ea(w, 0);
  const rd = (w >> 8) & 63;
  const r2 = (w >> 20) & 63;
  const isLr = op === Op.LR_W || op === Op.LR_D;
  if ((mem.eaLo & (width - 1)) !== 0) {
    mem.fault(isLr ? Cause.LoadMisaligned : Cause.StoreMisaligned);
    return false;
  }
  if (isLr) {
    const pa = mem.dataPa(va, false);
    if (pa === -1) return false;
    if (!mem.readData(va, width, true)) return false;
    xl[rd] = mem.loadedLo;
    xh[rd] = mem.loadedHi;
    res.valid = true;
    res.addr = pa;
    res.width = width;
    return true;
  }
  const pa = mem.dataPa(va, true);
  if (pa === -1) return false;
  if (op === Op.SC_W || op === Op.SC_D) {
    const ok = res.valid && res.addr === pa && res.width === width;
    res.valid = false;
    if (ok) {
      if (!mem.writeData(va, width, xl[r2], xh[r2])) return false;
    }
    xl[rd] = ok ? 0 : 1;
    xh[rd] = 0;
    return true;
  }
  // Read-modify-write. The store translation above set A/D; now read then write.
  if (!mem.readData(va, width, true)) return false;
  const ol = mem.loadedLo;
  const oh = mem.loadedHi;
  const bl = xl[r2];
  const bh = d ? xh[r2] : bl >> 31;
  let nl = bl;
  let nh = bh;
  const k = op - (d ? Op.AMOSWAP_D : Op.AMOSWAP_W);
  switch (k) {
    case 1: { // add
      const u = (ol >>> 0) + (bl >>> 0);
      nl = u | 0;
      nh = (oh + bh + (u > 4294967295 ? 1 : 0)) | 0;
      break;
    }
    case 2:
      nl = ol ^ bl;
      nh = oh ^ bh;
      break;
    case 3:
      nl = ol & bl;
      nh = oh & bh;
      break;
    case 4:
      nl = ol | bl;
      nh = oh | bh;
      break;
    case 5:
    case 6:
    case 7:
    case 8: {
      const unsigned = k >= 7;
      const ah = unsigned ? oh >>> 0 : oh;
      const bhx = unsigned ? bh >>> 0 : bh;
      const less = ah < bhx || (ah === bhx && (ol >>> 0) < (bl >>> 0));
      const takeOld = (k === 5 || k === 7) ? less : !less;
      if (takeOld) {
        nl = ol;
        nh = oh;
      }
      break;
    }
  }
  if (!mem.writeData(va, width, nl, nh)) return false;
  xl[rd] = ol;
  xh[rd] = oh;
  return true;
}
