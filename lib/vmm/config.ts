/**
 * AxVisor's VM configuration (the `axvmconfig` TOML schema), parsed with smol-toml.
 *
 * Every field the real AxVisor accepts is kept (AArch64 ones included), so that every VM config
 * shipped with AxVisor parses and can be shown. Errors name the file, the line and the key.
 * Checks against a board (CPU ids, RAM, passthrough ranges) happen later, at create time.
 *
 * @module
 */

import { parse, TomlError } from "npm:smol-toml@^1.9.1";
import { vmNameProblem } from "./vm_name.ts";

/** Raised for a config that cannot be used; names the file, the line and the key. */
export class ConfigError extends Error {
  /** Error code for structured output. */
  readonly code = "ECONFIG";
  /** File (or origin) of the config. */
  readonly file: string;
  /** 1-based line of the offending key, when known. */
  readonly line?: number;
  /** Dotted key, e.g. `kernel.memory_regions[0]`, when known. */
  readonly key?: string;
  /**
   * Every problem found in the file, this one first (a config is checked through to the end,
   * so that `config check` can report them all at once).
   */
  all: ConfigError[] = [];
  /** Creates `file:line: key: message`. */
  constructor(file: string, message: string, key?: string, line?: number) {
    super(`${file}${line !== undefined ? `:${line}` : ""}: ${key ? `${key}: ` : ""}${message}`);
    this.name = "ConfigError";
    this.file = file;
    this.line = line;
    this.key = key;
    this.all = [this];
  }
}

/** `[base] vm_type`: 0 host VM, 1 RTOS (default), 2 Linux. */
export type VmType = 0 | 1 | 2;

/** Memory mapping types of `memory_regions` entries. */
export const MapType = {
  /** Allocated from host (board) RAM by the hypervisor. */
  Alloc: 0,
  /** Identical: GPA == HPA; board RAM must exist there and no two VMs may share it. */
  Identical: 1,
  /** Reserved: GPA == HPA, not allocated by the hypervisor (a board device or memory hole). */
  Reserved: 2,
} as const;
/** One of {@linkcode MapType}'s values. */
export type MapType = typeof MapType[keyof typeof MapType];

/** Region flag bits (`axaddrspace::MappingFlags`). */
export const MappingFlags = {
  /** Readable. */
  READ: 1,
  /** Writable. */
  WRITE: 2,
  /** Executable. */
  EXECUTE: 4,
  /** User accessible. */
  USER: 8,
  /** Device memory. */
  DEVICE: 0x10,
  /** Uncached. */
  UNCACHED: 0x20,
} as const;

/** A `memory_regions` entry `[gpa, size, flags, map_type]`. */
export interface MemoryRegionConfig {
  /** Guest-physical base address. */
  gpa: number;
  /** Size in bytes. */
  size: number;
  /** {@linkcode MappingFlags} bits. */
  flags: number;
  /** {@linkcode MapType}. */
  mapType: MapType;
}

/** Emulated device types (`EmulatedDeviceType`). */
export const EmuDeviceType = {
  /** Dummy device. */
  Dummy: 0,
  /** Interrupt controller (a PLIC on RISC-V). */
  InterruptController: 1,
  /** Console (an NS16550A UART). */
  Console: 2,
  /** IVC channel range. */
  IVCChannel: 0xa,
  /** AArch64 GIC partial passthrough redistributor. */
  GPPTRedistributor: 0x20,
  /** AArch64 GIC partial passthrough distributor. */
  GPPTDistributor: 0x21,
  /** AArch64 GIC partial passthrough ITS. */
  GPPTITS: 0x22,
  /** AArch64 PPPT global. */
  PPPTGlobal: 0x30,
  /** Virtio block. */
  VirtioBlk: 0xe1,
  /** Virtio net. */
  VirtioNet: 0xe2,
  /** Virtio console. */
  VirtioConsole: 0xe3,
} as const;

const EMU_TYPE_NAMES: Record<number, string> = {
  0: "Dummy",
  1: "InterruptController",
  2: "Console",
  0xa: "IVCChannel",
  0x20: "GPPTRedistributor",
  0x21: "GPPTDistributor",
  0x22: "GPPTITS",
  0x30: "PPPTGlobal",
  0xe1: "VirtioBlk",
  0xe2: "VirtioNet",
  0xe3: "VirtioConsole",
};

