/**
 * The device types a board (`[[devices]]` tables) can hold, registered once: what the board
 * parser accepts, what the device trees (the board's and a guest's) say about each, and how each
 * is built. A new device model is one file under `devices/` plus one entry here.
 *
 * @module
 */

import type { IrqLine, MmioDevice } from "../device.ts";
import { NO_IRQ } from "../device.ts";
import { Aclint, type AclintHartLines } from "../devices/aclint.ts";
import { GoldfishRtc } from "../devices/goldfish_rtc.ts";
import { Ns16550a } from "../devices/ns16550a.ts";
import { Plic } from "../devices/plic.ts";
import { type FinisherEvent, SifiveTest } from "../devices/sifive_test.ts";

/** What one board device is (the parsed `[[devices]]` table). */
export interface BoardDeviceSpec {
  /** Unique name on the board, e.g. `uart0`. */
  name: string;
  /** Device model: a key of {@linkcode DEVICE_KINDS}. */
  type: BoardDeviceType;
  /** Physical base address of the register window. */
  base: number;
  /** Size of the register window in bytes. */
  size: number;
  /** PLIC source (devices with an interrupt). */
  irq?: number;
  /** Input clock in Hz (ns16550a only). */
  clockFrequency?: number;
  /** Number of interrupt sources, `riscv,ndev` (plic only). */
  sources?: number;
}

/** What a device may need from whoever builds it (a board, or the VMM for a passthrough). */
export interface DeviceHost {
  /** The device's interrupt line (its PLIC source), when it has one. */
  irq?: IrqLine;
  /** Receives the bytes a UART transmits. */
  output?: (byte: number) => void;
  /** Virtual time since the host's clock started, in ns. */
  clockNs?: () => number;
  /** Wall-clock time (ns since the Unix epoch) at virtual time 0, for clocks like an RTC. */
  epochNs?: number;
  /** Told whenever a timed device's deadline changes. */
  onDeadline?: () => void;
  /** Output lines of each PLIC context (hart0 M, hart0 S, hart1 M, ...). */
  plicContexts?: IrqLine[];
  /** Software and timer interrupt lines of each hart, for a CLINT. */
  clintHarts?: AclintHartLines[];
  /** mtime in timebase ticks, for a CLINT. */
  ticks?: () => number;
  /** Called when the guest writes the test finisher. */
  onFinish?: (event: FinisherEvent) => void;
}

/** One registered device type. */
export interface DeviceKind {
  /** One line saying what it is. */
  summary: string;
  /** Device-tree node name (the part before `@`). */
  node: string;
  /** Device-tree `compatible`. */
  compatible: readonly string[];
  /** Register window when a board gives no `size`. */
  defaultSize: number;
  /** Smallest register window that holds the registers. */
  minSize: number;
  /** Whether the device raises an interrupt of its own (`irq` on a board, routable to a VM). */
  interrupt: boolean;
  /** Whether a board has at most one. */
  unique: boolean;
  /**
   * Whether a VM may take it as a passthrough device (devices that drive the physical harts,
   * like the CLINT, may not).
   */
  passthrough: boolean;
  /**
   * Whether every VM that passes it through gets an instance of its own: the device holds
   * per-guest state (an RTC's alarm) and nothing the VMs must share (the time it reads is the
   * hypervisor's), so its interrupt reaches each VM from that VM's instance. A shared device
   * (a UART, whose input is the board console's) has one instance and one interrupt owner.
   */
  perVm: boolean;
  /** Board settings beyond name, type, base, size and (with `interrupt`) irq. */
  settings: readonly string[];
  /** Extra device-tree properties of a simple device (not for the interrupt controllers). */
  treeProps?: (spec: BoardDeviceSpec) => Record<string, number | string>;
  /** Builds the device. */
  create(spec: BoardDeviceSpec, host: DeviceHost): MmioDevice;
}

/** UART input clock when a board gives none (QEMU virt's). */
export const DEFAULT_UART_CLOCK = 3_686_400;
/** PLIC sources when a board gives none (QEMU virt's). */
export const DEFAULT_PLIC_SOURCES = 96;

/** The device types, in the order documented; the registry. */
export const DEVICE_KINDS = {
  "ns16550a": {
    summary: "NS16550A UART (Linux's ttyS0)",
    node: "serial",
    compatible: ["ns16550a"],
    defaultSize: 0x100,
    minSize: 8,
    interrupt: true,
    unique: false,
    passthrough: true,
    perVm: false,
    settings: ["clock_frequency"],
    treeProps: (d) => ({ "clock-frequency": d.clockFrequency ?? DEFAULT_UART_CLOCK }),
    create: (d, host) =>
      new Ns16550a({ size: d.size, irq: host.irq ?? NO_IRQ, onOutput: host.output }),
  },
  "plic": {
    summary: "platform-level interrupt controller",
    node: "plic",
    compatible: ["sifive,plic-1.0.0", "riscv,plic0"],
    defaultSize: 0x600000,
    minSize: 0x200000,
    interrupt: false,
    unique: true,
    passthrough: true,
    perVm: false,
    settings: ["sources"],
    create: (d, host) =>
      new Plic({
        sources: d.sources ?? DEFAULT_PLIC_SOURCES,
        contexts: host.plicContexts ?? [NO_IRQ],
        size: d.size,
      }),
  },
  "aclint": {
    summary: "CLINT/ACLINT: machine timers and software interrupts",
    node: "clint",
    compatible: ["sifive,clint0", "riscv,clint0"],
    defaultSize: 0x10000,
    minSize: 0xc000,
    interrupt: false,
    unique: true,
    passthrough: false,
    perVm: false,
    settings: [],
    create: (d, host) =>
      new Aclint({ harts: host.clintHarts ?? [], clock: host.ticks ?? (() => 0), size: d.size }),
  },
  "sifive-test": {
    summary: "SiFive test finisher (power off, reboot)",
    node: "test",
    compatible: ["sifive,test1", "sifive,test0", "syscon"],
    defaultSize: 0x1000,
    minSize: 4,
    interrupt: false,
    unique: true,
    passthrough: false,
    perVm: false,
    settings: [],
    create: (d, host) => new SifiveTest({ size: d.size, onFinish: host.onFinish }),
  },
  "goldfish-rtc": {
    summary: "Goldfish real-time clock (wall-clock time and an alarm)",
    node: "rtc",
    compatible: ["google,goldfish-rtc"],
    defaultSize: 0x1000,
    minSize: 0x20,
    interrupt: true,
    unique: false,
    passthrough: true,
    perVm: true,
    settings: [],
    create: (d, host) =>
      new GoldfishRtc({
        size: d.size,
        irq: host.irq ?? NO_IRQ,
        clockNs: host.clockNs ?? (() => 0),
        epochNs: host.epochNs,
        onDeadline: host.onDeadline,
      }),
  },
} as const satisfies Record<string, DeviceKind>;

/** Device models a board can hold. */
export type BoardDeviceType = keyof typeof DEVICE_KINDS;

/** The device types, in the order documented. */
export const BOARD_DEVICE_TYPES: readonly BoardDeviceType[] = Object.keys(
  DEVICE_KINDS,
) as BoardDeviceType[];

/** The registration of `type`. */
export function deviceKind(type: BoardDeviceType): DeviceKind {
  return DEVICE_KINDS[type];
}

/** Whether `type` names a registered device type. */
export function isBoardDeviceType(type: string): type is BoardDeviceType {
  return Object.hasOwn(DEVICE_KINDS, type);
}
