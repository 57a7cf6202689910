/**
 * The in-memory device tree: nodes with ordered properties and children. Property values are
 * stored as the raw big-endian bytes that go into a DTB; setters encode strings, string lists and
 * 32-/64-bit cells, getters decode them.
 *
 * @module
 */

/** Raised for malformed device trees, bad paths and property values of the wrong shape. */
export class FdtError extends Error {
  /** Machine-readable error code. */
  readonly code: string;
  /** Creates the error; `code` classifies it (e.g. `FDT_BAD_MAGIC`, `FDT_BAD_PROPERTY`). */
  constructor(code: string, message: string) {
    super(message);
    this.name = "FdtError";
    this.code = code;
  }
}

/**
 * A property value before encoding:
 * - `true` or `null`: an empty property (a flag such as `interrupt-controller`);
 * - a string: NUL-terminated; a string array: a string list;
 * - a number: one 32-bit cell; a number array: 32-bit cells;
 * - a bigint: one 64-bit value (two cells);
 * - a `Uint8Array`: raw bytes.
 */
export type FdtPropertyValue =
  | true
  | null
  | string
  | string[]
  | number
  | number[]
  | bigint
  | Uint8Array;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * UTF-8 bytes of `s`. Device tree strings are nearly always ASCII, which is copied here without
 * a call into the runtime's encoder (each of those is a host call: a guest's device tree has a
 * hundred strings, and building it was the biggest part of starting a VM).
 */
export function utf8(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return encoder.encode(s);
    out[i] = c;
  }
  return out;
}

/** Encodes a property value into DTB bytes (big-endian cells, NUL-terminated strings). */
export function encodeFdtValue(value: FdtPropertyValue, what = "property"): Uint8Array {
  if (value === true || value === null) return new Uint8Array(0);
  if (value instanceof Uint8Array) return value.slice();
  if (typeof value === "string") return encodeStrings([value], what);
  if (typeof value === "bigint") {
    if (value < 0n || value > 0xffff_ffff_ffff_ffffn) {
      throw new FdtError("FDT_BAD_PROPERTY", `${what}: 64-bit value out of range: ${value}`);
    }
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, value);
    return out;
  }
  if (typeof value === "number") return encodeCells([value], what);
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === "string")) return encodeStrings(value as string[], what);
    if (value.every((v) => typeof v === "number")) return encodeCells(value as number[], what);
  }
  throw new FdtError("FDT_BAD_PROPERTY", `${what}: cannot encode ${JSON.stringify(value)}`);
}

function encodeStrings(list: string[], what: string): Uint8Array {
  const parts = list.map((s) => {
    if (s.includes("\0")) {
      throw new FdtError("FDT_BAD_PROPERTY", `${what}: string contains NUL: ${JSON.stringify(s)}`);
    }
    return utf8(s);
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length + 1;
  }
  return out;
}

function encodeCells(cells: number[], what: string): Uint8Array {
  const out = new Uint8Array(cells.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i];
    if (!Number.isInteger(c) || c < 0 || c > 0xffff_ffff) {
      throw new FdtError(
        "FDT_BAD_PROPERTY",
        `${what}: cell ${i} is not a 32-bit unsigned integer: ${c}`,
      );
    }
    view.setUint32(i * 4, c);
  }
  return out;
}

/** Splits a 64-bit address or size (below 2^53) into two cells, high first. */
export function cells64(value: number): [number, number] {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new FdtError("FDT_BAD_PROPERTY", `cannot encode ${value} as a 64-bit cell pair`);
  }
  return [Math.floor(value / 0x1_0000_0000), value % 0x1_0000_0000];
}

/** One node of a device tree. */
export class FdtNode {
  /** Node name with its unit address, e.g. `serial@10000000`; the root's name is empty. */
  name: string;
  /** Properties in insertion order, as raw DTB bytes. */
  readonly properties: Map<string, Uint8Array> = new Map();
  /** Child nodes in order. */
  readonly children: FdtNode[] = [];

  /** Creates a node named `name` (empty for the root). */
  constructor(name = "") {
    this.name = name;
  }

  /** Sets (or replaces) property `name`. Returns this node, for chaining. */
  set(name: string, value: FdtPropertyValue): this {
    this.properties.set(name, encodeFdtValue(value, `${this.name || "/"}: ${name}`));
    return this;
  }