/** Name of an emulated device type, e.g. `Console`. */
export function emuDeviceTypeName(type: number): string {
  return EMU_TYPE_NAMES[type] ?? `Unknown(${type})`;
}

/** An `emu_devices` entry `[name, base_gpa, length, irq, emu_type, [cfg...]]`. */
export interface EmuDeviceConfig {
  /** Device name. */
  name: string;
  /** Guest-physical base. */
  baseGpa: number;
  /** Window length in bytes. */
  length: number;
  /** Interrupt id (0: none). */
  irq: number;
  /** {@linkcode EmuDeviceType}. */
  emuType: number;
  /** Device-specific configuration words. */
  cfg: number[];
}

/** A `passthrough_devices` entry `[name, base_gpa, base_hpa, length, irq]` (trailing optional). */
export interface PassthroughDeviceConfig {
  /** Device name (or, on AArch64 configs, a device-tree path such as `/`). */
  name: string;
  /** Guest-physical base (0 when omitted). */
  baseGpa: number;
  /** Host-physical base (0 when omitted). */
  baseHpa: number;
  /** Length in bytes (0 when omitted: a name-only entry resolved from a device tree). */
  length: number;
  /** Interrupt id (0 when omitted). */
  irq: number;
}

/** `[devices] interrupt_mode`. */
export type InterruptMode = "no_irq" | "emulated" | "passthrough";

/** A parsed VM configuration. */
export interface VmConfig {
  /** `[base]`. */
  base: {
    /** VM id. */
    id: number;
    /** VM name (defaults to `vm<id>`). */
    name: string;
    /** VM type. */
    vmType: VmType;
    /** Number of vCPUs. */
    cpuNum: number;
    /** Physical CPU id per vCPU (the target of HSM hart_start), when given. */
    physCpuIds?: number[];
    /** Affinity bit mask per vCPU, when given. */
    physCpuSets?: number[];
    /**
     * Offer Sstc (`stimecmp`) to the guest (`sstc`, default true): the guest programs its timer
     * without an SBI call. `sstc = false` hides it (no stimecmp, not in the device tree).
     */
    sstc: boolean;
    /**
     * TCP port serving the VM's console as a raw byte stream (`console_port`, an axvisor.ts
     * extension: AxVisor has none), when given.
     */
    consolePort?: number;
  };
  /** `[kernel]`. */
  kernel: {
    /** Entry point of the primary vCPU. */
    entryPoint: number;
    /** `"memory"` (image built in) or `"fs"` (read from the filesystem). */
    imageLocation: "memory" | "fs";
    /** Kernel image path. */
    kernelPath: string;
    /** Kernel load address. */
    kernelLoadAddr: number;
    /** Firmware image path. */
    biosPath?: string;
    /** Firmware load address. */
    biosLoadAddr?: number;
    /** Device tree path (else generated). */
    dtbPath?: string;
    /** Device tree load address. */
    dtbLoadAddr?: number;
    /** Ramdisk path. */
    ramdiskPath?: string;
    /** Ramdisk load address. */
    ramdiskLoadAddr?: number;
    /** Kernel command line (`/chosen/bootargs`). */
    cmdline?: string;
    /** Disk image path. */
    diskPath?: string;
    /** Memory regions. */
    memoryRegions: MemoryRegionConfig[];
  };
  /** `[devices]`. */
  devices: {
    /** Emulated devices. */
    emuDevices: EmuDeviceConfig[];
    /** Passthrough devices. */
    passthroughDevices: PassthroughDeviceConfig[];
    /** Interrupt mode. */
    interruptMode: InterruptMode;
    /** Extra passthrough address ranges. */
    passthroughAddresses: { gpa: number; length: number }[];
    /** Device-tree paths not to pass through. */
    excludedDevices: string[][];
  };
  /** Where the config came from (a path, or the origin given with text). */
  file: string;
  /** The original TOML text. */
  text: string;
  /** Keys that AxVisor would ignore, reported but not fatal. */
  warnings: string[];
}

