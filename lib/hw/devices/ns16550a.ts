/**
 * NS16550A UART, as on QEMU's riscv `virt` machine: eight byte-wide registers one byte apart
 * (reg-shift 0), 16-byte receive and transmit FIFOs, receive-data, transmitter-empty,
 * line-status and modem-status interrupts, loopback, and a host side: bytes the guest transmits
 * go to an output callback at once, bytes the host sends wait in a larger input buffer and move
 * into the receive FIFO as the guest drains it.
 *
 * Register map (offsets from the base; DLAB = LCR bit 7):
 *
 * | offset | read                 | write                |
 * |--------|----------------------|----------------------|
 * | 0      | RBR (DLAB=0) / DLL   | THR (DLAB=0) / DLL   |
 * | 1      | IER (DLAB=0) / DLM   | IER (DLAB=0) / DLM   |
 * | 2      | IIR                  | FCR                  |
 * | 3      | LCR                  | LCR                  |
 * | 4      | MCR                  | MCR                  |
 * | 5      | LSR                  | (ignored)            |
 * | 6      | MSR                  | (ignored)            |
 * | 7      | SCR                  | SCR                  |
 *
 * @module
 */

import type { AccessWidth, DeviceState, IrqLine, MmioDevice } from "../device.ts";
import { NO_IRQ } from "../device.ts";

/** IER bit: receive data available interrupt. */
export const IER_RDI = 0x01;
/** IER bit: transmitter holding register empty interrupt. */
export const IER_THRI = 0x02;
/** IER bit: receiver line status interrupt. */
export const IER_RLSI = 0x04;
/** IER bit: modem status interrupt. */
export const IER_MSI = 0x08;

/** IIR value: no interrupt pending. */
export const IIR_NO_INT = 0x01;
/** IIR interrupt id: modem status change. */
export const IIR_MSI = 0x00;
/** IIR interrupt id: transmitter holding register empty. */
export const IIR_THRI = 0x02;
/** IIR interrupt id: received data available (trigger level reached). */
export const IIR_RDI = 0x04;
/** IIR interrupt id: receiver line status (overrun, parity, framing, break). */
export const IIR_RLSI = 0x06;
/** IIR interrupt id: character timeout (data below the trigger level waits in the FIFO). */
export const IIR_CTI = 0x0c;
/** IIR bits 7:6 when the FIFOs are enabled. */
export const IIR_FIFO_ENABLED = 0xc0;

/** FCR bit: enable the FIFOs. */
export const FCR_ENABLE = 0x01;
/** FCR bit: clear the receive FIFO (self-clearing). */
export const FCR_CLEAR_RX = 0x02;
/** FCR bit: clear the transmit FIFO (self-clearing). */
export const FCR_CLEAR_TX = 0x04;

/** LCR bit: divisor latch access. */
export const LCR_DLAB = 0x80;

/** MCR bit: data terminal ready. */
export const MCR_DTR = 0x01;
/** MCR bit: request to send. */
export const MCR_RTS = 0x02;
/** MCR bit: OUT1. */
export const MCR_OUT1 = 0x04;
/** MCR bit: OUT2 (gates the interrupt on PCs; QEMU, and we, do not gate). */
export const MCR_OUT2 = 0x08;
/** MCR bit: loopback mode. */
export const MCR_LOOP = 0x10;

/** LSR bit: data ready. */
export const LSR_DR = 0x01;
/** LSR bit: overrun error. */
export const LSR_OE = 0x02;
/** LSR bit: break interrupt. */
export const LSR_BI = 0x10;
/** LSR bit: transmitter holding register empty. */
export const LSR_THRE = 0x20;
/** LSR bit: transmitter empty. */
export const LSR_TEMT = 0x40;

/** MSR bit: delta clear to send. */
export const MSR_DCTS = 0x01;
/** MSR bit: delta data set ready. */
export const MSR_DDSR = 0x02;
/** MSR bit: trailing edge ring indicator. */
export const MSR_TERI = 0x04;
/** MSR bit: delta data carrier detect. */
export const MSR_DDCD = 0x08;
/** MSR bit: clear to send. */
export const MSR_CTS = 0x10;
/** MSR bit: data set ready. */
export const MSR_DSR = 0x20;
/** MSR bit: ring indicator. */
export const MSR_RI = 0x40;
/** MSR bit: data carrier detect. */
export const MSR_DCD = 0x80;

