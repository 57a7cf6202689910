/**
 * Board descriptions: the {@linkcode BoardSpec} type and its TOML form.
 *
 * ```toml
 * name = "qemu-virt"
 * description = "QEMU riscv virt memory map, 4 harts, 8 GiB"
 * model = "riscv-virtio,qemu"            # optional
 * compatible = ["riscv-virtio"]          # optional
 * timebase_frequency = 10_000_000        # Hz of mtime / the time CSR
 *
 * [cpus]
 * hart_ids = [0, 1, 2, 3]                # physical hart ids (mhartid), in board order
 * isa = "rv64imafdc_zicntr_zicsr"        # optional (default: the hart's own, from isa.ts)
 * mmu_type = "riscv,sv39"                # optional
 * frequency = 100_000_000                # optional: instructions per second of virtual time
 *
 * [[memory]]                             # one table per RAM range
 * base = 0x8000_0000
 * size = 0x2_0000_0000
 *
 * [[devices]]                            # one table per device
 * name = "uart0"
 * type = "ns16550a"                      # ns16550a | plic | aclint | sifive-test | goldfish-rtc
 * base = 0x1000_0000
 * size = 0x100                           # optional: the type's default window
 * irq = 10                               # ns16550a, goldfish-rtc: PLIC source
 * clock_frequency = 3_686_400            # ns16550a: optional
 * # sources = 96                         # plic: riscv,ndev
 *
 * [chosen]
 * stdout = "uart0"                       # optional: console device name
 * bootargs = ""                          # optional
 * ```
 *
 * Errors are {@linkcode BoardError}s naming the file, the line and the key.
 *
 * @module
 */

import { parse, TomlError } from "npm:smol-toml@^1.9.1";
import { isaString } from "../riscv/isa.ts";
import {
  BOARD_DEVICE_TYPES,
  type BoardDeviceSpec,
  DEFAULT_PLIC_SOURCES,
  DEFAULT_UART_CLOCK,
  deviceKind,
  isBoardDeviceType,
} from "./device_kinds.ts";

export type { BoardDeviceSpec, BoardDeviceType } from "./device_kinds.ts";
export { BOARD_DEVICE_TYPES } from "./device_kinds.ts";

/** One range of RAM. */
export interface BoardMemorySpec {
  /** Physical base address (multiple of 4096). */
  base: number;
  /** Size in bytes (multiple of 4096). */
  size: number;
}

/** A parsed, validated board. */
export interface BoardSpec {
  /** Board name, e.g. `qemu-virt`. */
  name: string;
  /** One line saying what the board is. */
  description: string;
  /** Device-tree `model`. */
  model: string;
  /** Device-tree root `compatible`. */
  compatible: string[];
  /** Where the board came from: a file name, or `builtin:NAME`. */
  source: string;
  /** Frequency of mtime and the `time` CSR, in Hz. */
  timebaseFrequency: number;
  /** The harts. */
  cpus: {
    /** Physical hart ids (mhartid) in board order; CLINT and PLIC contexts follow this order. */
    hartIds: number[];
    /** ISA string for the device tree (`riscv,isa`). */
    isa: string;
    /** Device-tree `mmu-type`. */
    mmuType: string;
    /** Instructions each hart retires per second of virtual time. */
    frequency: number;
  };
  /** RAM ranges, ordered by base address. */
  memory: BoardMemorySpec[];
  /** Devices, in file order. */
  devices: BoardDeviceSpec[];
  /** Boot-time choices. */
  chosen: {
    /** Name of the console device (an ns16550a). */
    stdout?: string;
    /** Kernel command line. */
    bootargs?: string;
  };
}

/** Raised for a board file that cannot be used; names the file, line and key. */
export class BoardError extends Error {
  /** Machine-readable error code. */
  readonly code = "BOARD_INVALID";
  /** File name (or `builtin:NAME`). */
  readonly file: string;
  /** 1-based line of the offending key (0 when unknown). */
  readonly line: number;
  /** Dotted key path, e.g. `devices[2].irq` (empty when the file as a whole is wrong). */
  readonly key: string;
  /** Creates the error; the message reads `file:line: key: problem`. */
  constructor(file: string, line: number, key: string, problem: string) {
    super(`${file}${line > 0 ? `:${line}` : ""}: ${key ? `${key}: ` : ""}${problem}`);
    this.name = "BoardError";
    this.file = file;
    this.line = line;
    this.key = key;
  }
}