  /** Removes property `name`; returns whether it existed. */
  delete(name: string): boolean {
    return this.properties.delete(name);
  }

  /** Whether property `name` exists. */
  has(name: string): boolean {
    return this.properties.has(name);
  }

  /** Raw bytes of property `name`, or undefined. */
  get(name: string): Uint8Array | undefined {
    return this.properties.get(name);
  }

  /** Adds a child named `name` (or appends `node`) and returns it. */
  add(nameOrNode: string | FdtNode): FdtNode {
    const node = typeof nameOrNode === "string" ? new FdtNode(nameOrNode) : nameOrNode;
    if (this.children.some((c) => c.name === node.name)) {
      throw new FdtError(
        "FDT_DUPLICATE_NODE",
        `${this.name || "/"} already has a child named ${node.name}`,
      );
    }
    this.children.push(node);
    return node;
  }

  /** The child named exactly `name`, or, when `name` has no unit address, the only child whose
   * name before `@` matches. */
  child(name: string): FdtNode | undefined {
    const exact = this.children.find((c) => c.name === name);
    if (exact || name.includes("@")) return exact;
    const matches = this.children.filter((c) => c.name.split("@")[0] === name);
    return matches.length === 1 ? matches[0] : undefined;
  }

  /** The node at `path` below this one (`/soc/serial@10000000`, or `soc/serial`). */
  find(path: string): FdtNode | undefined {
    const parts = path.split("/").filter((p) => p !== "");
    return parts.reduce<FdtNode | undefined>((node, part) => node?.child(part), this);
  }

  /** Visits this node and all descendants depth-first, with their paths. */
  *walk(path = "/"): Generator<[string, FdtNode]> {
    yield [path, this];
    for (const c of this.children) yield* c.walk(path === "/" ? `/${c.name}` : `${path}/${c.name}`);
  }

  /** The node below this one whose `phandle` is `phandle`. */
  findByPhandle(phandle: number): FdtNode | undefined {
    for (const [, node] of this.walk()) {
      const p = node.get("phandle");
      if (p && p.length === 4 && new DataView(p.buffer, p.byteOffset).getUint32(0) === phandle) {
        return node;
      }
    }
    return undefined;
  }

  /** The largest phandle used below this node (0 if none). */
  maxPhandle(): number {
    let max = 0;
    for (const [, node] of this.walk()) {
      const p = node.get("phandle");
      if (p && p.length === 4) {
        max = Math.max(max, new DataView(p.buffer, p.byteOffset).getUint32(0));
      }
    }
    return max;
  }

  /** Property `name` as 32-bit cells. */
  getCells(name: string): number[] | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (v.length % 4 !== 0) {
      throw new FdtError(
        "FDT_BAD_PROPERTY",
        `${this.name || "/"}: ${name} is ${v.length} bytes, not whole cells`,
      );
    }
    const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
    const out: number[] = [];
    for (let i = 0; i < v.length; i += 4) out.push(view.getUint32(i));
    return out;
  }

  /** Property `name` as one 32-bit cell. */
  getU32(name: string): number | undefined {
    const cells = this.getCells(name);
    if (cells === undefined) return undefined;
    if (cells.length !== 1) {
      throw new FdtError(
        "FDT_BAD_PROPERTY",
        `${this.name || "/"}: ${name} has ${cells.length} cells, expected 1`,
      );
    }
    return cells[0];
  }

  /** Property `name` as a 64-bit value (8 bytes) or a 32-bit one (4 bytes). */
  getU64(name: string): bigint | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
    if (v.length === 8) return view.getBigUint64(0);
    if (v.length === 4) return BigInt(view.getUint32(0));
    throw new FdtError(
      "FDT_BAD_PROPERTY",
      `${this.name || "/"}: ${name} is ${v.length} bytes, expected 4 or 8`,
    );
  }

  /** Property `name` as a string list. */
  getStrings(name: string): string[] | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (v.length === 0 || v[v.length - 1] !== 0) {
      throw new FdtError(
        "FDT_BAD_PROPERTY",
        `${this.name || "/"}: ${name} is not NUL-terminated text`,
      );
    }
    return decoder.decode(v.subarray(0, v.length - 1)).split("\0");
  }

  /** Property `name` as one string (the first of a list). */
  getString(name: string): string | undefined {
    return this.getStrings(name)?.[0];
  }
}
