/**
 * The snapshot file format (docs/snapshot.md): a small header (magic, format version, a JSON
 * table of contents with a CRC-32), then sections, each one gzip member (the built-in
 * `CompressionStream`), whose CRC-32 the header repeats and decompression checks natively.
 *
 * Encoding and decoding are asynchronous and feed the compressor in slices, so the event loop
 * never blocks for long. Decoding checks everything (magic, versions, lengths, checksums, the
 * JSON) before handing anything back: a caller that applies only a decoded file changes nothing
 * when the file is bad.
 *
 * @module
 */

/** First 8 bytes of every snapshot file. */
export const SNAPSHOT_MAGIC: Uint8Array = Uint8Array.of(
  0x89,
  0x41,
  0x58,
  0x56,
  0x53,
  0x4e,
  0x50,
  0x0a,
);
/** The format version this code writes (and the newest it reads). */
export const SNAPSHOT_FORMAT_VERSION = 1;
/** The producer name written into headers. */
export const SNAPSHOT_PRODUCER = "axvisor.ts";
/** The producer version written into headers. */
export const SNAPSHOT_PRODUCER_VERSION = "0.1.0";

/** Raised for a snapshot file that cannot be used; `code` says why. */
export class SnapshotFormatError extends Error {
  /** `TRUNCATED`, `CORRUPTED`, `FOREIGN`, `TOO_NEW` or `INCOMPATIBLE`. */
  readonly code: "TRUNCATED" | "CORRUPTED" | "FOREIGN" | "TOO_NEW" | "INCOMPATIBLE";
  /** Creates the error. */
  constructor(code: SnapshotFormatError["code"], message: string) {
    super(message);
    this.name = "SnapshotFormatError";
    this.code = code;
  }
}

/** One section in the table of contents. */
export interface SectionEntry {
  /** `state` (JSON) or `pages` (memory pages of one region). */
  kind: "state" | "pages";
  /** Memory region index (pages sections). */
  region?: number;
  /** Number of pages (pages sections). */
  pages?: number;
  /** Stored (compressed) length in bytes. */
  stored: number;
  /** Length after decompression. */
  raw: number;
  /** CRC-32 of the section's data before compression (the gzip member's own CRC-32). */
  crc32: number;
  /** Compression: one gzip member (RFC 1952; its CRC-32 is checked natively on decompression). */
  encoding: "gzip";
}

/** The JSON header of a snapshot file. */
export interface SnapshotHeader {
  /** Who wrote the file. */
  producer: string;
  /** The producer's version. */
  producerVersion: string;
  /** Board the VM ran on (restore needs the same board). */
  board: string;
  /** ISA string of the harts (restore needs the same). */
  isa: string;
  /** The VM's id and name when saved. */
  vm: { id: number; name: string };
  /** Snapshot name. */
  name: string;
  /** Virtual time (ns) of the hypervisor when saved. */
  savedAtNs: number;
  /** Sections, in file order. */
  sections: SectionEntry[];
}

/** Pages of one memory region. */
export interface RegionPages {
  /** Region index. */
  region: number;
  /**
   * One part per section: page indexes (relative to the region, ascending over all parts) and
   * their contents, 4096 bytes per index in the same order.
   */
  parts: { indexes: number[]; data: Uint8Array }[];
}

/** What a snapshot file holds once decoded. */
export interface DecodedSnapshot {
  /** The header. */
  header: SnapshotHeader;
  /** The state section, parsed. */
  state: unknown;
  /** Memory pages per region. */
  regions: RegionPages[];
}

/** Where the pages of one region come from while encoding. */
export interface PageSource {
  /** Region index. */
  region: number;
  /** Page indexes, ascending. */
  indexes: number[];
  /** The bytes of page `index` (4096 bytes; may be a view into live memory). */
  page(index: number): Uint8Array;
}

const PAGES_PER_SECTION = 2048;
const PAGE = 4096;

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** The CRC-32 a gzip member carries in its trailer (of the uncompressed data). */
function gzipCrc(member: Uint8Array): number {
  return new DataView(member.buffer, member.byteOffset + member.length - 8, 4).getUint32(0, true);
}

/** CRC-32 (IEEE 802.3, as zlib) of `data`, continuing from `crc` (0 to start). */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

