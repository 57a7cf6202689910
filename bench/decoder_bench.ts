/**
 * Decoder throughput (`deno task bench`): the hart's `decode` on
 *
 * - the instruction stream of the first 8 MiB of Debian's kernel Image (`deno task images`;
 *   skipped with a message when missing), about 2.9 M slots of which 56 % compressed;
 * - one million random 32-bit words (mostly illegal: the table's misses);
 * - every 16-bit parcel.
 *
 * Divide the slot count by the time per iteration for decodes/s. Also printed once: the CPU
 * time of loading decoder.ts (the instruction table included) and of compiling its 32-bit
 * decoder, which happens on the first 32-bit word.
 *
 * @module
 */

import process from "node:process";

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const c0 = cpuMs();
const { decode } = await import("../lib/hw/riscv/decoder.ts");
const c1 = cpuMs();
decode(0x00000033);
const c2 = cpuMs();
console.log(
  `decoder: module load ${(c1 - c0).toFixed(1)} ms CPU (with isa_table.ts), ` +
    `32-bit decoder compiled on first use in ${(c2 - c1).toFixed(1)} ms CPU`,
);

/** The instruction slots of a code image, walked as the hart would (2 or 4 bytes each). */
function slots(image: Uint8Array, limit: number): Int32Array {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const out: number[] = [];
  for (let at = 0; at + 4 <= Math.min(image.length, limit);) {
    const low = view.getUint16(at, true);
    if ((low & 3) === 3) {
      out.push(view.getInt32(at, true));
      at += 4;
    } else {
      out.push(low);
      at += 2;
    }
  }
  return Int32Array.from(out);
}

function decodeAll(words: Int32Array): number {
  let sum = 0;
  for (let i = 0; i < words.length; i++) {
    const d = decode(words[i]);
    sum = (sum + d.word + d.imm) | 0;
  }
  return sum;
}

// Imported after the measurement above: it loads the whole hypervisor, the decoder included.
const { LINUX_IMAGE } = await import("../tests/vmm/linux_support.ts");
const kernel = (() => {
  try {
    return slots(Deno.readFileSync(LINUX_IMAGE), 8 << 20);
  } catch {
    return undefined;
  }
})();

let seed = 9;
const random32 = Int32Array.from({ length: 1_000_000 }, () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) | 0;
  return seed | 3;
});
const parcels = Int32Array.from({ length: 0x10000 }, (_, w) => w).filter((w) => (w & 3) !== 3);

Deno.bench({
  name: kernel
    ? `decode kernel Image slots (${kernel.length})`
    : "decode kernel Image slots (skipped: run `deno task images`)",
  group: "decoder",
  baseline: true,
  ignore: kernel === undefined,
  fn: () => {
    decodeAll(kernel!);
  },
});

Deno.bench("decode 1M random 32-bit words", { group: "decoder" }, () => {
  decodeAll(random32);
});

Deno.bench("decode every 16-bit parcel", { group: "decoder" }, () => {
  decodeAll(parcels);
});
