/**
 * Goldfish real-time clock ("google,goldfish-rtc"), as on QEMU's `virt` machine at 0x101000: the
 * wall-clock time in nanoseconds since the Unix epoch, settable by the guest, with one alarm that
 * raises an interrupt. Linux drives it with `rtc-goldfish` (built into Debian's riscv64 kernel)
 * and sets the system time from it at boot (`CONFIG_RTC_HCTOSYS`), so `date` in a guest is right.
 *
 * Registers (32-bit; the layout of QEMU's hw/rtc/goldfish_rtc.c and Linux's driver):
 *
 * | offset | name            | read                                  | write                          |
 * | ------ | --------------- | ------------------------------------- | ------------------------------ |
 * | 0x00   | TIME_LOW        | time bits 31:0; latches bits 63:32    | sets the time to HIGH:value    |
 * | 0x04   | TIME_HIGH       | the latched bits 63:32                | latches bits 63:32 for a set   |
 * | 0x08   | ALARM_LOW       | alarm bits 31:0                       | arms the alarm at HIGH:value   |
 * | 0x0c   | ALARM_HIGH      | alarm bits 63:32                      | alarm bits 63:32               |
 * | 0x10   | IRQ_ENABLED     | 1 when the alarm interrupt is enabled | bit 0 enables it               |
 * | 0x14   | CLEAR_ALARM     | 0                                     | disarms the alarm              |
 * | 0x18   | ALARM_STATUS    | 1 while the alarm is armed            | ignored                        |
 * | 0x1c   | CLEAR_INTERRUPT | 0                                     | clears the pending interrupt   |
 *
 * Time is the owner's virtual clock plus an offset: the device never reads the host's clock, so
 * with the warp clock the same run reads the same times. The owner says when the clock started
 * in wall time (`epochNs`) and asks {@linkcode GoldfishRtc.deadlineNs} when to call
 * {@linkcode GoldfishRtc.update} next (a {@linkcode TimedDevice}).
 *
 * @module
 */

import {
  type AccessWidth,
  type DeviceState,
  type IrqLine,
  type MmioDevice,
  NO_IRQ,
  readRegisterPart,
  type TimedDevice,
} from "../device.ts";

const TIME_LOW = 0x00;
const TIME_HIGH = 0x04;
const ALARM_LOW = 0x08;
const ALARM_HIGH = 0x0c;
const IRQ_ENABLED = 0x10;
const CLEAR_ALARM = 0x14;
const ALARM_STATUS = 0x18;
const CLEAR_INTERRUPT = 0x1c;
const MASK32 = 0xffffffffn;

/**
 * 2026-01-01T00:00:00Z in nanoseconds since the epoch: the default start of the clock. (Times
 * since the epoch in ns exceed 2^53: as numbers they are exact to 256 ns; the device keeps them
 * as bigints.)
 */
export const DEFAULT_RTC_EPOCH_NS = Date.UTC(2026, 0, 1) * 1e6;

/**
 * The start time of an RTC from a user's choice: `host` (the host's time, `hostNowMs` ms since the
 * epoch), `fixed` ({@linkcode DEFAULT_RTC_EPOCH_NS}) or an ISO 8601 time such as
 * `2026-12-02T09:00:00Z`; in ns since the Unix epoch.
 *
 * @throws {RangeError} naming the expected forms when `text` is none of them
 */
export function parseRtcStart(text: string, hostNowMs: number): number {
  if (text === "host") return hostNowMs * 1e6;
  if (text === "fixed") return DEFAULT_RTC_EPOCH_NS;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(
      `"${text}" is not an RTC start: expected host, fixed or an ISO 8601 time after 1970 (e.g. 2026-12-02T09:00:00Z)`,
    );
  }
  return ms * 1e6;
}

