/**
 * The fixed integer workload of the hart benchmark (`bench/hart_bench.ts`) and of the test that
 * compares the two hart tiers (`hart_jit_test.ts`): an LCG fill (mul), an insertion sort (loads,
 * stores, branches), a bitwise CRC-32 (shifts, logic, byte loads) and a divide/remainder loop,
 * repeated. It starts at `_start`, repeats from `outer` and keeps its data in `array`.
 *
 * @module
 */

/**
 * Which mix of the workload:
 *
 * - `"speed"`: the benchmark's lean mix over 128 doublewords, repeated 10^9 times (a run is
 *   bounded by its budget long before it reaches `done`);
 * - `"coverage"`: 64 doublewords, but every load and store width, every M-extension instruction,
 *   divisors that cross zero, and a call to a leaf function each round; it never ends.
 */
export type IntegerWorkloadMix = "speed" | "coverage";

interface Mix {
  /** Doublewords filled, sorted and (times 8 bytes) checksummed per round. */
  elements: number;
  /** Shift that takes the fill value from the LCG state. */
  fillShift: number;
  /** Extra instructions in the fill loop, the CRC byte loop and the divide loop. */
  fillExtra: string[];
  crcExtra: string[];
  divide: string[];
  /** Divide-loop rounds, and what the round counter adds to make the divisor. */
  divRounds: number;
  divisorBias: number;
  /** Lines before `outer:` (after the LCG seed) and after the divide loop. */
  prologue: string[];
  epilogue: string[];
  arrayBytes: number;
}

const MIXES: Record<IntegerWorkloadMix, Mix> = {
  speed: {
    elements: 128,
    fillShift: 33,
    fillExtra: [],
    crcExtra: [],
    divide: ["divuw t5, t1, t2"],
    divRounds: 200,
    divisorBias: 3,
    prologue: ["li s0, 1000000000          # repetitions (the run is bounded by the budget)"],
    epilogue: ["  addi s0, s0, -1", "  bnez s0, outer", "done:", "  j done"],
    arrayBytes: 1024,
  },
  coverage: {
    elements: 64,
    fillShift: 29,
    fillExtra: ["sw s1, 512(a0)", "sh t3, 1024(a0)", "sb s1, 1536(a0)"],
    crcExtra: ["lb t5, 1(a0)", "lhu t6, 2(a0)", "lh s2, 4(a0)", "lwu s3, 4(a0)", "lw s4, 0(a0)"],
    divide: [
      "divu t5, t1, t2",
      "remu t6, t1, t2",
      "divw s5, t1, t2",
      "divuw s6, t1, t2",
      "remw s7, t1, t2",
      "remuw s8, t1, t2",
      "mulh s9, t1, t2",
      "mulhsu s10, t2, t1",
      "mulhu s11, t1, t2",
    ],
    divRounds: 50,
    divisorBias: -25,
    prologue: [],
    epilogue: ["  call leaf", "  j outer", "leaf:", "  auipc t0, 0", "  jalr zero, 0(ra)"],
    arrayBytes: 2048,
  },
};

/** Indented instruction lines, each ending in a newline. */
const insns = (lines: string[]) => lines.map((l) => `  ${l}\n`).join("");

/** The assembly source of the integer workload in the given mix. */
export function integerWorkload(mix: IntegerWorkloadMix): string {
  const m = MIXES[mix];
  return `
  .text
  .globl _start
_start:
${insns(m.prologue)}  li s1, 0x2545F4914F6CDD1D  # LCG state
outer:
  # 1. fill ${m.elements} dwords with LCG values (mul)
  la a0, array
  li a1, ${m.elements}
  li t1, 6364136223846793005
  li t2, 1442695040888963407
fill:
  mul s1, s1, t1
  add s1, s1, t2
  srli t3, s1, ${m.fillShift}
  sd t3, 0(a0)
${insns(m.fillExtra)}  addi a0, a0, 8
  addi a1, a1, -1
  bnez a1, fill
  # 2. insertion sort
  la a0, array
  li a1, 1
sort_outer:
  slli t0, a1, 3
  add t0, a0, t0
  ld t1, 0(t0)
  mv t2, a1
sort_inner:
  beqz t2, sort_place
  ld t3, -8(t0)
  bleu t3, t1, sort_place
  sd t3, 0(t0)
  addi t0, t0, -8
  addi t2, t2, -1
  j sort_inner
sort_place:
  sd t1, 0(t0)
  addi a1, a1, 1
  li t4, ${m.elements}
  blt a1, t4, sort_outer
  # 3. CRC-32 over the ${m.elements * 8} bytes of the array
  la a0, array
  li a1, ${m.elements * 8}
  li a2, -1
  li a3, 0xEDB88320
crc_byte:
  lbu t0, 0(a0)
${insns(m.crcExtra)}  xor a2, a2, t0
  li t1, 8
crc_bit:
  andi t2, a2, 1
  srli a2, a2, 1
  neg t2, t2
  and t2, t2, a3
  xor a2, a2, t2
  addi t1, t1, -1
  bnez t1, crc_bit
  addi a0, a0, 1
  addi a1, a1, -1
  bnez a1, crc_byte
  # 4. divide and remainder
  li t0, ${m.divRounds}
  li t1, 0x7fffffffffff
div_loop:
  addi t2, t0, ${m.divisorBias}
  div t3, t1, t2
  rem t4, t1, t2
${insns(m.divide)}  add t1, t3, t4
  add t1, t1, t5
  slli t1, t1, 7
  addi t0, t0, -1
  bnez t0, div_loop
${m.epilogue.join("\n")}
  .data
  .balign 8
array:
  .zero ${m.arrayBytes}
`;
}