/** The hart's own ISA string (isa.ts): what a board's harts implement unless it says otherwise. */
const DEFAULT_ISA = isaString();
const DEFAULT_MMU = "riscv,sv39";
const DEFAULT_FREQUENCY = 100_000_000;
const MAX_HARTS = 1024;

/** One step of a key path: a key name or an array index. */
export type KeyPathPart = string | number;
const formatKey = (path: KeyPathPart[]): string =>
  path.map((p, i) => typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`).join("");

/**
 * Finds the line of `path` (e.g. `["devices", 2, "irq"]`) in TOML `text`: the line of the key
 * inside the right table or array-of-tables entry, else the line of that table's header, else 0.
 */
export function locateKey(text: string, path: KeyPathPart[]): number {
  const lines = text.split(/\r?\n/);
  // Every header: its dotted name, its entry index for [[arrays]] (-1 for [tables]) and its line.
  const headers: { name: string; index: number; line: number }[] = [];
  const counts = new Map<string, number>();
  lines.forEach((line, i) => {
    const m = /^\s*(\[\[?)\s*([A-Za-z0-9_.\-"' ]+?)\s*\]\]?/.exec(line);
    if (!m) return;
    const name = m[2].replace(/["'\s]/g, "");
    let index = -1;
    if (m[1] === "[[") {
      index = counts.get(name) ?? 0;
      counts.set(name, index + 1);
    }
    headers.push({ name, index, line: i + 1 });
  });
  const headerOf = (name: string, index: number | undefined) =>
    headers.find((h) => h.name === name && (index === undefined || h.index === index));
  let parts = path.slice();
  // A path ending in an index names an array-of-tables entry, or an element of an array value.
  if (parts.length > 1 && typeof parts[parts.length - 1] === "number") {
    const name = parts.filter((p) => typeof p === "string").join(".");
    const entry = headerOf(name, parts[parts.length - 1] as number);
    if (entry && counts.has(name)) return entry.line;
    while (parts.length > 0 && typeof parts[parts.length - 1] === "number") {
      parts = parts.slice(0, -1);
    }
  }
  if (parts.length === 0) return 0;
  const key = String(parts[parts.length - 1]);
  const table = parts.slice(0, -1);
  const tableName = table.filter((p) => typeof p === "string").join(".");
  const tableIndex = table.find((p) => typeof p === "number") as number | undefined;
  // The key's own line inside its table (or before the first header for top-level keys).
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const keyRe = new RegExp(`^\\s*["']?${escaped}["']?\\s*=`);
  let current = "", currentIndex = -1;
  const seen = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const h = headers.find((x) => x.line === i + 1);
    if (h) {
      current = h.name;
      currentIndex = h.index;
      if (h.index >= 0) seen.set(h.name, h.index);
      continue;
    }
    const inTable = current === tableName &&
      (tableIndex === undefined || tableIndex === currentIndex);
    if (inTable && keyRe.test(lines[i])) return i + 1;
  }
  // A key that is a table itself ([chosen]), else the enclosing table's header.
  const own = headerOf(tableName ? `${tableName}.${key}` : key, undefined);
  if (own) return own.line;
  return tableName ? (headerOf(tableName, tableIndex)?.line ?? 0) : 0;
}

