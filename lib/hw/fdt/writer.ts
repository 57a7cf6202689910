/**
 * Flattened device tree writer: version 17 blobs (header, memory reservation block, structure
 * block, strings block with shared names), the format `dtc -I dtb` and every firmware read.
 *
 * @module
 */

import { FdtError, type FdtNode, utf8 } from "./node.ts";

/** The DTB magic number. */
export const FDT_MAGIC = 0xd00dfeed;
/** The version written. */
export const FDT_VERSION = 17;
/** The oldest version a reader of our blobs must understand. */
export const FDT_LAST_COMP_VERSION = 16;
/** Size of the DTB header in bytes. */
export const FDT_HEADER_SIZE = 40;
/** Structure block token: start of a node. */
export const FDT_BEGIN_NODE = 1;
/** Structure block token: end of a node. */
export const FDT_END_NODE = 2;
/** Structure block token: a property. */
export const FDT_PROP = 3;
/** Structure block token: nothing. */
export const FDT_NOP = 4;
/** Structure block token: end of the structure block. */
export const FDT_END = 9;

/** One memory reservation entry: physical memory the OS must not use. */
export interface FdtReservation {
  /** Physical start address. */
  address: bigint;
  /** Size in bytes. */
  size: bigint;
}

/** Options for {@linkcode writeFdt}. */
export interface FdtWriteOptions {
  /** Memory reservation entries. Default none. */
  reservations?: FdtReservation[];
  /** `boot_cpuid_phys` of the header. Default 0. */
  bootCpuId?: number;
  /** Extra free bytes at the end of the blob (room for firmware fixups). Default 0. */
  padding?: number;
}

class ByteSink {
  buf = new Uint8Array(1024);
  len = 0;
  #grow(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  u32(v: number): void {
    this.#grow(4);
    this.buf[this.len++] = v >>> 24;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
  }
  bytes(b: Uint8Array): void {
    this.#grow(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  align4(): void {
    this.#grow(3);
    while (this.len % 4) this.buf[this.len++] = 0;
  }
}

const NODE_NAME = /^[A-Za-z0-9,._+\-]+(@[A-Za-z0-9,._+\-]+)?$/;
const PROP_NAME = /^[A-Za-z0-9,._+?#\-]+$/;

/** Serialises the tree below `root` into a version 17 DTB. */
export function writeFdt(root: FdtNode, options: FdtWriteOptions = {}): Uint8Array {
  if (root.name !== "") {
    throw new FdtError(
      "FDT_BAD_NAME",
      `the root node must have an empty name, not ${JSON.stringify(root.name)}`,
    );
  }
  const structure = new ByteSink();
  let strings = "";
  const stringOffsets = new Map<string, number>();
  const nameOffset = (name: string): number => {
    let off = stringOffsets.get(name);
    if (off === undefined) {
      // Share the tail of an existing name ("phandle" in "linux,phandle"), as dtc does.
      const at = strings.indexOf(name + "\0");
      if (at >= 0) {
        off = at;
      } else {
        off = strings.length; // names are ASCII (PROP_NAME): one byte per character
        strings += name + "\0";
      }
      stringOffsets.set(name, off);
    }
    return off;
  };
  const emit = (node: FdtNode, path: string): void => {
    if (node !== root && !NODE_NAME.test(node.name)) {
      throw new FdtError("FDT_BAD_NAME", `bad node name ${JSON.stringify(node.name)} at ${path}`);
    }
    structure.u32(FDT_BEGIN_NODE);
    structure.bytes(utf8(node.name));
    structure.bytes(new Uint8Array(1));
    structure.align4();
    for (const [name, value] of node.properties) {
      if (!PROP_NAME.test(name)) {
        throw new FdtError("FDT_BAD_NAME", `bad property name ${JSON.stringify(name)} in ${path}`);
      }
      structure.u32(FDT_PROP);
      structure.u32(value.length);
      structure.u32(nameOffset(name));
      structure.bytes(value);
      structure.align4();
    }
    for (const child of node.children) {
      emit(child, path === "/" ? `/${child.name}` : `${path}/${child.name}`);
    }
    structure.u32(FDT_END_NODE);
  };
  emit(root, "/");
  structure.u32(FDT_END);

  const reservations = options.reservations ?? [];
  const stringBytes = utf8(strings);
  const rsvOffset = FDT_HEADER_SIZE; // already 8-byte aligned
  const rsvSize = (reservations.length + 1) * 16;
  const structOffset = rsvOffset + rsvSize;
  const stringsOffset = structOffset + structure.len;
  const padding = options.padding ?? 0;
  const total = stringsOffset + stringBytes.length + padding;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, FDT_MAGIC);
  view.setUint32(4, total);
  view.setUint32(8, structOffset);
  view.setUint32(12, stringsOffset);
  view.setUint32(16, rsvOffset);
  view.setUint32(20, FDT_VERSION);
  view.setUint32(24, FDT_LAST_COMP_VERSION);
  view.setUint32(28, options.bootCpuId ?? 0);
  view.setUint32(32, stringBytes.length);
  view.setUint32(36, structure.len);
  reservations.forEach((r, i) => {
    view.setBigUint64(rsvOffset + i * 16, r.address);
    view.setBigUint64(rsvOffset + i * 16 + 8, r.size);
  });
  out.set(structure.buf.subarray(0, structure.len), structOffset);
  out.set(stringBytes, stringsOffset);
  return out;
}
