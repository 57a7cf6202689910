/**
 * A writer for the "newc" cpio format (SVR4 without CRC, magic `070701`), the format Linux
 * unpacks as an initramfs, plus a gzip helper (the kernel's `CONFIG_RD_GZIP`).
 *
 * Entries are written in the order given; a directory must come before what it holds. The
 * archive ends with the `TRAILER!!!` entry and is padded to a multiple of 512 bytes, as GNU cpio
 * does. Inode numbers are assigned in order, from 1; times, uid and gid are fixed so the same
 * entries always give the same bytes.
 *
 * ```ts
 * import { CpioWriter, gzip } from "./cpio.ts";
 * const cpio = new CpioWriter();
 * cpio.directory("bin");
 * cpio.file("init", new TextEncoder().encode("#!/bin/sh\necho hi\n"), 0o755);
 * cpio.symlink("bin/sh", "busybox");
 * const initramfs = await gzip(cpio.finish());
 * ```
 *
 * @module
 */

/** File-type bits of a cpio `mode`. */
const S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000, S_IFCHR = 0o020000;
const MAGIC = "070701";
const HEADER_SIZE = 110;

/** Raised for an entry the writer cannot store (bad name, too large, after `finish`). */
export class CpioError extends Error {
  /** Creates the error with a message naming the entry. */
  constructor(message: string) {
    super(message);
    this.name = "CpioError";
  }
}

/** One archive entry as {@linkcode readCpio} returns it. */
export interface CpioEntry {
  /** Path inside the archive (no leading `/`). */
  name: string;
  /** Full mode: file type and permission bits. */
  mode: number;
  /** Contents (the target for a symlink). */
  data: Uint8Array;
  /** Device major number (character devices). */
  rdevMajor: number;
  /** Device minor number (character devices). */
  rdevMinor: number;
}

/** Builds a "newc" cpio archive in memory. */
export class CpioWriter {
  #chunks: Uint8Array[] = [];
  #size = 0;
  #ino = 1;
  #names = new Set<string>();
  #finished = false;
  #mtime: number;
  #encoder = new TextEncoder();

  /** Creates an empty archive; every entry gets `mtime` (seconds since the epoch, default 0). */
  constructor(options: { mtime?: number } = {}) {
    this.#mtime = options.mtime ?? 0;
  }

  /** Adds a directory (mode bits default to 0755). */
  directory(name: string, perm = 0o755): this {
    return this.#entry(name, S_IFDIR | (perm & 0o7777), new Uint8Array(0), 2);
  }

  /** Adds a regular file (mode bits default to 0644). */
  file(name: string, data: Uint8Array, perm = 0o644): this {
    return this.#entry(name, S_IFREG | (perm & 0o7777), data, 1);
  }

  /** Adds a symbolic link `name` pointing at `target`. */
  symlink(name: string, target: string): this {
    if (target === "") throw new CpioError(`cpio: symlink '${name}' has an empty target`);
    return this.#entry(name, S_IFLNK | 0o777, this.#encoder.encode(target), 1);
  }

  /** Adds a character device node (e.g. `dev/console`, 5:1). */
  charDevice(name: string, major: number, minor: number, perm = 0o600): this {
    return this.#entry(name, S_IFCHR | (perm & 0o7777), new Uint8Array(0), 1, major, minor);
  }

  /** Number of bytes written so far (before the trailer). */
  get size(): number {
    return this.#size;
  }

  /** Appends the trailer and returns the archive; the writer cannot be used afterwards. */
  finish(): Uint8Array {
    if (this.#finished) throw new CpioError("cpio: the archive is already finished");
    this.#header("TRAILER!!!", 0, 0, 1, 0, 0, 0);
    this.#finished = true;
    this.#pad(512);
    const out = new Uint8Array(this.#size);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    this.#chunks = [];
    return out;
  }

  #entry(
    name: string,
    mode: number,
    data: Uint8Array,
    nlink: number,
    major = 0,
    minor = 0,
  ): this {
    if (this.#finished) throw new CpioError(`cpio: cannot add '${name}': archive finished`);
    const clean = name.replace(/^\/+/, "");
    if (clean === "" || clean === "TRAILER!!!" || clean.split("/").some((p) => p === "..")) {
      throw new CpioError(`cpio: '${name}' is not a valid entry name`);
    }
    if (this.#names.has(clean)) throw new CpioError(`cpio: '${clean}' is added twice`);
    if (data.length > 0xffff_ffff) throw new CpioError(`cpio: '${clean}' is larger than 4 GiB`);
    this.#names.add(clean);
    this.#header(clean, mode, data.length, nlink, this.#ino++, major, minor);
    this.#push(data);
    this.#pad(4);
    return this;
  }

  #header(
    name: string,
    mode: number,
    fileSize: number,
    nlink: number,
    ino: number,
    major: number,
    minor: number,
  ): void {
    const nameBytes = this.#encoder.encode(name);
    const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
    const fields = [
      ino,
      mode,
      0, // uid
      0, // gid
      nlink,
      this.#mtime,
      fileSize,
      0, // devmajor
      0, // devminor
      major, // rdevmajor
      minor, // rdevminor
      nameBytes.length + 1, // namesize, with the NUL
      0, // check
    ];
    const header = this.#encoder.encode(MAGIC + fields.map(hex8).join(""));
    this.#push(header);
    this.#push(nameBytes);
    this.#push(new Uint8Array(1));
    this.#pad(4);
  }

  #push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.#size += bytes.length;
  }

  #pad(multiple: number): void {
    const rest = this.#size % multiple;
    if (rest !== 0) this.#push(new Uint8Array(multiple - rest));
  }
}

/**
 * Reads a "newc" archive back (used by tests and to inspect an initramfs): the entries up to
 * the trailer.
 *
 * @throws {CpioError} for a truncated archive or a bad magic
 */
export function readCpio(archive: Uint8Array): CpioEntry[] {
  const decoder = new TextDecoder();
  const entries: CpioEntry[] = [];
  let at = 0;
  const align = (n: number) => (n + 3) & ~3;
  while (true) {
    if (at + HEADER_SIZE > archive.length) throw new CpioError(`cpio: truncated header at ${at}`);
    const header = decoder.decode(archive.subarray(at, at + HEADER_SIZE));
    if (!header.startsWith(MAGIC)) throw new CpioError(`cpio: bad magic at offset ${at}`);
    const field = (i: number) => parseInt(header.slice(6 + 8 * i, 14 + 8 * i), 16);
    const mode = field(1), fileSize = field(6), nameSize = field(11);
    const nameStart = at + HEADER_SIZE;
    const name = decoder.decode(archive.subarray(nameStart, nameStart + nameSize - 1));
    const dataStart = align(nameStart + nameSize);
    if (dataStart + fileSize > archive.length) {
      throw new CpioError(`cpio: '${name}' is truncated`);
    }
    if (name === "TRAILER!!!") return entries;
    entries.push({
      name,
      mode,
      data: archive.slice(dataStart, dataStart + fileSize),
      rdevMajor: field(9),
      rdevMinor: field(10),
    });
    at = align(dataStart + fileSize);
  }
}

/** Compresses `data` with gzip (CompressionStream), as `CONFIG_RD_GZIP` unpacks it. */
export async function gzip(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Decompresses gzip data (DecompressionStream). */
export async function gunzip(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