/** What the validator knows about where it is. */
class Ctx {
  constructor(readonly file: string, readonly text: string) {}
  fail(path: KeyPathPart[], problem: string): never {
    throw new BoardError(this.file, locateKey(this.text, path), formatKey(path), problem);
  }
  table(value: unknown, path: KeyPathPart[], allowed: string[]): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.fail(path, "must be a table");
    }
    const t = value as Record<string, unknown>;
    for (const k of Object.keys(t)) {
      if (!allowed.includes(k)) {
        this.fail([...path, k], `unknown key (expected one of: ${allowed.join(", ")})`);
      }
    }
    return t;
  }
  string(
    t: Record<string, unknown>,
    path: KeyPathPart[],
    key: string,
    required: boolean,
  ): string | undefined {
    const v = t[key];
    if (v === undefined) {
      if (required) this.fail(path.length ? path : [key], `missing required key "${key}"`);
      return undefined;
    }
    if (typeof v !== "string") this.fail([...path, key], `must be a string, got ${describe(v)}`);
    return v;
  }
  integer(
    t: Record<string, unknown>,
    path: KeyPathPart[],
    key: string,
    required: boolean,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
  ): number | undefined {
    const v = t[key];
    if (v === undefined) {
      if (required) this.fail(path.length ? path : [key], `missing required key "${key}"`);
      return undefined;
    }
    return this.checkInteger(v, [...path, key], min, max);
  }
  checkInteger(v: unknown, path: KeyPathPart[], min: number, max: number): number {
    if (typeof v === "bigint") this.fail(path, `${v} is too large (limit ${hex(max)})`);
    if (typeof v !== "number" || !Number.isInteger(v)) {
      this.fail(path, `must be an integer, got ${describe(v)}`);
    }
    if (v < min || v > max) this.fail(path, `${fmt(v)} is out of range ${fmt(min)}..${fmt(max)}`);
    return v;
  }
}

const hex = (n: number): string => `0x${n.toString(16)}`;
const fmt = (n: number): string => (n >= 0x10000 ? hex(n) : String(n));
const describe = (v: unknown): string =>
  Array.isArray(v)
    ? "an array"
    : typeof v === "object" && v !== null
    ? "a table"
    : `${typeof v} ${JSON.stringify(v)}`;

/**
 * Parses and validates a board TOML text. `fileName` is used in error messages and becomes the
 * spec's `source`.
 *
 * @throws {BoardError} naming the file, line and key of the first problem found
 */