const KNOWN_KEYS: Record<string, string[]> = {
  base: [
    "id",
    "name",
    "vm_type",
    "cpu_num",
    "phys_cpu_ids",
    "phys_cpu_sets",
    "sstc",
    "console_port",
  ],
  kernel: [
    "entry_point",
    "image_location",
    "kernel_path",
    "kernel_load_addr",
    "bios_path",
    "bios_load_addr",
    "dtb_path",
    "dtb_load_addr",
    "ramdisk_path",
    "ramdisk_load_addr",
    "cmdline",
    "disk_path",
    "memory_regions",
  ],
  devices: [
    "emu_devices",
    "passthrough_devices",
    "interrupt_mode",
    "passthrough_addresses",
    "excluded_devices",
  ],
};

/** Finds the 1-based line where `table.key` is written, for error messages. */
export function configKeyLine(text: string, table: string, key?: string): number | undefined {
  const lines = text.split("\n");
  let current = "";
  let tableLine: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    const header = /^\[\s*([A-Za-z0-9_.-]+)\s*\]/.exec(line);
    if (header) {
      current = header[1];
      if (current === table && tableLine === undefined) tableLine = i + 1;
      continue;
    }
    if (key !== undefined && current === table) {
      const m = /^([A-Za-z0-9_-]+)\s*=/.exec(line);
      if (m && m[1] === key) return i + 1;
    }
  }
  return tableLine;
}

type Raw = Record<string, unknown>;

/** Longest VM config text (1 MiB): parsing is synchronous, and configs are small. */
export const MAX_CONFIG_CHARS = 1 << 20;

/** Most problems recorded for one config file. */
const MAX_CONFIG_ERRORS = 100;

class Reader {
  /** Problems recorded by {@linkcode Reader.attempt} (parsing goes on after each). */
  readonly errors: ConfigError[] = [];

  constructor(readonly file: string, readonly text: string) {}

  /** Runs one check; a {@linkcode ConfigError} is recorded and `fallback` returned instead. */
  attempt<T>(fallback: T, check: () => T): T {
    try {
      return check();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      if (this.errors.length < MAX_CONFIG_ERRORS) this.errors.push(e);
      return fallback;
    }
  }

  /** Throws the first recorded problem (with all of them in `all`), if any. */
  throwRecorded(): void {
    if (this.errors.length === 0) return;
    const first = this.errors[0];
    first.all = [...this.errors];
    throw first;
  }

  fail(table: string, key: string | undefined, message: string, sub = ""): never {
    const dotted = key ? `${table}.${key}${sub}` : table;
    throw new ConfigError(this.file, message, dotted, configKeyLine(this.text, table, key));
  }

  table(root: Raw, name: string, required: boolean): Raw {
    const v = root[name];
    if (v === undefined) {
      if (required) {
        throw new ConfigError(this.file, `missing table [${name}]`, name);
      }
      return {};
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      this.fail(name, undefined, `[${name}] must be a table`);
    }
    return v as Raw;
  }