async function collect(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const p of readable) {
    parts.push(p);
    total += p.length;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Compresses slices produced by `produce` (written one at a time, yielding between them). */
async function deflate(chunks: Iterable<Uint8Array<ArrayBuffer>>): Promise<Uint8Array> {
  const cs = new CompressionStream("gzip");
  const result = collect(cs.readable);
  const writer = cs.writable.getWriter();
  try {
    for (const c of chunks) await writer.write(c);
    await writer.close();
  } catch (e) {
    await writer.abort(e).catch(() => {});
    throw e;
  }
  return await result;
}

async function inflate(
  data: Uint8Array<ArrayBuffer>,
  expected: number,
  what: string,
): Promise<Uint8Array> {
  const ds = new DecompressionStream("gzip");
  const result = collect(ds.readable);
  const writer = ds.writable.getWriter();
  let out: Uint8Array;
  try {
    const slice = 1 << 20;
    for (let o = 0; o < data.length; o += slice) {
      await writer.write(data.subarray(o, Math.min(data.length, o + slice)));
    }
    await writer.close();
    out = await result;
  } catch (e) {
    await result.catch(() => {});
    throw new SnapshotFormatError(
      "CORRUPTED",
      `${what} is damaged: checksum mismatch or bad compressed data (${(e as Error).message})`,
    );
  }
  if (out.length !== expected) {
    throw new SnapshotFormatError(
      "CORRUPTED",
      `${what}: expands to ${out.length} bytes, the header says ${expected}`,
    );
  }
  return out;
}

/** The slices of one pages section: the index table, then pages 16 at a time. */
function* pageChunks(
  table: Uint8Array<ArrayBuffer>,
  indexes: number[],
  src: PageSource,
): Generator<Uint8Array<ArrayBuffer>> {
  yield table;
  // 16 pages per write: the compressor works in the background between writes.
  const batch = new Uint8Array(16 * PAGE);
  for (let i = 0; i < indexes.length; i += 16) {
    const n = Math.min(16, indexes.length - i);
    for (let j = 0; j < n; j++) batch.set(src.page(indexes[i + j]), j * PAGE);
    yield batch.slice(0, n * PAGE);
  }
}

/**
 * Encodes a snapshot: `state` (JSON-serialisable) and the pages of each region. Page contents
 * are read while encoding, so `pages` must not change until the promise settles (pass frozen
 * copy-on-write copies of live memory).
 */
export async function encodeSnapshot(
  header: Omit<SnapshotHeader, "sections" | "producer" | "producerVersion">,
  state: unknown,
  pages: PageSource[],
): Promise<Uint8Array> {
  const sections: { entry: SectionEntry; data: Uint8Array }[] = [];
  const stateRaw = new TextEncoder().encode(JSON.stringify(state));
  const stateData = await deflate([stateRaw]);
  sections.push({
    entry: {
      kind: "state",
      stored: stateData.length,
      raw: stateRaw.length,
      crc32: gzipCrc(stateData),
      encoding: "gzip",
    },
    data: stateData,
  });
  for (const src of pages) {
    for (let first = 0; first < src.indexes.length; first += PAGES_PER_SECTION) {
      const indexes = src.indexes.slice(first, first + PAGES_PER_SECTION);
      const table = new Uint8Array(4 * indexes.length);
      const dv = new DataView(table.buffer);
      indexes.forEach((idx, i) => dv.setUint32(4 * i, idx, true));
      const data = await deflate(pageChunks(table, indexes, src));
      sections.push({
        entry: {
          kind: "pages",
          region: src.region,
          pages: indexes.length,
          stored: data.length,
          raw: indexes.length * (PAGE + 4),
          crc32: gzipCrc(data),
          encoding: "gzip",
        },
        data,
      });
    }
  }
  const full: SnapshotHeader = {
    producer: SNAPSHOT_PRODUCER,
    producerVersion: SNAPSHOT_PRODUCER_VERSION,
    ...header,
    sections: sections.map((s) => s.entry),
  };
  const meta = new TextEncoder().encode(JSON.stringify(full));
  const headLength = 16 + meta.length + 4;
  const total = headLength + sections.reduce((s, x) => s + x.data.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(SNAPSHOT_MAGIC, 0);
  dv.setUint32(8, SNAPSHOT_FORMAT_VERSION, true);
  dv.setUint32(12, meta.length, true);
  out.set(meta, 16);
  dv.setUint32(16 + meta.length, crc32(out.subarray(0, 16 + meta.length)), true);
  let o = headLength;
  for (const s of sections) {
    out.set(s.data, o);
    o += s.data.length;
  }
  return out;
}

/** Reads and checks only the header of a snapshot file (for listings). */
export function readSnapshotHeader(file: Uint8Array, what = "snapshot"): SnapshotHeader {
  if (file.length < 16) {
    if (
      file.length >= 1 && !SNAPSHOT_MAGIC.subarray(0, file.length).every((b, i) => file[i] === b)
    ) {
      throw new SnapshotFormatError("FOREIGN", `${what} is not an axvisor.ts snapshot (bad magic)`);
    }
    throw new SnapshotFormatError(
      "TRUNCATED",
      `${what} is truncated: ${file.length} bytes, shorter than the 16-byte header`,
    );
  }
  if (!SNAPSHOT_MAGIC.every((b, i) => file[i] === b)) {
    throw new SnapshotFormatError("FOREIGN", `${what} is not an axvisor.ts snapshot (bad magic)`);
  }
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const version = dv.getUint32(8, true);
  if (version > SNAPSHOT_FORMAT_VERSION) {
    throw new SnapshotFormatError(
      "TOO_NEW",
      `${what} has format version ${version}; this axvisor.ts ${SNAPSHOT_PRODUCER_VERSION} reads versions up to ${SNAPSHOT_FORMAT_VERSION}`,
    );
  }
  if (version === 0) {
    throw new SnapshotFormatError("CORRUPTED", `${what} has format version 0 (invalid)`);
  }
  const metaLength = dv.getUint32(12, true);
  if (16 + metaLength + 4 > file.length) {
    throw new SnapshotFormatError(
      "TRUNCATED",
      `${what} is truncated: the header needs ${
        16 + metaLength + 4
      } bytes, the file has ${file.length}`,
    );
  }
  const crc = dv.getUint32(16 + metaLength, true);
  if (crc32(file.subarray(0, 16 + metaLength)) !== crc) {
    throw new SnapshotFormatError("CORRUPTED", `${what}: header checksum mismatch`);
  }
  let header: SnapshotHeader;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(
      file.subarray(16, 16 + metaLength),
    ));
  } catch (e) {
    throw new SnapshotFormatError(
      "CORRUPTED",
      `${what}: header is not JSON (${(e as Error).message})`,
    );
  }
  if (
    typeof header !== "object" || header === null || !Array.isArray(header.sections) ||
    typeof header.board !== "string" || typeof header.isa !== "string" ||
    typeof header.vm?.id !== "number" || typeof header.vm?.name !== "string"
  ) {
    throw new SnapshotFormatError("CORRUPTED", `${what}: header lacks board, isa, vm or sections`);
  }
  for (const [i, s] of header.sections.entries()) {
    const ok = typeof s === "object" && s !== null &&
      (s.kind === "state" || (s.kind === "pages" && Number.isInteger(s.region) &&
        Number.isInteger(s.pages) && s.pages! >= 0 && s.raw === s.pages! * (PAGE + 4))) &&
      Number.isInteger(s.stored) && s.stored >= 0 && Number.isInteger(s.raw) && s.raw >= 0 &&
      Number.isInteger(s.crc32) && s.encoding === "gzip";
    if (!ok) {
      throw new SnapshotFormatError(
        "CORRUPTED",
        `${what}: section ${i} of the header is malformed`,
      );
    }
  }
  return header;
}