export function parseBoard(text: string, fileName: string): BoardSpec {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text, { integersAsBigInt: "asNeeded" }) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split("\n")[0];
      throw new BoardError(
        `${fileName}`,
        e.line,
        "",
        `TOML syntax error at column ${e.column}: ${first}`,
      );
    }
    throw e;
  }
  const c: Ctx = new Ctx(fileName, text);
  const top = c.table(doc, [], [
    "name",
    "description",
    "model",
    "compatible",
    "timebase_frequency",
    "cpus",
    "memory",
    "devices",
    "chosen",
  ]);
  const name = c.string(top, [], "name", true)!;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    c.fail(["name"], `"${name}" is not a valid board name (letters, digits, _ . -)`);
  }
  const description = c.string(top, [], "description", false) ?? "";
  const model = c.string(top, [], "model", false) ?? name;
  let compatible: string[] = [name];
  if (top.compatible !== undefined) {
    if (typeof top.compatible === "string") compatible = [top.compatible];
    else if (
      Array.isArray(top.compatible) && top.compatible.length > 0 &&
      top.compatible.every((s) => typeof s === "string")
    ) {
      compatible = top.compatible as string[];
    } else c.fail(["compatible"], "must be a string or a non-empty array of strings");
  }
  const timebaseFrequency = c.integer(top, [], "timebase_frequency", true, 1, 0xffff_ffff)!;

  // [cpus]
  if (top.cpus === undefined) c.fail(["cpus"], `missing required table [cpus]`);
  const cpus = c.table(top.cpus, ["cpus"], ["hart_ids", "isa", "mmu_type", "frequency"]);
  const ids = cpus.hart_ids;
  if (ids === undefined) c.fail(["cpus"], `missing required key "hart_ids"`);
  if (!Array.isArray(ids) || ids.length === 0) {
    c.fail(["cpus", "hart_ids"], "must be a non-empty array of hart ids");
  }
  if (ids.length > MAX_HARTS) {
    c.fail(["cpus", "hart_ids"], `${ids.length} harts; at most ${MAX_HARTS} are supported`);
  }
  const hartIds = ids.map((v, i) => c.checkInteger(v, ["cpus", "hart_ids", i], 0, 0xffff_ffff));
  const seen = new Set<number>();
  for (const id of hartIds) {
    if (seen.has(id)) c.fail(["cpus", "hart_ids"], `hart id ${id} appears twice`);
    seen.add(id);
  }
  const isa = c.string(cpus, ["cpus"], "isa", false) ?? DEFAULT_ISA;
  if (!/^rv(32|64)[a-z]+(_[a-z][a-z0-9]*)*$/.test(isa)) {
    c.fail(["cpus", "isa"], `"${isa}" is not an ISA string like ${DEFAULT_ISA}`);
  }
  const mmuType = c.string(cpus, ["cpus"], "mmu_type", false) ?? DEFAULT_MMU;
  if (!/^riscv,(sv32|sv39|sv48|sv57|none)$/.test(mmuType)) {
    c.fail(["cpus", "mmu_type"], `"${mmuType}" is not riscv,sv39 / sv48 / sv57 / sv32 / none`);
  }
  const frequency = c.integer(cpus, ["cpus"], "frequency", false, 1, 1e12) ?? DEFAULT_FREQUENCY;

  // [[memory]]
  if (top.memory === undefined) c.fail(["memory"], "missing required [[memory]] table");
  if (!Array.isArray(top.memory) || top.memory.length === 0) {
    c.fail(["memory"], "must be one or more [[memory]] tables");
  }
  const memory: BoardMemorySpec[] = top.memory.map((m, i) => {
    const t = c.table(m, ["memory", i], ["base", "size"]);
    const base = c.integer(t, ["memory", i], "base", true, 0)!;
    const size = c.integer(t, ["memory", i], "size", true, 4096)!;
    if (base % 4096) c.fail(["memory", i, "base"], `${hex(base)} is not a multiple of 4096`);
    if (size % 4096) c.fail(["memory", i, "size"], `${hex(size)} is not a multiple of 4096`);
    if (base + size > Number.MAX_SAFE_INTEGER) {
      c.fail(["memory", i, "size"], "range ends beyond 2^53");
    }
    return { base, size };
  });

  // [[devices]]
  const devices: BoardDeviceSpec[] = [];
  if (top.devices !== undefined && !Array.isArray(top.devices)) {
    c.fail(["devices"], "must be [[devices]] tables");
  }
  const rawDevices = (top.devices ?? []) as unknown[];
  const names = new Set<string>();
  rawDevices.forEach((d, i) => {
    const p: KeyPathPart[] = ["devices", i];
    const t = c.table(d, p, [
      "name",
      "type",
      "base",
      "size",
      "irq",
      ...new Set(BOARD_DEVICE_TYPES.flatMap((k) => deviceKind(k).settings)),
    ]);
    const devName = c.string(t, p, "name", true)!;
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(devName)) {
      c.fail([...p, "name"], `"${devName}" is not a valid device name`);
    }
    if (names.has(devName)) c.fail([...p, "name"], `device name "${devName}" is used twice`);
    names.add(devName);
    const type = c.string(t, p, "type", true)!;
    if (!isBoardDeviceType(type)) {
      return c.fail(
        [...p, "type"],
        `unknown device type "${type}" (known: ${BOARD_DEVICE_TYPES.join(", ")})`,
      );
    }
    const kind = deviceKind(type);
    const base = c.integer(t, p, "base", true, 0)!;
    const size = c.integer(t, p, "size", false, 1) ?? kind.defaultSize;
    const spec: BoardDeviceSpec = { name: devName, type, base, size };
    for (const key of ["irq", "clock_frequency", "sources"]) {
      const allowed = key === "irq" ? kind.interrupt : kind.settings.includes(key);
      if (t[key] !== undefined && !allowed) {
        c.fail([...p, key], `not a setting of a ${type} device`);
      }
    }
    if (kind.interrupt) spec.irq = c.integer(t, p, "irq", false, 1, 1023);
    if (type === "ns16550a") {
      spec.clockFrequency = c.integer(t, p, "clock_frequency", false, 1, 0xffff_ffff) ??
        DEFAULT_UART_CLOCK;
    }
    if (type === "plic") {
      spec.sources = c.integer(t, p, "sources", false, 1, 1023) ?? DEFAULT_PLIC_SOURCES;
      const needed = 0x200000 + 0x1000 * 2 * hartIds.length;
      if (size < needed) {
        c.fail(
          [...p, "size"],
          `${hex(size)} is too small for ${hartIds.length * 2} contexts (needs ${hex(needed)})`,
        );
      }
    }
    if (type === "aclint") {
      if (size < 0xc000) c.fail([...p, "size"], `${hex(size)} is too small: mtime lives at 0xbff8`);
      if (hartIds.length > 4095) {
        c.fail(["cpus", "hart_ids"], "an aclint serves at most 4095 harts");
      }
    }
    if (size < kind.minSize) {
      c.fail([...p, "size"], `a ${type} needs at least ${hex(kind.minSize)} bytes`);
    }
    devices.push(spec);
  });
  for (const type of BOARD_DEVICE_TYPES.filter((k) => deviceKind(k).unique)) {
    const all = devices.map((d, i) => [d, i] as const).filter(([d]) => d.type === type);
    if (all.length > 1) c.fail(["devices", all[1][1], "type"], `a board has at most one ${type}`);
  }
  const plic = devices.find((d) => d.type === "plic");
  devices.forEach((d, i) => {
    if (d.irq !== undefined) {
      if (!plic) c.fail(["devices", i, "irq"], "an interrupt needs a plic device on the board");
      if (d.irq > plic.sources!) {
        c.fail(["devices", i, "irq"], `source ${d.irq} exceeds the plic's ${plic.sources} sources`);
      }
    }
  });
  for (
    const [a, b] of devices.flatMap((d, i) => devices.slice(i + 1).map((e) => [d, e] as const))
  ) {
    if (!(a.name === b.name) && overlaps(a, b)) {
      const i = devices.indexOf(b);
      c.fail(
        ["devices", i, "base"],
        `"${b.name}" [${hex(b.base)}, ${hex(b.base + b.size)}) overlaps "${a.name}" [${
          hex(a.base)
        }, ${hex(a.base + a.size)})`,
      );
    }
  }
  memory.forEach((m, i) => {
    memory.forEach((n, j) => {
      if (j > i && overlaps(m, n)) {
        c.fail(["memory", j, "base"], `RAM range ${j} overlaps RAM range ${i}`);
      }
    });
    devices.forEach((d, j) => {
      if (overlaps(m, d)) {
        c.fail(
          ["devices", j, "base"],
          `"${d.name}" overlaps RAM range ${i} [${hex(m.base)}, ${hex(m.base + m.size)})`,
        );
      }
    });
  });

  // [chosen]
  const chosen: BoardSpec["chosen"] = {};
  if (top.chosen !== undefined) {
    const t = c.table(top.chosen, ["chosen"], ["stdout", "bootargs"]);
    chosen.stdout = c.string(t, ["chosen"], "stdout", false);
    chosen.bootargs = c.string(t, ["chosen"], "bootargs", false);
    if (chosen.stdout !== undefined) {
      const dev = devices.find((d) => d.name === chosen.stdout);
      if (!dev) c.fail(["chosen", "stdout"], `no device named "${chosen.stdout}"`);
      if (dev.type !== "ns16550a") {
        c.fail(["chosen", "stdout"], `"${chosen.stdout}" is a ${dev.type}, not a UART`);
      }
    }
  }
  if (chosen.stdout === undefined) chosen.stdout = devices.find((d) => d.type === "ns16550a")?.name;

  return {
    name,
    description,
    model,
    compatible,
    source: fileName,
    timebaseFrequency,
    cpus: { hartIds, isa, mmuType, frequency },
    memory: memory.slice().sort((a, b) => a.base - b.base),
    devices,
    chosen,
  };
}

function overlaps(a: { base: number; size: number }, b: { base: number; size: number }): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}
