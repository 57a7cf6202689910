/**
 * Building a VM from its config against the board: CPU checks, memory regions (allocated,
 * identical, reserved), emulated and passthrough devices, vCPUs, guest images and the guest
 * device tree. Used by the {@linkcode Hypervisor} at create and at every boot.
 *
 * @module
 */

import type { AccessWidth, IrqLine, MmioDevice } from "../hw/device.ts";
import { isTimedDevice, NO_IRQ } from "../hw/device.ts";
import { deviceKind, isBoardDeviceType } from "../hw/boards/device_kinds.ts";
import { SparseMemory } from "../hw/memory.ts";
import { Ns16550a } from "../hw/devices/ns16550a.ts";
import { Plic } from "../hw/devices/plic.ts";
import type { BoardSpec } from "../hw/boards/spec.ts";
import { Hart } from "../hw/riscv/hart.ts";
import {
  configKeyLine,
  EmuDeviceType,
  emuDeviceTypeName,
  MapType,
  type VmConfig,
} from "./config.ts";
import type { Console } from "./console.ts";
import type { ExitKind } from "./exit_reason.ts";
import type { FileSystem } from "./filesystem.ts";
import { buildGuestDtb, type GuestDtbDevice, guestRngSeed } from "./guest_dtb.ts";
import type { HostMemory } from "./host_memory.ts";
import {
  ConfiguredImageError,
  type GuestImage,
  ImageError,
  imageFsCode,
  imageRanges,
  readGuestImage,
} from "./image_loader.ts";
import { VCpu } from "./vcpu.ts";
import type { GuestDevice, GuestRegion, Vm } from "./vm.ts";

/** Raised when a VM cannot be created; names the config file and what is wrong. */
export class VmCreateError extends Error {
  /** Error code for structured output. */
  readonly code = "ECREATE";
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "VmCreateError";
  }
}

/** What the builder needs from the hypervisor. */
export interface VmBuilderContext {
  /** The board. */
  board: BoardSpec;
  /** The hypervisor's filesystem (configs, images). */
  fs: FileSystem;
  /** Board RAM accounting. */
  host: HostMemory;
  /** The board console (output of passthrough UARTs). */
  boardConsole: Console;
  /** Whether harts use their JIT tier. */
  jit: boolean;
  /** The vCPU executing right now (MMIO exits are counted on it). */
  current(): VCpu | undefined;
  /** The guest `time` CSR value for a vCPU, in timebase ticks. */
  timeTicks(v: VCpu): number;
  /** Guest console output of a VM. */
  consoleOut(vm: Vm, data: Uint8Array): void;
  /** A PLIC context line of a VM changed (vCPU `vcpuId`'s SEIP). */
  externalLine(vm: Vm, vcpuId: number, level: boolean): void;
  /** Moves queued console input into the VM's UART. */
  pumpInput(vm: Vm): void;
  /**
   * Whether guests get random `rng-seed`s (realtime clock) instead of ones derived from the VM's
   * identity and boot number (warp clock: reproducible runs). Default: derived.
   */
  randomSeeds?(): boolean;
  /**
   * Virtual time for board devices that keep time (an RTC passed through), in ns: the running
   * vCPU's time inside a slice, else the clock's.
   */
  deviceNowNs(): number;
  /** Wall-clock time (ns since the Unix epoch) that board RTCs read at virtual time 0. */
  rtcEpochNs: number;
  /** Calls `callback` at virtual time `atNs` (the hypervisor clock); returns a cancel function. */
  scheduleAt(atNs: number, callback: () => void, owner: string): () => void;
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** The loaded images of a VM (before they are copied into guest memory). */
export interface VmImages {
  /** The kernel. */
  kernel: GuestImage;
  /** The firmware, if any. */
  bios?: GuestImage;
  /** The ramdisk, if any. */
  ramdisk?: GuestImage;
  /** A device tree blob from `dtb_path`, if any. */
  dtb?: Uint8Array;
}

/** A passthrough device's interrupt routed into a VM's emulated PLIC. */
export interface PassthroughIrqRoute {
  /** Board device name. */
  device: string;
  /** The VM receiving the interrupt. */
  vmId: number;
  /** PLIC source in the VM (the config's `irq`). */
  irq: number;
}

/** A device whose interrupt line can be connected after it was built. */
interface IrqInput {
  /** Connects the device's interrupt output. */
  setIrq(irq: IrqLine): void;
}

function hasIrqInput(device: MmioDevice): device is MmioDevice & IrqInput {
  return typeof (device as Partial<IrqInput>).setIrq === "function";
}

/** Builds VMs for one hypervisor. */
export class VmBuilder {
  readonly #ctx: VmBuilderContext;
  readonly #boardRam = new Map<number, SparseMemory>();
  /**
   * Board device instances by key: the device's name for a shared device, `name#vm<id>` for the
   * instance of one VM (a `perVm` kind, see device_kinds.ts), with the VM it belongs to and a
   * way to cancel its pending deadline timer.
   */
  readonly #boardDevices = new Map<
    string,
    { device: MmioDevice; name: string; vm?: Vm; cancelTimer: () => void }
  >();
  /**
   * Instance key (as in `#boardDevices`) -> the VM its interrupt is routed to, and the PLIC
   * source there.
   */
  readonly #irqRoutes = new Map<string, { vm: Vm; irq: number; name: string }>();