/** Options for {@linkcode GoldfishRtc}. */
export interface GoldfishRtcOptions {
  /** Virtual time since the owner's clock started, in nanoseconds. */
  clockNs: () => number;
  /** Wall-clock time (ns since the Unix epoch) at virtual time 0. Default 2026-01-01. */
  epochNs?: number;
  /** The alarm's interrupt line. Default: none. */
  irq?: IrqLine;
  /** Called whenever {@linkcode GoldfishRtc.deadlineNs} changes (so the owner re-arms a timer). */
  onDeadline?: () => void;
  /** Size of the register window. Default 0x1000. */
  size?: number;
}

/** The saved state of a {@linkcode GoldfishRtc} (64-bit values as decimal strings). */
export interface GoldfishRtcState extends DeviceState {
  /** RTC time minus virtual time, in ns (the epoch plus what the guest set). */
  offsetNs: string;
  /** Alarm time (RTC ns). */
  alarmNs: string;
  /** Whether the alarm is armed. */
  alarmRunning: boolean;
  /** Whether the alarm interrupt is enabled. */
  irqEnabled: boolean;
  /** Whether the alarm fired and the guest has not cleared it. */
  irqPending: boolean;
  /** The TIME_HIGH latch. */
  timeHigh: number;
}

/** Emulated Goldfish RTC. */
export class GoldfishRtc implements MmioDevice, TimedDevice {
  /** Model name. */
  readonly kind = "goldfish-rtc";
  /** Size of the register window in bytes. */
  readonly size: number;
  readonly #clockNs: () => number;
  readonly #epochNs: bigint;
  #irq: IrqLine;
  readonly #onDeadline: () => void;
  #offsetNs: bigint;
  #alarmNs = 0n;
  #alarmRunning = false;
  #irqEnabled = false;
  #irqPending = false;
  #timeHigh = 0;

  /** Creates an RTC that reads `epochNs` at virtual time 0. */
  constructor(options: GoldfishRtcOptions) {
    this.size = options.size ?? 0x1000;
    if (!Number.isInteger(this.size) || this.size < 0x20) {
      throw new RangeError(`goldfish-rtc: size must be at least 0x20 bytes, got ${this.size}`);
    }
    this.#clockNs = options.clockNs;
    const epoch = options.epochNs ?? DEFAULT_RTC_EPOCH_NS;
    if (!Number.isFinite(epoch) || epoch < 0) {
      throw new RangeError(`goldfish-rtc: epochNs must be a non-negative number, got ${epoch}`);
    }
    this.#epochNs = BigInt(Math.round(epoch));
    this.#irq = options.irq ?? NO_IRQ;
    this.#onDeadline = options.onDeadline ?? (() => {});
    this.#offsetNs = this.#epochNs;
  }

  /** Connects the alarm interrupt (e.g. when a VM takes the device over). */
  setIrq(irq: IrqLine): void {
    this.#irq = irq;
    this.#updateIrq();
  }