/** Depth of the receive and transmit FIFOs. */
export const UART_FIFO_DEPTH = 16;
/** Default size of the host-side input buffer. */
export const UART_DEFAULT_INPUT_CAPACITY = 64 * 1024;

const RX_TRIGGER_LEVELS = [1, 4, 8, 14] as const;
const MSR_DELTAS = MSR_DCTS | MSR_DDSR | MSR_TERI | MSR_DDCD;
/** Modem lines as QEMU reports them outside loopback: carrier, data set ready, clear to send. */
const MSR_IDLE_LINES = MSR_DCD | MSR_DSR | MSR_CTS;

/** Options for {@linkcode Ns16550a}. */
export interface Ns16550aOptions {
  /** The UART's interrupt line (to a PLIC source). Default: none. */
  irq?: IrqLine;
  /** Called with every byte the guest transmits (outside loopback). */
  onOutput?: (byte: number) => void;
  /** Bytes the host may queue ahead of the receive FIFO. Default 64 KiB. */
  inputCapacity?: number;
  /** Size of the register window. Default 0x100, as on QEMU virt. */
  size?: number;
}

/** The saved state of an {@linkcode Ns16550a}. */
export interface Ns16550aState extends DeviceState {
  /** Interrupt enable register. */
  ier: number;
  /** Line control register. */
  lcr: number;
  /** Modem control register. */
  mcr: number;
  /** Line status bits that are not derived from the FIFOs (OE, BI). */
  lsrErrors: number;
  /** Modem status register (lines and deltas). */
  msr: number;
  /** Scratch register. */
  scr: number;
  /** FIFO control bits last written (enable and trigger level). */
  fcr: number;
  /** Divisor latch. */
  divisor: number;
  /** Whether a transmitter-empty interrupt is pending (cleared by reading IIR). */
  thrPending: boolean;
  /** Bytes in the receive FIFO, oldest first. */
  rx: number[];
  /** Host bytes waiting for room in the receive FIFO, oldest first. */
  input: number[];
  /** Bytes transmitted since reset. */
  transmitted: number;
}

/** Emulated NS16550A UART. */
export class Ns16550a implements MmioDevice {
  /** Model name. */
  readonly kind = "ns16550a";
  /** Size of the register window in bytes. */
  readonly size: number;
  /** Capacity of the host-side input buffer in bytes. */
  readonly inputCapacity: number;

  #irq: IrqLine;
  #onOutput: (byte: number) => void;
  #ier = 0;
  #lcr = 0;
  #mcr = 0;
  #lsrErrors = 0;
  #msr = MSR_IDLE_LINES;
  #scr = 0;
  #fcr = 0;
  #divisor = 0;
  #thrPending = false;
  #transmitted = 0;
  #irqLevel = false;
  // Receive FIFO: a ring of UART_FIFO_DEPTH bytes.
  #rx = new Uint8Array(UART_FIFO_DEPTH);
  #rxHead = 0;
  #rxCount = 0;
  // Host input buffer: a ring of inputCapacity bytes.
  #input: Uint8Array;
  #inputHead = 0;
  #inputCount = 0;

  /** Creates a UART in its power-on state. */
  constructor(options: Ns16550aOptions = {}) {
    this.#irq = options.irq ?? NO_IRQ;
    this.#onOutput = options.onOutput ?? (() => {});
    this.size = options.size ?? 0x100;
    this.inputCapacity = options.inputCapacity ?? UART_DEFAULT_INPUT_CAPACITY;
    if (!Number.isInteger(this.inputCapacity) || this.inputCapacity < 1) {
      throw new RangeError(
        `ns16550a: inputCapacity must be a positive integer, got ${this.inputCapacity}`,
      );
    }
    if (!Number.isInteger(this.size) || this.size < 8) {
      throw new RangeError(`ns16550a: size must be at least 8 bytes, got ${this.size}`);
    }
    this.#input = new Uint8Array(this.inputCapacity);
  }

