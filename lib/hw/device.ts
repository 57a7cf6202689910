/**
 * The contract between the bus and every emulated device.
 *
 * A device answers MMIO accesses inside its register window. The bus hands it offsets relative
 * to the window base and widths of 1, 2 or 4 bytes; an 8-byte access is split by the bus into two
 * 4-byte accesses (low word first), which is how every device we model behaves on real buses.
 *
 * @module
 */

/** Access width in bytes that a device sees. */
export type AccessWidth = 1 | 2 | 4;

/** A JSON-serialisable snapshot of a device's state. */
export type DeviceState = Record<string, unknown>;

/** A device that lives on the bus behind a register window. */
export interface MmioDevice {
  /** Model name, e.g. `ns16550a`, `plic`, `aclint`, `sifive-test`. */
  readonly kind: string;
  /** Size of the register window in bytes. */
  readonly size: number;
  /** Reads `width` bytes at `offset`; returns the value zero-extended (unsigned). */
  read(offset: number, width: AccessWidth): number;
  /** Writes the low `width` bytes of `value` at `offset`. */
  write(offset: number, width: AccessWidth, value: number): void;
  /** Returns the device to its power-on state. */
  reset(): void;
  /** Captures the device's state so that {@linkcode MmioDevice.restore} can bring it back. */
  snapshot(): DeviceState;
  /** Restores a state taken by {@linkcode MmioDevice.snapshot}. */
  restore(state: DeviceState): void;
}

/**
 * A device with something to do at a point in virtual time (an alarm, a timer): its owner calls
 * {@linkcode TimedDevice.update} once virtual time reaches {@linkcode TimedDevice.deadlineNs}.
 */
export interface TimedDevice {
  /** Virtual time (ns, the owner's clock) of the next thing to do, or undefined when none. */
  deadlineNs(): number | undefined;
  /** Does what is due by now (nothing when nothing is). */
  update(): void;
}

/** Whether `device` is a {@linkcode TimedDevice}. */
export function isTimedDevice(device: object): device is TimedDevice {
  return typeof (device as Partial<TimedDevice>).deadlineNs === "function" &&
    typeof (device as Partial<TimedDevice>).update === "function";
}

/** One interrupt wire from a device to an interrupt controller (or to a hart's mip bit). */
export interface IrqLine {
  /** Drives the wire high (`true`) or low (`false`). Level-triggered. */
  set(level: boolean): void;
}

/** An interrupt line that goes nowhere; for devices configured without an IRQ. */
export const NO_IRQ: IrqLine = { set() {} };

/**
 * The `width` bytes at `offset` of a 32-bit register whose value is `word` (the register at
 * `offset & ~3`), zero-extended: how a device with 32-bit registers answers narrower reads.
 */
export function readRegisterPart(word: number, offset: number, width: AccessWidth): number {
  if (width === 4) return word >>> 0;
  const shift = (offset & 3) * 8;
  return (word >>> shift) & (width === 1 ? 0xff : 0xffff);
}

/**
 * The 32-bit register value `word` with its `width` bytes at `offset` (within the register at
 * `offset & ~3`) replaced by the low bytes of `value`, unsigned: how a device with 32-bit
 * registers merges a narrower write.
 */
export function mergeRegisterPart(
  word: number,
  offset: number,
  width: AccessWidth,
  value: number,
): number {
  if (width === 4) return value >>> 0;
  const shift = (offset & 3) * 8;
  const mask = ((width === 1 ? 0xff : 0xffff) << shift) >>> 0;
  return ((word & ~mask) | ((value << shift) & mask)) >>> 0;
}
