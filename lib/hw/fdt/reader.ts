/**
 * Flattened device tree reader: parses and validates a DTB (versions 16 and 17) into
 * {@linkcode FdtNode}s.
 *
 * @module
 */

import { FdtError, FdtNode } from "./node.ts";
import {
  FDT_BEGIN_NODE,
  FDT_END,
  FDT_END_NODE,
  FDT_HEADER_SIZE,
  FDT_MAGIC,
  FDT_NOP,
  FDT_PROP,
  type FdtReservation,
} from "./writer.ts";

/** A parsed device tree blob. */
export interface FdtDocument {
  /** The root node. */
  root: FdtNode;
  /** Memory reservation entries. */
  reservations: FdtReservation[];
  /** `boot_cpuid_phys` from the header. */
  bootCpuId: number;
  /** Header version. */
  version: number;
  /** Header `totalsize`. */
  totalSize: number;
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const hex = (n: number): string => `0x${n.toString(16)}`;

/** Reads the `totalsize` field of a DTB header (after checking the magic). */
export function fdtTotalSize(bytes: Uint8Array): number {
  if (bytes.length < FDT_HEADER_SIZE) {
    throw new FdtError(
      "FDT_TRUNCATED",
      `device tree blob is ${bytes.length} bytes, shorter than its header`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== FDT_MAGIC) {
    throw new FdtError(
      "FDT_BAD_MAGIC",
      `not a device tree blob: magic ${hex(magic)}, expected ${hex(FDT_MAGIC)}`,
    );
  }
  return view.getUint32(4);
}

/** Parses a DTB; throws {@linkcode FdtError} naming what is wrong and at which offset. */
export function readFdt(bytes: Uint8Array): FdtDocument {
  const totalSize = fdtTotalSize(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (totalSize > bytes.length || totalSize < FDT_HEADER_SIZE) {
    throw new FdtError(
      "FDT_TRUNCATED",
      `header totalsize ${totalSize} but the blob has ${bytes.length} bytes`,
    );
  }
  const structOffset = view.getUint32(8);
  const stringsOffset = view.getUint32(12);
  const rsvOffset = view.getUint32(16);
  const version = view.getUint32(20);
  const lastComp = view.getUint32(24);
  const bootCpuId = view.getUint32(28);
  const stringsSize = view.getUint32(32);
  const structSize = version >= 17 ? view.getUint32(36) : totalSize - structOffset;
  if (version < 16 || lastComp > 17) {
    throw new FdtError(
      "FDT_BAD_VERSION",
      `unsupported device tree version ${version} (last compatible ${lastComp})`,
    );
  }
  const within = (what: string, off: number, size: number) => {
    if (off + size > totalSize) {
      throw new FdtError(
        "FDT_BAD_LAYOUT",
        `${what} at ${hex(off)} (+${size}) runs past totalsize ${totalSize}`,
      );
    }
  };
  within("structure block", structOffset, structSize);
  within("strings block", stringsOffset, stringsSize);
  if (structOffset % 4 !== 0) {
    throw new FdtError(
      "FDT_BAD_LAYOUT",
      `structure block offset ${hex(structOffset)} is not 4-aligned`,
    );
  }
  if (rsvOffset % 8 !== 0) {
    throw new FdtError(
      "FDT_BAD_LAYOUT",
      `reservation block offset ${hex(rsvOffset)} is not 8-aligned`,
    );
  }

  const reservations: FdtReservation[] = [];
  for (let at = rsvOffset;; at += 16) {
    within("memory reservation entry", at, 16);
    const address = view.getBigUint64(at);
    const size = view.getBigUint64(at + 8);
    if (address === 0n && size === 0n) break;
    reservations.push({ address, size });
  }

  const structEnd = structOffset + structSize;
  let at = structOffset;
  const u32 = (): number => {
    if (at + 4 > structEnd) {
      throw new FdtError("FDT_TRUNCATED", `structure block ends inside a token at ${hex(at)}`);
    }
    const v = view.getUint32(at);
    at += 4;
    return v;
  };
  const cstring = (from: number, end: number, what: string): [string, number] => {
    let nul = from;
    while (nul < end && bytes[nul] !== 0) nul++;
    if (nul >= end) {
      throw new FdtError("FDT_BAD_STRING", `${what} at ${hex(from)} is not NUL-terminated`);
    }
    try {
      return [decoder.decode(bytes.subarray(from, nul)), nul];
    } catch {
      throw new FdtError("FDT_BAD_STRING", `${what} at ${hex(from)} is not valid UTF-8`);
    }
  };

  let root: FdtNode | undefined;
  const stack: FdtNode[] = [];
  for (;;) {
    const tokenAt = at;
    const token = u32();
    if (token === FDT_BEGIN_NODE) {
      const [name, nul] = cstring(at, structEnd, "node name");
      at = (nul + 4) & ~3;
      const node = new FdtNode(name);
      if (stack.length === 0) {
        if (root) throw new FdtError("FDT_BAD_STRUCTURE", `second root node at ${hex(tokenAt)}`);
        root = node;
      } else {
        stack[stack.length - 1].children.push(node);
      }
      stack.push(node);
    } else if (token === FDT_END_NODE) {
      if (stack.length === 0) {
        throw new FdtError("FDT_BAD_STRUCTURE", `unbalanced END_NODE at ${hex(tokenAt)}`);
      }
      stack.pop();
    } else if (token === FDT_PROP) {
      if (stack.length === 0) {
        throw new FdtError("FDT_BAD_STRUCTURE", `property outside any node at ${hex(tokenAt)}`);
      }
      const len = u32();
      const nameOff = u32();
      if (at + len > structEnd) {
        throw new FdtError(
          "FDT_TRUNCATED",
          `property value at ${hex(at)} (${len} bytes) runs past the structure block`,
        );
      }
      if (nameOff >= stringsSize) {
        throw new FdtError(
          "FDT_BAD_STRING",
          `property name offset ${nameOff} at ${hex(tokenAt)} is outside the strings block`,
        );
      }
      const [name] = cstring(stringsOffset + nameOff, stringsOffset + stringsSize, "property name");
      stack[stack.length - 1].properties.set(name, bytes.slice(at, at + len));
      at = (at + len + 3) & ~3;
    } else if (token === FDT_NOP) {
      continue;
    } else if (token === FDT_END) {
      if (stack.length !== 0) {
        throw new FdtError(
          "FDT_BAD_STRUCTURE",
          `END at ${hex(tokenAt)} with ${stack.length} node(s) still open`,
        );
      }
      break;
    } else {
      throw new FdtError("FDT_BAD_STRUCTURE", `unknown token ${hex(token)} at ${hex(tokenAt)}`);
    }
  }
  if (!root) throw new FdtError("FDT_BAD_STRUCTURE", "device tree has no root node");
  return { root, reservations, bootCpuId, version, totalSize };
}