  /** Replaces the output callback (bytes the guest transmits). */
  setOutput(onOutput: (byte: number) => void): void {
    this.#onOutput = onOutput;
  }

  /** Replaces the interrupt line. */
  setIrq(irq: IrqLine): void {
    this.#irq = irq;
    this.#irqLevel = false;
    this.#updateIrq();
  }

  /**
   * Queues bytes from the host for the guest to receive. Returns how many were accepted; the rest
   * did not fit in the input buffer (the caller may retry after the guest has read some).
   */
  sendInput(bytes: Uint8Array | string): number {
    const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
    let accepted = 0;
    for (const byte of data) {
      if (this.#inputCount === this.inputCapacity) break;
      this.#input[(this.#inputHead + this.#inputCount) % this.inputCapacity] = byte;
      this.#inputCount++;
      accepted++;
    }
    this.#refillRx();
    this.#updateIrq();
    return accepted;
  }

  /** Bytes waiting for the guest: in the receive FIFO plus in the host input buffer. */
  pendingInput(): number {
    return this.#rxCount + this.#inputCount;
  }

  /** Bytes transmitted by the guest since reset (loopback bytes excluded). */
  get transmitted(): number {
    return this.#transmitted;
  }

  /** Current level of the interrupt line. */
  get irqLevel(): boolean {
    return this.#irqLevel;
  }

  /** Reads a register. Wider accesses read the byte register at `offset`. */
  read(offset: number, _width: AccessWidth): number {
    switch (offset) {
      case 0:
        if (this.#lcr & LCR_DLAB) return this.#divisor & 0xff;
        return this.#readRbr();
      case 1:
        if (this.#lcr & LCR_DLAB) return (this.#divisor >> 8) & 0xff;
        return this.#ier;
      case 2: {
        const iir = this.#iir();
        // Reading IIR while it reports THR empty acknowledges that interrupt.
        if ((iir & 0x0f) === IIR_THRI) {
          this.#thrPending = false;
          this.#updateIrq();
        }
        return iir;
      }
      case 3:
        return this.#lcr;
      case 4:
        return this.#mcr;
      case 5: {
        const lsr = this.#lsr();
        if (this.#lsrErrors) {
          this.#lsrErrors = 0;
          this.#updateIrq();
        }
        return lsr;
      }
      case 6: {
        const msr = this.#msr;
        if (msr & MSR_DELTAS) {
          this.#msr &= ~MSR_DELTAS;
          this.#updateIrq();
        }
        return msr;
      }
      case 7:
        return this.#scr;
      default:
        return 0;
    }
  }

  /** Writes a register. Wider accesses write the low byte to the byte register at `offset`. */
  write(offset: number, _width: AccessWidth, value: number): void {
    value &= 0xff;
    switch (offset) {
      case 0:
        if (this.#lcr & LCR_DLAB) {
          this.#divisor = (this.#divisor & 0xff00) | value;
        } else {
          this.#transmit(value);
        }
        break;
      case 1:
        if (this.#lcr & LCR_DLAB) {
          this.#divisor = (this.#divisor & 0x00ff) | (value << 8);
        } else {
          const enabledThri = !(this.#ier & IER_THRI) && (value & IER_THRI);
          this.#ier = value & 0x0f;
          // As on the 8250 family and QEMU: enabling THRI while THR is empty raises it at once.
          if (enabledThri) this.#thrPending = true;
          this.#updateIrq();
        }
        break;
      case 2:
        this.#writeFcr(value);
        break;
      case 3:
        this.#lcr = value;
        break;
      case 4:
        this.#writeMcr(value & 0x1f);
        break;
      case 7:
        this.#scr = value;
        break;
      default:
        // LSR and MSR are read-only; offsets past 7 are unused.
        break;
    }
  }

  /** Returns to the power-on state; the host input buffer is emptied too. */
  reset(): void {
    this.#ier = 0;
    this.#lcr = 0;
    this.#mcr = 0;
    this.#lsrErrors = 0;
    this.#msr = MSR_IDLE_LINES;
    this.#scr = 0;
    this.#fcr = 0;
    this.#divisor = 0;
    this.#thrPending = false;
    this.#transmitted = 0;
    this.#rxHead = 0;
    this.#rxCount = 0;
    this.#inputHead = 0;
    this.#inputCount = 0;
    this.#updateIrq();
  }

  /** Captures the UART's registers, FIFO contents and pending host input. */
  snapshot(): Ns16550aState {
    const rx: number[] = [];
    for (let i = 0; i < this.#rxCount; i++) rx.push(this.#rx[(this.#rxHead + i) % UART_FIFO_DEPTH]);
    const input: number[] = [];
    for (let i = 0; i < this.#inputCount; i++) {
      input.push(this.#input[(this.#inputHead + i) % this.inputCapacity]);
    }
    return {
      ier: this.#ier,
      lcr: this.#lcr,
      mcr: this.#mcr,
      lsrErrors: this.#lsrErrors,
      msr: this.#msr,
      scr: this.#scr,
      fcr: this.#fcr,
      divisor: this.#divisor,
      thrPending: this.#thrPending,
      rx,
      input,
      transmitted: this.#transmitted,
    };
  }

  /** Restores a state taken by {@linkcode Ns16550a.snapshot}. */
  restore(state: DeviceState): void {
    const s = state as Partial<Ns16550aState>;
    const byte = (name: keyof Ns16550aState): number => {
      const v = s[name];
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xff) {
        throw new TypeError(`ns16550a restore: ${name} must be a byte, got ${JSON.stringify(v)}`);
      }
      return v;
    };
    const bytes = (name: "rx" | "input", max: number): number[] => {
      const v = s[name];
      if (
        !Array.isArray(v) || v.length > max ||
        v.some((b) => !Number.isInteger(b) || b < 0 || b > 0xff)
      ) {
        throw new TypeError(`ns16550a restore: ${name} must be an array of at most ${max} bytes`);
      }
      return v;
    };
    const rx = bytes("rx", UART_FIFO_DEPTH);
    const input = bytes("input", this.inputCapacity);
    const divisor = s.divisor;
    if (
      typeof divisor !== "number" || !Number.isInteger(divisor) || divisor < 0 || divisor > 0xffff
    ) {
      throw new TypeError(
        `ns16550a restore: divisor must be a 16-bit integer, got ${JSON.stringify(divisor)}`,
      );
    }
    this.#ier = byte("ier") & 0x0f;
    this.#lcr = byte("lcr");
    this.#mcr = byte("mcr") & 0x1f;
    this.#lsrErrors = byte("lsrErrors") & (LSR_OE | LSR_BI);
    this.#msr = byte("msr");
    this.#scr = byte("scr");
    this.#fcr = byte("fcr") & 0xc1;
    this.#divisor = divisor;
    this.#thrPending = s.thrPending === true;
    this.#transmitted = typeof s.transmitted === "number" ? s.transmitted : 0;
    this.#rxHead = 0;
    this.#rxCount = rx.length;
    this.#rx.set(rx);
    this.#inputHead = 0;
    this.#inputCount = input.length;
    this.#input.set(input);
    this.#updateIrq();
  }

  get #fifoEnabled(): boolean {
    return (this.#fcr & FCR_ENABLE) !== 0;
  }

  get #rxCapacity(): number {
    return this.#fifoEnabled ? UART_FIFO_DEPTH : 1;
  }

  get #rxTrigger(): number {
    return this.#fifoEnabled ? RX_TRIGGER_LEVELS[this.#fcr >> 6] : 1;
  }

  #lsr(): number {
    // Transmission is instantaneous: the holding register and shift register are always empty.
    let lsr = LSR_THRE | LSR_TEMT | this.#lsrErrors;
    if (this.#rxCount > 0) lsr |= LSR_DR;
    return lsr;
  }

  #iir(): number {
    const fifoBits = this.#fifoEnabled ? IIR_FIFO_ENABLED : 0;
    return this.#interruptId() | fifoBits;
  }

  /** The highest-priority pending, enabled interrupt, as the low nibble of IIR. */
  #interruptId(): number {
    if ((this.#ier & IER_RLSI) && this.#lsrErrors) return IIR_RLSI;
    if ((this.#ier & IER_RDI) && this.#rxCount > 0) {
      // Data below the trigger level raises the character timeout; the host has nothing more to
      // send right now, so the timeout is immediate (the emulated line is infinitely fast).
      return this.#rxCount >= this.#rxTrigger ? IIR_RDI : IIR_CTI;
    }
    if ((this.#ier & IER_THRI) && this.#thrPending) return IIR_THRI;
    if ((this.#ier & IER_MSI) && (this.#msr & MSR_DELTAS)) return IIR_MSI;
    return IIR_NO_INT;
  }

  #updateIrq(): void {
    const level = this.#interruptId() !== IIR_NO_INT;
    if (level !== this.#irqLevel) {
      this.#irqLevel = level;
      this.#irq.set(level);
    }
  }

  #readRbr(): number {
    if (this.#rxCount === 0) return 0;
    const byte = this.#rx[this.#rxHead];
    this.#rxHead = (this.#rxHead + 1) % UART_FIFO_DEPTH;
    this.#rxCount--;
    if (!(this.#mcr & MCR_LOOP)) this.#refillRx();
    this.#updateIrq();
    return byte;
  }

  #pushRx(byte: number): boolean {
    if (this.#rxCount >= this.#rxCapacity) return false;
    this.#rx[(this.#rxHead + this.#rxCount) % UART_FIFO_DEPTH] = byte;
    this.#rxCount++;
    return true;
  }

  /** Moves host input into the receive FIFO while there is room (not in loopback). */
  #refillRx(): void {
    if (this.#mcr & MCR_LOOP) return;
    while (this.#inputCount > 0 && this.#rxCount < this.#rxCapacity) {
      this.#pushRx(this.#input[this.#inputHead]);
      this.#inputHead = (this.#inputHead + 1) % this.inputCapacity;
      this.#inputCount--;
    }
  }

  #transmit(byte: number): void {
    if (this.#mcr & MCR_LOOP) {
      if (!this.#pushRx(byte)) this.#lsrErrors |= LSR_OE;
    } else {
      this.#transmitted++;
      this.#onOutput(byte);
    }
    // The byte left at once: THR is empty again and, if enabled, says so by interrupt.
    this.#thrPending = true;
    this.#updateIrq();
  }

  #writeFcr(value: number): void {
    const wasEnabled = this.#fifoEnabled;
    const enable = (value & FCR_ENABLE) !== 0;
    if (enable !== wasEnabled || (value & FCR_CLEAR_RX)) {
      // Changing the FIFO mode empties the FIFOs, as on the real part.
      this.#rxHead = 0;
      this.#rxCount = 0;
    }
    this.#fcr = value & 0xc1;
    this.#refillRx();
    this.#updateIrq();
  }

  #writeMcr(value: number): void {
    const old = this.#mcr;
    this.#mcr = value;
    const oldMsr = this.#msr;
    let lines: number;
    if (value & MCR_LOOP) {
      // Loopback: the modem outputs feed the modem inputs (RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD).
      lines = ((value & MCR_RTS) ? MSR_CTS : 0) | ((value & MCR_DTR) ? MSR_DSR : 0) |
        ((value & MCR_OUT1) ? MSR_RI : 0) | ((value & MCR_OUT2) ? MSR_DCD : 0);
    } else {
      lines = MSR_IDLE_LINES;
    }
    let deltas = oldMsr & MSR_DELTAS;
    const changed = (oldMsr ^ lines) & 0xf0;
    if (changed & MSR_CTS) deltas |= MSR_DCTS;
    if (changed & MSR_DSR) deltas |= MSR_DDSR;
    if (changed & MSR_DCD) deltas |= MSR_DDCD;
    if ((oldMsr & MSR_RI) && !(lines & MSR_RI)) deltas |= MSR_TERI;
    this.#msr = lines | deltas;
    if ((old & MCR_LOOP) && !(value & MCR_LOOP)) this.#refillRx();
    this.#updateIrq();
  }
}
