/**
 * Guest images (guest-abi.md): a raw binary, an ELF64 file (loaded by its program headers), or
 * an assembly source (`.S` / `.s`) assembled by the built-in assembler at the load address.
 *
 * @module
 */

import { assemble } from "../hw/riscv/assembler.ts";
import { isElf, parseElf } from "../hw/riscv/elf.ts";
import { type FileSystem, FsError } from "./filesystem.ts";

/** Raised when an image cannot be read, assembled, parsed or placed; names the file. */
export class ImageError extends Error {
  /** Error code for structured output. */
  readonly code = "EIMAGE";
  /** The image path. */
  readonly path: string;
  /** The filesystem's code (`ENOENT`, `EACCES`...) when the image could not be read. */
  readonly fsCode?: string;
  /** Creates the error; `fsCode` tells why the file could not be read, when that was the cause. */
  constructor(path: string, message: string, fsCode?: string) {
    super(`${path}: ${message}`);
    this.name = "ImageError";
    this.path = path;
    if (fsCode !== undefined) this.fsCode = fsCode;
  }
}

/**
 * An image error seen through the config key that names the image:
 * `/c.toml:9: kernel.kernel_path: /guests/nope.S not found (...)`, or for a broken image
 * `/c.toml:9: kernel.kernel_path: /guests/bad.S: assembly failed: /guests/bad.S:3: ...`.
 */
export class ConfiguredImageError extends ImageError {
  /** Config file that names the image. */
  readonly configFile: string;
  /** Dotted config key, e.g. `kernel.kernel_path`. */
  readonly key: string;
  /** 1-based line of the key in the config, when known. */
  readonly line?: number;
  /** Wraps `cause` (an {@linkcode ImageError} about `path`) with the config's place. */
  constructor(
    configFile: string,
    key: string,
    line: number | undefined,
    path: string,
    cause: ImageError,
    missing: boolean,
  ) {
    super(path, "");
    const where = `${configFile}${line !== undefined ? `:${line}` : ""}: ${key}: `;
    this.message = missing ? `${where}${path} not found` : where + cause.message;
    this.name = "ImageError";
    this.configFile = configFile;
    this.key = key;
    this.line = line;
  }
}

/** An image ready to be copied into guest memory. */
export interface GuestImage {
  /** Path it came from. */
  path: string;
  /** `raw`, `elf` or `asm`. */
  format: "raw" | "elf" | "asm";
  /** Chunks to copy, at guest-physical addresses. */
  chunks: { gpa: number; data: Uint8Array; memSize: number }[];
  /** ELF entry point (physical), when the image is an ELF. */
  entry?: number;
  /** Symbols (assembly or ELF), name to address. */
  symbols: Map<string, number>;
}

/** Largest image file read (512 MiB): reading is synchronous, and a guest image is smaller. */
export const MAX_GUEST_IMAGE_BYTES = 512 << 20;

/** Reads and prepares an image for loading at `loadAddr` (ignored for ELF, which places itself). */
export function readGuestImage(fs: FileSystem, path: string, loadAddr: number): GuestImage {
  let bytes: Uint8Array;
  let size: number | undefined;
  try {
    size = fs.stat(path)?.size;
  } catch {
    size = undefined; // readFile below says why
  }
  if (size !== undefined && size > MAX_GUEST_IMAGE_BYTES) {
    throw new ImageError(
      path,
      `image of ${size} bytes is larger than the ${MAX_GUEST_IMAGE_BYTES}-byte limit`,
    );
  }
  try {
    bytes = fs.readFile(path);
  } catch (e) {
    throw new ImageError(path, `cannot read image: ${(e as Error).message}`, imageFsCode(e));
  }
  return prepareGuestImage(bytes, path, loadAddr);
}

/** The POSIX code of a filesystem error, if `e` is one. */
export function imageFsCode(e: unknown): string | undefined {
  return e instanceof FsError ? e.code : undefined;
}

const asmCache = new Map<string, { source: Uint8Array; image: GuestImage }>();
const ASM_CACHE_LIMIT = 64;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Prepares image bytes (see {@linkcode readGuestImage}). Assembly results are cached by path,
 * load address and source bytes, so a reboot re-reads the file but only re-assembles it when it
 * changed.
 */
export function prepareGuestImage(bytes: Uint8Array, path: string, loadAddr: number): GuestImage {
  if (/\.[sS]$/.test(path)) {
    const key = `${loadAddr}:${path}`;
    const cached = asmCache.get(key);
    if (cached && sameBytes(cached.source, bytes)) return cached.image;
    const image = assembleImage(bytes, path, loadAddr);
    if (asmCache.size >= ASM_CACHE_LIMIT) asmCache.delete(asmCache.keys().next().value!);
    asmCache.set(key, { source: bytes.slice(), image });
    return image;
  }
  return prepareBinaryImage(bytes, path, loadAddr);
}

function assembleImage(bytes: Uint8Array, path: string, loadAddr: number): GuestImage {
  {
    const source = new TextDecoder().decode(bytes);
    try {
      const out = assemble(source, { origin: loadAddr, fileName: path });
      const symbols = new Map<string, number>();
      const syms = out.symbols as unknown;
      if (syms instanceof Map) {
        for (const [k, v] of syms) symbols.set(String(k), Number(v));
      } else if (syms && typeof syms === "object") {
        for (const [k, v] of Object.entries(syms)) symbols.set(k, Number(v));
      }
      return {
        path,
        format: "asm",
        chunks: [{ gpa: out.origin, data: out.image, memSize: out.image.length }],
        symbols,
      };
    } catch (e) {
      throw new ImageError(path, `assembly failed: ${(e as Error).message}`);
    }
  }
}

function prepareBinaryImage(bytes: Uint8Array, path: string, loadAddr: number): GuestImage {
  if (isElf(bytes)) {
    try {
      const elf = parseElf(bytes, path);
      const symbols = new Map<string, number>();
      for (const s of elf.symbols) if (s.name) symbols.set(s.name, Number(s.value));
      return {
        path,
        format: "elf",
        chunks: elf.segments.map((s) => ({ gpa: s.paddr, data: s.data, memSize: s.memSize })),
        entry: elf.entry,
        symbols,
      };
    } catch (e) {
      throw new ImageError(path, `bad ELF: ${(e as Error).message}`);
    }
  }
  return {
    path,
    format: "raw",
    chunks: [{ gpa: loadAddr, data: bytes, memSize: bytes.length }],
    symbols: new Map(),
  };
}

/** Ranges an image occupies. */
export function imageRanges(image: GuestImage): { gpa: number; size: number }[] {
  return image.chunks.map((c) => ({ gpa: c.gpa, size: Math.max(c.memSize, c.data.length) }));
}