/** Decodes and checks a whole snapshot file. Throws {@linkcode SnapshotFormatError}. */
export async function decodeSnapshot(
  input: Uint8Array,
  what = "snapshot",
): Promise<DecodedSnapshot> {
  const file: Uint8Array<ArrayBuffer> = input.buffer instanceof ArrayBuffer
    ? input as Uint8Array<ArrayBuffer>
    : new Uint8Array(input);
  const header = readSnapshotHeader(file, what);
  const metaLength = new DataView(file.buffer, file.byteOffset, file.byteLength).getUint32(
    12,
    true,
  );
  let o = 16 + metaLength + 4;
  const expected = o + header.sections.reduce((s, x) => s + x.stored, 0);
  if (file.length < expected) {
    throw new SnapshotFormatError(
      "TRUNCATED",
      `${what} is truncated: ${file.length} bytes, the header announces ${expected}`,
    );
  }
  if (file.length > expected) {
    throw new SnapshotFormatError(
      "CORRUPTED",
      `${what} has ${file.length - expected} unexpected bytes after its last section`,
    );
  }
  // Checksums first: a damaged file is refused before any decompression.
  const stored: Uint8Array<ArrayBuffer>[] = [];
  header.sections.forEach((s, i) => {
    const data = file.subarray(o, o + s.stored);
    o += s.stored;
    // The gzip trailer (CRC-32 and size of the data) must match the header; the data itself
    // is checked against that CRC-32 natively while it is decompressed.
    const trailer = data.length >= 18
      ? new DataView(data.buffer, data.byteOffset + data.length - 8, 8)
      : undefined;
    if (
      trailer === undefined || trailer.getUint32(0, true) !== s.crc32 ||
      trailer.getUint32(4, true) !== s.raw % 2 ** 32
    ) {
      throw new SnapshotFormatError(
        "CORRUPTED",
        `${what}: section ${i} (${s.kind}${
          s.kind === "pages" ? ` of region ${s.region}` : ""
        }) checksum mismatch`,
      );
    }
    stored.push(data);
  });
  let state: unknown = undefined;
  let states = 0;
  const byRegion = new Map<number, RegionPages["parts"]>();
  for (const [i, s] of header.sections.entries()) {
    const raw = await inflate(stored[i], s.raw, `${what}: section ${i} (${s.kind})`);
    if (s.kind === "state") {
      states++;
      try {
        state = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
      } catch (e) {
        throw new SnapshotFormatError(
          "CORRUPTED",
          `${what}: the state section is not JSON (${(e as Error).message})`,
        );
      }
      continue;
    }
    const n = s.pages!;
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const parts = byRegion.get(s.region!) ?? [];
    const indexes: number[] = new Array(n);
    for (let k = 0; k < n; k++) indexes[k] = dv.getUint32(4 * k, true);
    parts.push({ indexes, data: raw.subarray(4 * n) });
    byRegion.set(s.region!, parts);
  }
  if (states !== 1) {
    throw new SnapshotFormatError("CORRUPTED", `${what} has ${states} state sections (needs 1)`);
  }
  const regions: RegionPages[] = [...byRegion].map(([region, parts]) => ({ region, parts }));
  return { header, state, regions };
}