  int(t: Raw, table: string, key: string, value: unknown, sub = ""): number {
    if (typeof value === "bigint") {
      this.fail(table, key, `integer ${value} is too large (at most 2^53-1 is supported)`, sub);
    }
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.fail(table, key, `expected an integer, found ${describe(value)}`, sub);
    }
    if (value < 0) this.fail(table, key, `expected a non-negative integer, found ${value}`, sub);
    void t;
    return value;
  }

  reqInt(t: Raw, table: string, key: string): number {
    if (t[key] === undefined) this.fail(table, undefined, `missing required key '${key}'`);
    return this.int(t, table, key, t[key]);
  }

  optInt(t: Raw, table: string, key: string): number | undefined {
    return t[key] === undefined ? undefined : this.int(t, table, key, t[key]);
  }

  str(t: Raw, table: string, key: string): string | undefined {
    const v = t[key];
    if (v === undefined) return undefined;
    if (typeof v !== "string") this.fail(table, key, `expected a string, found ${describe(v)}`);
    return v;
  }

  array(t: Raw, table: string, key: string): unknown[] | undefined {
    const v = t[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) this.fail(table, key, `expected an array, found ${describe(v)}`);
    return v;
  }

  intArray(t: Raw, table: string, key: string): number[] | undefined {
    const a = this.array(t, table, key);
    return a?.map((v, i) => this.int(t, table, key, v, `[${i}]`));
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (v === null || v === undefined) return "nothing";
  if (typeof v === "object") return "a table";
  if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

/**
 * Parses and checks an AxVisor VM config. `file` names the source in errors.
 * Throws {@linkcode ConfigError}.
 */
export function parseVmConfig(text: string, file = "<config>"): VmConfig {
  if (text.length > MAX_CONFIG_CHARS) {
    throw new ConfigError(
      file,
      `the file has ${text.length} characters; a VM config may have at most ${MAX_CONFIG_CHARS}`,
    );
  }
  let root: Raw;
  try {
    root = parse(text, { integersAsBigInt: "asNeeded" }) as Raw;
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split("\n")[0];
      throw new ConfigError(file, `TOML syntax error: ${first}`, undefined, e.line);
    }
    throw e;
  }
  const r: Reader = new Reader(file, text);
  const warnings: string[] = [];
  for (const key of Object.keys(root)) {
    if (!(key in KNOWN_KEYS)) {
      warnings.push(
        `${file}:${configKeyLine(text, key) ?? "?"}: unknown table or key '${key}' ignored`,
      );
    }
  }
  for (const [table, keys] of Object.entries(KNOWN_KEYS)) {
    const t = root[table];
    if (typeof t !== "object" || t === null || Array.isArray(t)) continue;
    for (const key of Object.keys(t)) {
      if (!keys.includes(key)) {
        warnings.push(
          `${file}:${
            configKeyLine(text, table, key) ?? "?"
          }: unknown key '${table}.${key}' ignored`,
        );
      }
    }
  }

  // [base]
  // Each check is an attempt: a problem is recorded and the rest of the file is still checked.
  const b = r.attempt({} as Raw, () => r.table(root, "base", true));
  const id = r.attempt(0, () => r.reqInt(b, "base", "id"));
  const name = r.attempt(`vm${id}`, () => r.str(b, "base", "name") ?? `vm${id}`);
  r.attempt(undefined, () => {
    const nameProblem = vmNameProblem(name);
    if (nameProblem) r.fail("base", "name", nameProblem);
  });
  const vmTypeRaw = r.attempt(1, () => {
    const v = r.optInt(b, "base", "vm_type") ?? 1;
    if (v > 2) r.fail("base", "vm_type", `unknown VM type ${v} (0 host, 1 RTOS, 2 Linux)`);
    return v;
  });
  const physCpuIds = r.attempt(undefined, () => r.intArray(b, "base", "phys_cpu_ids"));
  const physCpuSets = r.attempt(undefined, () => r.intArray(b, "base", "phys_cpu_sets"));
  const cpuNum = r.attempt(1, () => {
    const n = r.optInt(b, "base", "cpu_num") ?? physCpuIds?.length ?? physCpuSets?.length ?? 1;
    if (n < 1) r.fail("base", "cpu_num", "a VM needs at least one vCPU");
    if (n > 64) r.fail("base", "cpu_num", `${n} vCPUs is more than the 64 supported`);
    return n;
  });
  r.attempt(undefined, () => baseCpuChecks(r, cpuNum, physCpuIds, physCpuSets));
  const sstc = r.attempt(true, () => {
    const v = b.sstc ?? true;
    if (typeof v !== "boolean") {
      r.fail("base", "sstc", `expected true or false, found ${describe(v)}`);
    }
    return v as boolean;
  });
  const consolePort = r.attempt(undefined, () => {
    const v = r.optInt(b, "base", "console_port");
    if (v !== undefined && (v < 1 || v > 65535)) {
      r.fail("base", "console_port", `port ${v} is not 1-65535`);
    }
    return v;
  });

  // [kernel]
  const k = r.attempt({} as Raw, () => r.table(root, "kernel", true));
  const entryPoint = r.attempt(0, () => r.reqInt(k, "kernel", "entry_point"));
  const kernelPath = r.attempt("", () => {
    const v = r.str(k, "kernel", "kernel_path");
    if (v === undefined) r.fail("kernel", undefined, "missing required key 'kernel_path'");
    return v;
  });
  const kernelLoadAddr = r.attempt(0, () => r.reqInt(k, "kernel", "kernel_load_addr"));
  const loc = r.attempt("fs", () => {
    const v = r.str(k, "kernel", "image_location") ?? "fs";
    if (v !== "fs" && v !== "memory") {
      r.fail("kernel", "image_location", `expected "memory" or "fs", found ${JSON.stringify(v)}`);
    }
    return v;
  });
  const regionsRaw = r.attempt([] as unknown[], () => {
    const v = r.array(k, "kernel", "memory_regions");
    if (v === undefined) r.fail("kernel", undefined, "missing required key 'memory_regions'");
    return v;
  });
  const memoryRegions = regionsRaw.flatMap((e, i): MemoryRegionConfig[] =>
    r.attempt([], () => [memoryRegion(r, k, e, i)])
  );
  for (let i = 0; i < memoryRegions.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = memoryRegions[i], c = memoryRegions[j];
      if (a.gpa < c.gpa + c.size && c.gpa < a.gpa + a.size) {
        r.attempt(
          undefined,
          () => r.fail("kernel", "memory_regions", `overlaps memory_regions[${j}]`, `[${i}]`),
        );
      }
    }
  }
  const optional = {
    biosPath: r.attempt(undefined, () => r.str(k, "kernel", "bios_path")),
    biosLoadAddr: r.attempt(undefined, () => r.optInt(k, "kernel", "bios_load_addr")),
    dtbPath: r.attempt(undefined, () => r.str(k, "kernel", "dtb_path")),
    dtbLoadAddr: r.attempt(undefined, () => r.optInt(k, "kernel", "dtb_load_addr")),
    ramdiskPath: r.attempt(undefined, () => r.str(k, "kernel", "ramdisk_path")),
    ramdiskLoadAddr: r.attempt(undefined, () => r.optInt(k, "kernel", "ramdisk_load_addr")),
    cmdline: r.attempt(undefined, () => r.str(k, "kernel", "cmdline")),
    diskPath: r.attempt(undefined, () => r.str(k, "kernel", "disk_path")),
  };

  // [devices]
  const d = r.attempt({} as Raw, () => r.table(root, "devices", false));
  const emuRaw = r.attempt([] as unknown[], () => r.array(d, "devices", "emu_devices") ?? []);
  const emuDevices = emuRaw.flatMap((e, i): EmuDeviceConfig[] =>
    r.attempt([], () => [emuDevice(r, d, e, i)])
  );
  const ptRaw = r.attempt(
    [] as unknown[],
    () => r.array(d, "devices", "passthrough_devices") ?? [],
  );
  const passthroughDevices = ptRaw.flatMap((e, i): PassthroughDeviceConfig[] =>
    r.attempt([], () => [passthroughDevice(r, d, e, i)])
  );
  const interruptMode = r.attempt<InterruptMode>("no_irq", () => {
    const modeRaw = r.str(d, "devices", "interrupt_mode") ?? "no_irq";
    const mode = INTERRUPT_MODES[modeRaw.toLowerCase()];
    if (mode === undefined) {
      r.fail(
        "devices",
        "interrupt_mode",
        `unknown mode ${JSON.stringify(modeRaw)} (no_irq, emulated, passthrough)`,
      );
    }
    return mode;
  });
  const paRaw = r.attempt(
    [] as unknown[],
    () => r.array(d, "devices", "passthrough_addresses") ?? [],
  );
  const passthroughAddresses = paRaw.flatMap((e, i) =>
    r.attempt([] as { gpa: number; length: number }[], () => {
      if (!Array.isArray(e) || e.length !== 2) {
        r.fail("devices", "passthrough_addresses", "each entry is [gpa, length]", `[${i}]`);
      }
      const [gpa, length] = e.map((v, j) =>
        r.int(d, "devices", "passthrough_addresses", v, `[${i}][${j}]`)
      );
      return [{ gpa, length }];
    })
  );
  const exRaw = r.attempt([] as unknown[], () => r.array(d, "devices", "excluded_devices") ?? []);
  const excludedDevices = exRaw.flatMap((e, i) =>
    r.attempt([] as string[][], () => {
      if (!Array.isArray(e) || !e.every((s) => typeof s === "string")) {
        r.fail(
          "devices",
          "excluded_devices",
          "each entry is a list of device-tree paths",
          `[${i}]`,
        );
      }
      return [e as string[]];
    })
  );
  r.throwRecorded();

  return {
    base: {
      id,
      name,
      vmType: vmTypeRaw as VmType,
      cpuNum,
      physCpuIds,
      physCpuSets,
      sstc,
      ...(consolePort !== undefined ? { consolePort } : {}),
    },
    kernel: {
      entryPoint,
      imageLocation: loc as "fs" | "memory",
      kernelPath,
      kernelLoadAddr,
      ...optional,
      memoryRegions,
    },
    devices: {
      emuDevices,
      passthroughDevices,
      interruptMode,
      passthroughAddresses,
      excludedDevices,
    },
    file,
    text,
    warnings,
  };
}