  /** The RTC's time now, in ns since the Unix epoch. */
  nowNs(): bigint {
    return BigInt(Math.floor(this.#clockNs())) + this.#offsetNs;
  }

  /** Reads a register (narrower reads see part of it). */
  read(offset: number, width: AccessWidth): number {
    const reg = offset & ~3;
    let word = 0;
    switch (reg) {
      case TIME_LOW: {
        const t = this.nowNs();
        this.#timeHigh = Number((t >> 32n) & MASK32);
        word = Number(t & MASK32);
        break;
      }
      case TIME_HIGH:
        word = this.#timeHigh;
        break;
      case ALARM_LOW:
        word = Number(this.#alarmNs & MASK32);
        break;
      case ALARM_HIGH:
        word = Number((this.#alarmNs >> 32n) & MASK32);
        break;
      case IRQ_ENABLED:
        word = this.#irqEnabled ? 1 : 0;
        break;
      case ALARM_STATUS:
        word = this.#alarmRunning ? 1 : 0;
        break;
    }
    return readRegisterPart(word, offset, width);
  }

  /** Writes a register (32-bit writes; narrower ones write the low bytes of the register). */
  write(offset: number, _width: AccessWidth, value: number): void {
    const v = value >>> 0;
    switch (offset & ~3) {
      case TIME_LOW:
        this.#offsetNs = ((BigInt(this.#timeHigh) << 32n) | BigInt(v)) -
          BigInt(Math.floor(this.#clockNs()));
        this.#rearm();
        break;
      case TIME_HIGH:
        this.#timeHigh = v;
        break;
      case ALARM_LOW:
        this.#alarmNs = (this.#alarmNs & ~MASK32) | BigInt(v);
        this.#alarmRunning = true;
        this.#rearm();
        break;
      case ALARM_HIGH:
        this.#alarmNs = (BigInt(v) << 32n) | (this.#alarmNs & MASK32);
        break;
      case IRQ_ENABLED:
        this.#irqEnabled = (v & 1) !== 0;
        this.#updateIrq();
        break;
      case CLEAR_ALARM:
        this.#alarmRunning = false;
        this.#onDeadline();
        break;
      case CLEAR_INTERRUPT:
        this.#irqPending = false;
        this.#updateIrq();
        break;
    }
  }

  /** Virtual time (the owner's ns) at which the armed alarm fires, or undefined. */
  deadlineNs(): number | undefined {
    if (!this.#alarmRunning) return undefined;
    const at = this.#alarmNs - this.#offsetNs;
    return at <= 0n ? 0 : Number(at);
  }

  /** Fires the alarm when its time has come (the owner calls this at the deadline). */
  update(): void {
    if (!this.#alarmRunning || this.nowNs() < this.#alarmNs) return;
    this.#alarmRunning = false;
    this.#irqPending = true;
    this.#updateIrq();
    this.#onDeadline();
  }

  /** Back to power-on: the clock reads the epoch plus virtual time, no alarm. */
  reset(): void {
    this.#offsetNs = this.#epochNs;
    this.#alarmNs = 0n;
    this.#alarmRunning = false;
    this.#irqEnabled = false;
    this.#irqPending = false;
    this.#timeHigh = 0;
    this.#updateIrq();
    this.#onDeadline();
  }

  /** Captures the clock offset, the alarm and the interrupt state. */
  snapshot(): GoldfishRtcState {
    return {
      offsetNs: String(this.#offsetNs),
      alarmNs: String(this.#alarmNs),
      alarmRunning: this.#alarmRunning,
      irqEnabled: this.#irqEnabled,
      irqPending: this.#irqPending,
      timeHigh: this.#timeHigh,
    };
  }

  /** Restores a state taken by {@linkcode GoldfishRtc.snapshot}. */
  restore(state: DeviceState): void {
    const s = state as Partial<GoldfishRtcState>;
    for (const key of ["offsetNs", "alarmNs"] as const) {
      if (typeof s[key] !== "string" || !/^-?\d{1,20}$/.test(s[key])) {
        throw new TypeError(`goldfish-rtc restore: ${key} is not a decimal integer string`);
      }
    }
    if (!Number.isInteger(s.timeHigh) || s.timeHigh! < 0 || s.timeHigh! > 0xffffffff) {
      throw new TypeError("goldfish-rtc restore: timeHigh is not a 32-bit value");
    }
    for (const key of ["alarmRunning", "irqEnabled", "irqPending"] as const) {
      if (typeof s[key] !== "boolean") {
        throw new TypeError(`goldfish-rtc restore: ${key} is not a boolean`);
      }
    }
    this.#offsetNs = BigInt(s.offsetNs!);
    this.#alarmNs = BigInt(s.alarmNs!);
    this.#timeHigh = s.timeHigh! >>> 0;
    this.#alarmRunning = s.alarmRunning!;
    this.#irqEnabled = s.irqEnabled!;
    this.#irqPending = s.irqPending!;
    this.#updateIrq();
    this.#onDeadline();
  }

  /** An alarm already due fires at once; otherwise the owner learns the new deadline. */
  #rearm(): void {
    if (this.#alarmRunning && this.nowNs() >= this.#alarmNs) this.update();
    else this.#onDeadline();
  }

  #updateIrq(): void {
    this.#irq.set(this.#irqPending && this.#irqEnabled);
  }
}