  /** Creates a builder working for the hypervisor described by `ctx`. */
  constructor(ctx: VmBuilderContext) {
    this.#ctx = ctx;
    // Input typed at the board console goes to the board UART that VMs pass through.
    ctx.boardConsole.onInput = () => this.pumpBoardInput();
  }

  /** Passthrough interrupts currently routed into VMs. */
  irqRoutes(): PassthroughIrqRoute[] {
    return [...this.#irqRoutes.values()].map((r) => ({
      device: r.name,
      vmId: r.vm.id,
      irq: r.irq,
    }));
  }

  /**
   * Moves board-console input into the board UART passed through to guests (the board's
   * `chosen.stdout` UART when instantiated, else the first passthrough UART). Input stays queued
   * while no VM passes a UART through.
   */
  pumpBoardInput(): void {
    const input = this.#ctx.boardConsole;
    if (input.inputPending === 0) return;
    const stdout = this.#ctx.board.chosen.stdout;
    const uarts = [...this.#boardDevices.values()]
      .filter((d) => d.device instanceof Ns16550a)
      .map((d) => [d.name, d.device] as [string, Ns16550a]);
    const uart = (uarts.find(([name]) => name === stdout) ?? uarts[0])?.[1];
    if (!uart) return;
    while (input.inputPending > 0 && uart.pendingInput() < uart.inputCapacity) {
      uart.sendInput(Uint8Array.of(input.readInput()));
    }
  }

  /**
   * Drops what the builder holds for `vm` (its passthrough interrupt routes and its own device
   * instances), when the VM is deleted or its creation failed.
   */
  releaseVm(vm: Vm): void {
    for (const [key, r] of [...this.#irqRoutes]) {
      if (r.vm !== vm) continue;
      this.#irqRoutes.delete(key);
      const dev = this.#boardDevices.get(key)?.device;
      if (dev && hasIrqInput(dev)) dev.setIrq(NO_IRQ);
    }
    for (const [key, d] of [...this.#boardDevices]) {
      if (d.vm !== vm) continue;
      d.cancelTimer();
      this.#boardDevices.delete(key);
    }
  }

  /**
   * Re-asserts `vm`'s passthrough interrupt lines into its PLIC after a reset of the PLIC (every
   * boot), so that a device already signalling (input queued) is seen by the new boot.
   */
  rewirePassthroughIrqs(vm: Vm): void {
    for (const [key, r] of this.#irqRoutes) {
      const dev = this.#boardDevices.get(key)?.device;
      if (r.vm === vm && vm.plic && dev && hasIrqInput(dev)) dev.setIrq(vm.plic.irq(r.irq));
    }
  }

  /** Checks CPU ids and masks against the board. */
  validateCpus(config: VmConfig): void {
    const { file } = config;
    const n = this.#ctx.board.cpus.hartIds.length;
    config.base.physCpuSets?.forEach((mask, i) => {
      if (mask >= 2 ** n) {
        throw new VmCreateError(
          `${file}: base.phys_cpu_sets[${i}]: mask ${
            hex(mask)
          } names pCPUs the board ${this.#ctx.board.name} does not have (it has ${n}: mask ${
            hex(2 ** n - 1)
          })`,
        );
      }
    });
    config.base.physCpuIds?.forEach((hartId, i) => {
      if (!this.#ctx.board.cpus.hartIds.includes(hartId)) {
        throw new VmCreateError(
          `${file}: base.phys_cpu_ids[${i}]: CPU id ${hartId} does not exist on board ${this.#ctx.board.name} (hart ids ${
            this.#ctx.board.cpus.hartIds.join(", ")
          })`,
        );
      }
    });
  }

  #boardRamAt(hpa: number, size: number): { memory: SparseMemory; offset: number } | undefined {
    const range = this.#ctx.board.memory.find((r) =>
      hpa >= r.base && hpa + size <= r.base + r.size
    );
    if (!range) return undefined;
    let mem = this.#boardRam.get(range.base);
    if (!mem) {
      mem = new SparseMemory(range.size);
      this.#boardRam.set(range.base, mem);
    }
    return { memory: mem, offset: hpa - range.base };
  }

  /** Maps the config's memory regions (allocating or claiming board RAM). */
  buildMemory(vm: Vm): void {
    const { file } = vm.config;
    if (vm.config.kernel.memoryRegions.length === 0) {
      throw new VmCreateError(
        `${file}: kernel.memory_regions: the VM has no memory region (configs that rely on a board device tree for RAM need at least one [gpa, size, flags, map_type] entry here)`,
      );
    }
    vm.config.kernel.memoryRegions.forEach((r, index) => {
      const where = `${file}: kernel.memory_regions[${index}]`;
      if (r.gpa % 0x1000 || r.size % 0x1000) {
        throw new VmCreateError(
          `${where}: GPA ${hex(r.gpa)} and size ${hex(r.size)} must be multiples of 4 KiB`,
        );
      }
      let region: GuestRegion;
      if (r.mapType === MapType.Alloc) {
        const allocation = this.#ctx.host.allocate(r.size, vm.owner, `memory_regions[${index}]`);
        region = {
          index,
          gpa: r.gpa,
          hpa: allocation.hpa,
          size: r.size,
          flags: r.flags,
          mapType: r.mapType,
          needsDealloc: true,
          memory: new SparseMemory(r.size),
          memoryOffset: 0,
          allocation,
        };
      } else if (r.mapType === MapType.Identical) {
        let allocation;
        try {
          allocation = this.#ctx.host.claim(r.gpa, r.size, vm.owner, `memory_regions[${index}]`);
        } catch (e) {
          throw new VmCreateError(`${where}: ${(e as Error).message}`);
        }
        const backing = this.#boardRamAt(r.gpa, r.size)!;
        region = {
          index,
          gpa: r.gpa,
          hpa: r.gpa,
          size: r.size,
          flags: r.flags,
          mapType: r.mapType,
          needsDealloc: true,
          memory: backing.memory,
          memoryOffset: backing.offset,
          allocation,
        };
      } else {
        const backing = this.#boardRamAt(r.gpa, r.size);
        const dev = this.#ctx.board.devices.find((d) =>
          r.gpa >= d.base && r.gpa + r.size <= d.base + d.size
        );
        if (!backing && !dev) {
          throw new VmCreateError(
            `${where}: reserved region [${hex(r.gpa)}, ${
              hex(r.gpa + r.size)
            }) is neither board RAM nor a board device on ${this.#ctx.board.name}`,
          );
        }
        region = {
          index,
          gpa: r.gpa,
          hpa: r.gpa,
          size: r.size,
          flags: r.flags,
          mapType: r.mapType,
          needsDealloc: false,
          memory: backing?.memory,
          memoryOffset: backing?.offset ?? 0,
        };
        if (!backing && dev) {
          vm.bus.mapDevice(
            r.gpa,
            this.#window(vm, this.#boardDevice(dev.name, vm), r.gpa - dev.base, r.size),
            `reserved ${dev.name}`,
          );
        }
      }
      if (region.memory) {
        vm.bus.mapRam(
          region.gpa,
          region.size,
          region.memory,
          region.memoryOffset,
          `memory_regions[${index}]`,
        );
      }
      vm.regions.push(region);
    });
  }

  /**
   * The instance of board device `name` that `vm` passes through: created on first use and
   * shared by every VM that passes the device through, or, for a `perVm` kind (an RTC), one
   * instance per VM, dropped with the VM (`releaseVm`).
   */
  #boardDevice(name: string, vm: Vm): MmioDevice {
    const spec = this.#ctx.board.devices.find((d) => d.name === name)!;
    const kind = deviceKind(spec.type);
    const key = this.#deviceKey(name, vm);
    const known = this.#boardDevices.get(key);
    if (known) return known.device;
    if (!kind.passthrough) {
      throw new VmCreateError(
        `board device ${name} (${spec.type}) cannot be passed through to a guest: it controls the physical harts`,
      );
    }
    // A timed device (an RTC's alarm) asks to be updated at its deadline; one timer at a time.
    let cancel: (() => void) | undefined;
    const cancelTimer = () => {
      cancel?.();
      cancel = undefined;
    };
    const onDeadline = () => {
      cancelTimer();
      const at = isTimedDevice(created) ? created.deadlineNs() : undefined;
      if (at !== undefined && isTimedDevice(created)) {
        const device = created;
        cancel = this.#ctx.scheduleAt(at, () => {
          cancel = undefined;
          device.update();
        }, kind.perVm ? `VM[${vm.id}] board device ${name}` : `board device ${name}`);
      }
    };
    const created: MmioDevice = kind.create(spec, {
      output: spec.type === "ns16550a" ? (b) => this.#ctx.boardConsole.writeByte(b) : undefined,
      clockNs: () => this.#ctx.deviceNowNs(),
      epochNs: this.#ctx.rtcEpochNs,
      onDeadline: () => onDeadline(),
    });
    this.#boardDevices.set(key, {
      device: created,
      name,
      vm: kind.perVm ? vm : undefined,
      cancelTimer,
    });
    this.pumpBoardInput();
    return created;
  }

  /** The `#boardDevices` key of the instance of board device `name` that `vm` uses. */
  #deviceKey(name: string, vm: Vm): string {
    const spec = this.#ctx.board.devices.find((d) => d.name === name);
    return spec && deviceKind(spec.type).perVm ? `${name}#vm${vm.id}` : name;
  }

  /** Wraps a device: counts MMIO exits and shifts offsets into a window of the device. */
  #window(vm: Vm, device: MmioDevice, delta: number, size: number): MmioDevice {
    const count = (kind: ExitKind) => {
      const v = this.#ctx.current();
      if (v && v.vmId === vm.id) v.exits.count(kind);
    };
    return {
      kind: device.kind,
      size,
      read(offset: number, width: AccessWidth): number {
        count("MmioRead");
        const o = offset + delta;
        return o + width <= device.size ? device.read(o, width) : 0;
      },
      write(offset: number, width: AccessWidth, value: number): void {
        count("MmioWrite");
        const o = offset + delta;
        if (o + width <= device.size) device.write(o, width, value);
      },
      reset: () => device.reset(),
      snapshot: () => device.snapshot(),
      restore: (s) => device.restore(s),
    };
  }

  /** Creates and maps emulated devices; maps passthrough board devices. */
  buildDevices(vm: Vm): void {
    const { file } = vm.config;
    const cfg = vm.config.devices;
    const add = (d: GuestDevice) => {
      vm.devices.push(d);
      vm.devices.sort((a, b) => a.gpa - b.gpa);
    };
    // The PLIC first, so the UART can be wired to it.
    const plicCfg = cfg.emuDevices.filter((d) => d.emuType === EmuDeviceType.InterruptController);
    if (plicCfg.length > 1) {
      throw new VmCreateError(`${file}: devices.emu_devices: more than one interrupt controller`);
    }
    cfg.emuDevices.forEach((d, i) => {
      const where = `${file}: devices.emu_devices[${i}] (${d.name})`;
      const map = (device: MmioDevice, model: string) => {
        try {
          vm.bus.mapDevice(d.baseGpa, this.#window(vm, device, 0, d.length || device.size), d.name);
        } catch (e) {
          throw new VmCreateError(`${where}: ${(e as Error).message}`);
        }
        add({
          name: d.name,
          kind: "emulated",
          model,
          emuType: d.emuType,
          gpa: d.baseGpa,
          size: d.length || device.size,
          irq: d.irq,
          device,
        });
      };
      switch (d.emuType) {
        case EmuDeviceType.InterruptController: {
          const contexts = vm.config.base.cpuNum;
          const needed = 0x200000 + 0x1000 * contexts;
          const size = d.length || needed;
          if (size < needed) {
            throw new VmCreateError(
              `${where}: a PLIC for ${contexts} vCPU(s) needs a window of at least ${
                hex(needed)
              } bytes, the config gives ${hex(size)}`,
            );
          }
          const lines = Array.from({ length: contexts }, (_, j) => ({
            set: (level: boolean) => this.#ctx.externalLine(vm, j, level),
          }));
          vm.plic = new Plic({ sources: d.cfg[0] ?? 96, contexts: lines, size });
          map(vm.plic, "plic");
          break;
        }
        case EmuDeviceType.Console: {
          if (vm.uart) throw new VmCreateError(`${where}: more than one emulated console`);
          const uart = new Ns16550a({
            size: Math.min(d.length || 0x100, 0x1000),
            onOutput: (b) => this.#ctx.consoleOut(vm, Uint8Array.of(b)),
          });
          vm.uart = uart;
          map(uart, "ns16550a");
          break;
        }
        case EmuDeviceType.IVCChannel:
          if (d.length < 0x1000 || d.baseGpa % 0x1000 || d.length % 0x1000) {
            throw new VmCreateError(
              `${where}: the IVC range must be 4 KiB aligned and at least 4 KiB`,
            );
          }
          if (vm.ivcRange) throw new VmCreateError(`${where}: more than one IVC range`);
          for (const m of vm.bus.regions()) {
            if (d.baseGpa < m.base + m.size && m.base < d.baseGpa + d.length) {
              throw new VmCreateError(`${where}: IVC range overlaps ${m.name}`);
            }
          }
          vm.ivcRange = { gpa: d.baseGpa, size: d.length };
          add({
            name: d.name,
            kind: "emulated",
            model: "ivc",
            emuType: d.emuType,
            gpa: d.baseGpa,
            size: d.length,
            irq: d.irq,
          });
          break;
        case EmuDeviceType.Dummy:
          map(new DummyDevice(d.length || 0x1000), "dummy");
          break;
        default:
          throw new VmCreateError(
            `${where}: emulated device type ${hex(d.emuType)} (${
              emuDeviceTypeName(d.emuType)
            }) is not available on RISC-V board ${this.#ctx.board.name}`,
          );
      }
    });
    if (vm.uart && vm.plic) {
      const irq = cfg.emuDevices.find((d) => d.emuType === EmuDeviceType.Console)!.irq;
      if (irq > 0) {
        if (irq > vm.plic.sources) {
          throw new VmCreateError(
            `${file}: devices.emu_devices: console IRQ ${irq} exceeds the PLIC's ${vm.plic.sources} sources`,
          );
        }
        vm.uart.setIrq(vm.plic.irq(irq));
      }
    }
    vm.console.onInput = () => this.#ctx.pumpInput(vm);

    cfg.passthroughDevices.forEach((d, i) => {
      const where = `${file}: devices.passthrough_devices[${i}] (${d.name})`;
      if (d.length === 0) {
        throw new VmCreateError(
          `${where}: name-only (device-tree path) passthrough entries need the board's device tree resolution, which RISC-V board ${this.#ctx.board.name} does not offer; give [name, base_gpa, base_hpa, length, irq]`,
        );
      }
      const dev = this.#ctx.board.devices.find((b) =>
        d.baseHpa >= b.base && d.baseHpa < b.base + b.size
      );
      if (!dev) {
        throw new VmCreateError(
          `${where}: no board device at HPA ${
            hex(d.baseHpa)
          } on ${this.#ctx.board.name} (devices: ${
            this.#ctx.board.devices.map((b) => `${b.name}@${hex(b.base)}`).join(", ")
          })`,
        );
      }
      if (d.baseHpa + d.length > dev.base + Math.max(dev.size, 0x1000)) {
        throw new VmCreateError(
          `${where}: [${hex(d.baseHpa)}, ${
            hex(d.baseHpa + d.length)
          }) runs past board device ${dev.name} [${hex(dev.base)}, ${hex(dev.base + dev.size)})`,
        );
      }
      let device: MmioDevice;
      try {
        device = this.#boardDevice(dev.name, vm);
        vm.bus.mapDevice(
          d.baseGpa,
          this.#window(vm, device, d.baseHpa - dev.base, d.length),
          d.name,
        );
      } catch (e) {
        throw new VmCreateError(`${where}: ${(e as Error).message}`);
      }
      add({
        name: d.name,
        kind: "passthrough",
        model: dev.type,
        gpa: d.baseGpa,
        hpa: d.baseHpa,
        size: d.length,
        irq: d.irq,
        device,
      });
      if (d.irq > 0) this.#routePassthroughIrq(vm, where, dev.name, device, d.irq);
    });
    cfg.passthroughAddresses.forEach((a, i) => {
      const where = `${file}: devices.passthrough_addresses[${i}]`;
      const dev = this.#ctx.board.devices.find((b) =>
        a.gpa >= b.base && a.gpa + a.length <= b.base + Math.max(b.size, 0x1000)
      );
      if (!dev) {
        throw new VmCreateError(
          `${where}: no board device covers [${hex(a.gpa)}, ${hex(a.gpa + a.length)})`,
        );
      }
      try {
        const device = this.#boardDevice(dev.name, vm);
        vm.bus.mapDevice(
          a.gpa,
          this.#window(vm, device, a.gpa - dev.base, a.length),
          `${dev.name} (address)`,
        );
        add({
          name: dev.name,
          kind: "passthrough",
          model: dev.type,
          gpa: a.gpa,
          hpa: a.gpa,
          size: a.length,
          irq: 0,
          device,
        });
      } catch (e) {
        throw new VmCreateError(`${where}: ${(e as Error).message}`);
      }
    });
  }

  /**
   * Routes a passthrough device's interrupt into the VM's emulated PLIC as source `irq`. Without
   * an emulated interrupt controller the device works polled and a warning says so. A shared
   * board device's interrupt can reach one VM only; a `perVm` device (an RTC) has an instance,
   * and so an interrupt, in every VM that passes it through.
   */
  #routePassthroughIrq(
    vm: Vm,
    where: string,
    name: string,
    device: MmioDevice,
    irq: number,
  ): void {
    if (!hasIrqInput(device)) {
      vm.config.warnings.push(
        `${where}: IRQ ${irq} ignored: board device ${name} (${device.kind}) raises no interrupt of its own`,
      );
      return;
    }
    if (!vm.plic) {
      vm.config.warnings.push(
        `${where}: IRQ ${irq} is not delivered: the VM has no emulated interrupt controller (emu_devices entry of type 0x1), so the guest must poll ${name}`,
      );
      return;
    }
    if (irq > vm.plic.sources) {
      throw new VmCreateError(
        `${where}: IRQ ${irq} exceeds the PLIC's ${vm.plic.sources} sources`,
      );
    }
    const key = this.#deviceKey(name, vm);
    const owner = this.#irqRoutes.get(key);
    if (owner && owner.vm !== vm) {
      throw new VmCreateError(
        `${where}: the interrupt of board device ${name} is already routed to VM[${owner.vm.id}] (${owner.vm.name}); a device interrupt reaches one VM only (set irq to 0 to share ${name} polled)`,
      );
    }
    for (const [other, r] of this.#irqRoutes) {
      if (r.vm === vm && r.irq === irq && other !== key) {
        throw new VmCreateError(
          `${where}: PLIC source ${irq} already carries the interrupt of passthrough device ${r.name}`,
        );
      }
    }
    if (
      vm.uart &&
      vm.config.devices.emuDevices.some((e) => e.emuType === EmuDeviceType.Console && e.irq === irq)
    ) {
      throw new VmCreateError(
        `${where}: PLIC source ${irq} already carries the interrupt of the emulated console`,
      );
    }
    this.#irqRoutes.set(key, { vm, irq, name });
    device.setIrq(vm.plic.irq(irq));
  }

  /** Creates the vCPUs (one hart each, running the guest in S-mode). */
  buildVcpus(vm: Vm): void {
    const { base } = vm.config;
    for (let j = 0; j < base.cpuNum; j++) {
      const hartId = base.physCpuIds?.[j] ?? j;
      let vcpu: VCpu | undefined = undefined;
      const hart = new Hart({
        bus: vm.bus,
        hartId,
        readTime: () => this.#ctx.timeTicks(vcpu!),
        exitOnSupervisorEcall: true,
        exitOnWfi: true,
        exitOnBusError: true,
        guestDelegation: true,
        sstc: base.sstc,
        jit: this.#ctx.jit,
      });
      vcpu = new VCpu({ vmId: vm.id, id: j, hartId, physCpuSet: base.physCpuSets?.[j], hart });
      vm.vcpus.push(vcpu);
    }
  }

  /** Reads (and assembles or parses) the images; checks they fall in guest RAM. */
  readImages(vm: Vm): VmImages {
    const k = vm.config.kernel;
    const fs = this.#ctx.fs;
    const kernel = this.#viaKey(
      vm,
      "kernel_path",
      k.kernelPath,
      () => readGuestImage(fs, k.kernelPath, k.kernelLoadAddr),
    );
    const biosPath = k.biosPath;
    const bios = biosPath
      ? this.#viaKey(vm, "bios_path", biosPath, () => {
        return readGuestImage(fs, biosPath, k.biosLoadAddr ?? 0);
      })
      : undefined;
    let ramdisk: GuestImage | undefined;
    const ramdiskPath = k.ramdiskPath;
    if (ramdiskPath) {
      const gpa = k.ramdiskLoadAddr;
      if (gpa === undefined) {
        throw new ImageError(ramdiskPath, "kernel.ramdisk_load_addr is required with ramdisk_path");
      }
      const bytes = this.#viaKey(vm, "ramdisk_path", ramdiskPath, () => {
        try {
          return fs.readFile(ramdiskPath);
        } catch (e) {
          throw new ImageError(
            ramdiskPath,
            `cannot read ramdisk: ${(e as Error).message}`,
            imageFsCode(e),
          );
        }
      });
      ramdisk = {
        path: ramdiskPath,
        format: "raw",
        chunks: [{ gpa, data: bytes, memSize: bytes.length }],
        symbols: new Map(),
      };
    }
    let dtb: Uint8Array | undefined;
    const dtbPath = k.dtbPath;
    if (dtbPath) {
      dtb = this.#viaKey(vm, "dtb_path", dtbPath, () => {
        try {
          return fs.readFile(dtbPath);
        } catch (e) {
          throw new ImageError(
            dtbPath,
            `cannot read device tree: ${(e as Error).message}`,
            imageFsCode(e),
          );
        }
      });
    }
    for (const img of [kernel, bios, ramdisk]) {
      if (!img) continue;
      for (const r of imageRanges(img)) {
        if (r.size > 0 && !this.#inRam(vm, r.gpa, r.size)) {
          throw new ImageError(
            img.path,
            `image range [${hex(r.gpa)}, ${
              hex(r.gpa + r.size)
            }) is not inside the VM's memory regions`,
          );
        }
      }
    }
    return { kernel, bios, ramdisk, dtb };
  }

  /**
   * Runs `read` for the image at `path` named by `kernel.<key>`; an {@linkcode ImageError} it
   * throws is re-thrown naming the config file, line and key too.
   */
  #viaKey<T>(vm: Vm, key: string, path: string, read: () => T): T {
    try {
      return read();
    } catch (e) {
      if (!(e instanceof ImageError) || e instanceof ConfiguredImageError) throw e;
      const config = vm.config;
      const line = configKeyLine(config.text ?? "", "kernel", key);
      const missing = e.fsCode === "ENOENT";
      throw new ConfiguredImageError(config.file, `kernel.${key}`, line, path, e, missing);
    }
  }

  #inRam(vm: Vm, gpa: number, size: number): boolean {
    return vm.regions.some((r) => r.memory && gpa >= r.gpa && gpa + size <= r.gpa + r.size);
  }

  /** Loads images and the device tree into a freshly cleared VM (every boot). */
  loadForBoot(vm: Vm): void {
    const images = this.readImages(vm);
    for (const r of vm.regions) {
      if (!r.memory) continue;
      if (r.mapType === MapType.Alloc) r.memory.clear();
      else if (r.mapType === MapType.Identical) r.memory.fill(r.memoryOffset, r.size, 0);
    }
    vm.loadedImages = [];
    for (
      const [what, img] of [["kernel", images.kernel], ["bios", images.bios], [
        "ramdisk",
        images.ramdisk,
      ]] as const
    ) {
      if (!img) continue;
      for (const c of img.chunks) {
        if (c.data.length > 0 && !vm.bus.writeBytes(c.gpa, c.data)) {
          throw new ImageError(
            img.path,
            `cannot write ${hex(c.data.length)} bytes at ${hex(c.gpa)}`,
          );
        }
        vm.loadedImages.push({ what, gpa: c.gpa, size: Math.max(c.memSize, c.data.length) });
      }
    }
    const dtb = images.dtb ?? this.#guestDtb(vm, images.ramdisk);
    const gpa = vm.config.kernel.dtbLoadAddr ?? this.#placeDtb(vm, dtb.length);
    if (!this.#inRam(vm, gpa, dtb.length) || !vm.bus.writeBytes(gpa, dtb)) {
      throw new ImageError(
        vm.config.kernel.dtbPath ?? "<generated dtb>",
        `device tree (${dtb.length} bytes) at ${hex(gpa)} is not inside the VM's memory regions`,
      );
    }
    vm.dtbGpa = gpa;
    vm.dtbSize = dtb.length;
  }

  #placeDtb(vm: Vm, size: number): number {
    const first = vm.regions.find((r) => r.memory && r.mapType !== MapType.Reserved) ??
      vm.regions[0];
    const overlaps = (a: number) =>
      vm.loadedImages.some((i) => a < i.gpa + i.size && i.gpa < a + size);
    const top = Math.floor((first.gpa + first.size - size) / 8) * 8;
    if (top >= first.gpa && !overlaps(top)) return top;
    for (const i of vm.loadedImages) {
      const a = Math.ceil((i.gpa + i.size) / 8) * 8;
      if (a + size <= first.gpa + first.size && !overlaps(a)) return a;
    }
    if (!overlaps(first.gpa)) return first.gpa;
    throw new ImageError(
      "<generated dtb>",
      `no room for the device tree in memory_regions[${first.index}]`,
    );
  }

  #guestDtb(vm: Vm, ramdisk?: GuestImage): Uint8Array {
    const devices: GuestDtbDevice[] = vm.devices.map((d): GuestDtbDevice => {
      if (d.model === "plic") {
        return {
          node: "plic",
          compatible: ["sifive,plic-1.0.0", "riscv,plic0"],
          base: d.gpa,
          size: d.size,
          irq: 0,
          interruptController: true,
          props: { "riscv,ndev": vm.plic!.sources },
        };
      }
      if (d.model === "ns16550a") {
        return {
          node: "serial",
          compatible: ["ns16550a"],
          base: d.gpa,
          size: d.size,
          irq: d.irq,
          console: d.kind === "emulated" || !vm.uart,
          props: { "clock-frequency": 3686400 },
        };
      }
      if (d.model === "ivc") {
        return { node: "ivc", compatible: ["axvisor,ivc"], base: d.gpa, size: d.size, irq: d.irq };
      }
      if (isBoardDeviceType(d.model)) {
        const kind = deviceKind(d.model);
        const spec = this.#ctx.board.devices.find((b) => b.type === d.model);
        return {
          node: kind.node,
          compatible: [...kind.compatible],
          base: d.gpa,
          size: d.size,
          irq: d.irq,
          props: spec && kind.treeProps ? kind.treeProps(spec) : undefined,
        };
      }
      return {
        node: d.model.replace(/[^a-z0-9-]/gi, "-"),
        compatible: [d.model],
        base: d.gpa,
        size: d.size,
        irq: d.irq,
      };
    });
    const rd = ramdisk?.chunks[0];
    return buildGuestDtb({
      name: vm.name,
      hartIds: vm.vcpus.map((v) => v.hartId),
      isa: { sstc: vm.config.base.sstc },
      timebaseHz: this.#ctx.board.timebaseFrequency,
      memory: vm.regions.filter((r) => r.memory && r.mapType !== MapType.Reserved).map((r) => ({
        gpa: r.gpa,
        size: r.size,
      })),
      reserved: vm.regions.filter((r) => r.mapType === MapType.Reserved).map((r) => ({
        gpa: r.gpa,
        size: r.size,
      })),
      devices,
      bootargs: vm.config.kernel.cmdline,
      initrd: rd ? { start: rd.gpa, end: rd.gpa + rd.data.length } : undefined,
      rngSeed: guestRngSeed(vm, this.#ctx.randomSeeds?.() ?? false),
    });
  }
}

/** A device that reads as zero and ignores writes (emu_type 0). */
class DummyDevice implements MmioDevice {
  readonly kind = "dummy";
  constructor(readonly size: number) {}
  read(): number {
    return 0;
  }
  write(): void {}
  reset(): void {}
  snapshot(): Record<string, unknown> {
    return {};
  }
  restore(): void {}
}