const INTERRUPT_MODES: Record<string, InterruptMode> = {
  no_irq: "no_irq",
  no: "no_irq",
  none: "no_irq",
  emu: "emulated",
  emulated: "emulated",
  passthrough: "passthrough",
  pt: "passthrough",
};

function baseCpuChecks(
  r: Reader,
  cpuNum: number,
  physCpuIds: number[] | undefined,
  physCpuSets: number[] | undefined,
): void {
  if (physCpuIds && physCpuIds.length !== cpuNum) {
    r.fail(
      "base",
      "phys_cpu_ids",
      `has ${physCpuIds.length} entries but cpu_num is ${cpuNum} (one id per vCPU)`,
    );
  }
  if (physCpuIds && new Set(physCpuIds).size !== physCpuIds.length) {
    r.fail("base", "phys_cpu_ids", "the same physical CPU id appears twice");
  }
  if (physCpuSets && physCpuSets.length !== cpuNum) {
    r.fail(
      "base",
      "phys_cpu_sets",
      `has ${physCpuSets.length} entries but cpu_num is ${cpuNum} (one mask per vCPU)`,
    );
  }
  physCpuSets?.forEach((m, i) => {
    if (m === 0) r.fail("base", "phys_cpu_sets", "an empty CPU mask allows no pCPU", `[${i}]`);
  });
}

function memoryRegion(r: Reader, k: Raw, e: unknown, i: number): MemoryRegionConfig {
  const sub = `[${i}]`;
  if (!Array.isArray(e) || e.length !== 4) {
    r.fail("kernel", "memory_regions", "each entry is [gpa, size, flags, map_type]", sub);
  }
  const [gpa, size, flags, mapType] = e.map((v, j) =>
    r.int(k, "kernel", "memory_regions", v, `${sub}[${j}]`)
  );
  if (size === 0) r.fail("kernel", "memory_regions", "size is 0", sub);
  if (mapType > 2) {
    r.fail(
      "kernel",
      "memory_regions",
      `map_type ${mapType} is not 0 (allocated), 1 (identical) or 2 (reserved)`,
      sub,
    );
  }
  return { gpa, size, flags, mapType: mapType as MapType };
}

function emuDevice(r: Reader, d: Raw, e: unknown, i: number): EmuDeviceConfig {
  const sub = `[${i}]`;
  if (!Array.isArray(e) || e.length < 5 || e.length > 6 || typeof e[0] !== "string") {
    r.fail(
      "devices",
      "emu_devices",
      "each entry is [name, base_gpa, length, irq, emu_type, [cfg...]]",
      sub,
    );
  }
  const [baseGpa, length, irq, emuType] = e.slice(1, 5).map((v, j) =>
    r.int(d, "devices", "emu_devices", v, `${sub}[${j + 1}]`)
  );
  if (!(emuType in EMU_TYPE_NAMES)) {
    r.fail("devices", "emu_devices", `unknown emu_type ${emuType}`, `${sub}[4]`);
  }
  const cfgRaw = e[5] ?? [];
  if (!Array.isArray(cfgRaw)) {
    r.fail("devices", "emu_devices", "the config list must be an array", `${sub}[5]`);
  }
  const cfg = cfgRaw.map((v, j) => r.int(d, "devices", "emu_devices", v, `${sub}[5][${j}]`));
  return { name: e[0], baseGpa, length, irq, emuType, cfg };
}

function passthroughDevice(r: Reader, d: Raw, e: unknown, i: number): PassthroughDeviceConfig {
  const sub = `[${i}]`;
  if (!Array.isArray(e) || e.length < 1 || e.length > 5 || typeof e[0] !== "string") {
    r.fail(
      "devices",
      "passthrough_devices",
      "each entry is [name, base_gpa, base_hpa, length, irq]",
      sub,
    );
  }
  const n = e.slice(1).map((v, j) =>
    r.int(d, "devices", "passthrough_devices", v, `${sub}[${j + 1}]`)
  );
  return {
    name: e[0],
    baseGpa: n[0] ?? 0,
    baseHpa: n[1] ?? 0,
    length: n[2] ?? 0,
    irq: n[3] ?? 0,
  };
}
