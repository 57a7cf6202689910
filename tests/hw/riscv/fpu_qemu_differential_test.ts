/**
 * Bulk differential test of the FPU against QEMU's softfloat (exact, and an oracle nobody here
 * wrote): every F/D operation with a computational result, in every rounding mode, on seeded
 * random and edge-biased operands (see `fpu_cases.ts`), comparing the result bits and fflags
 * bit for bit.
 *
 * One bare-metal M-mode program (GNU as, `-march=rv64imafdc`) sets mstatus.FS and walks an
 * operand table placed after its code: each 32-byte record is {block index, a, b, c}; the block
 * index selects, through a jump table, the code of one (operation, static rounding mode) pair.
 * For each record the program clears fflags, loads f1..f3 (and a1) with `fld`/`ld` (so that
 * improperly boxed singles reach the instruction), runs the block, and prints the 64-bit result
 * (`fmv.x.d` of f0, or a0) and fflags as hex on the NS16550 UART, then ends with the SiFive
 * test finisher. Our side runs the same records through `lib/hw/riscv/fpu.ts`.
 *
 * Before the random cases, every operation runs on every combination of special operands (±0,
 * the least subnormal, the greatest subnormal, the least normal, 1, 1 + ulp, the greatest finite
 * value, ±infinity, a quiet and a signalling NaN, and for singles an improperly boxed value).
 *
 * `FPU_DIFF_CASES=N` sets the cases per (operation, rounding mode) pair (default 500, 93,000
 * cases in all, a few seconds); `FPU_DIFF_SEED=S` the seed. A missing QEMU or binutils fails the test
 * when `CI=true` and skips it otherwise.
 */

import assert from "node:assert/strict";
import { FpRegisters } from "../../../lib/hw/riscv/fpu.ts";
import {
  FP_OPS,
  type FpOp,
  randomOperands,
  RM_NAMES,
  Rng,
  runOurs,
  specialOperands,
} from "./fpu_cases.ts";
import { buildProgram, type BuiltProgram, qemuVersion, runOnQemu } from "./qemu_oracle.ts";

const CASES = Number(Deno.env.get("FPU_DIFF_CASES") ?? 500);
const SEED = Number(Deno.env.get("FPU_DIFF_SEED") ?? 0x5eed);
/** Records per QEMU run (keeps the input image and the UART output of one run moderate). */
const CHUNK = 200_000;
/** Bytes per record: block index, a, b, c, our result, our fflags. */
const RECORD = 48;
const ORIGIN = 0x8000_0000;
const DATA_OFFSET = 0x4_0000;
const CPU = "rv64,priv_spec=v1.12.0";

/** Whether GNU as for RISC-V can be started. */
async function haveAssembler(): Promise<boolean> {
  try {
    const out = await new Deno.Command("riscv64-unknown-elf-as", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

const version = await qemuVersion();
const inCi = Deno.env.get("CI") === "true";
const reason = version === undefined
  ? "qemu-system-riscv64 not found: install the Debian package qemu-system-misc"
  : !(await haveAssembler())
  ? "riscv64-unknown-elf-as not found: install the Debian package binutils-riscv64-unknown-elf"
  : "";
if (reason && !inCi) console.warn(`fpu_qemu_differential_test: skipped (${reason})`);

/** The (operation, rounding mode) pairs, in jump-table order. */
interface Pair {
  op: FpOp;
  rm: number;
}
const PAIRS: Pair[] = FP_OPS.flatMap((op) =>
  op.rounding ? RM_NAMES.map((_, rm) => ({ op, rm })) : [{ op, rm: 0 }]
);

function programSource(): string {
  const blocks = PAIRS.map(({ op, rm }, i) =>
    [
      `blk_${i}:`,
      `  ${op.asm(RM_NAMES[rm])}`,
      op.intResult ? "" : "  fmv.x.d a0, f0",
      "  ret",
    ].join("\n")
  );
  return `
  .option norvc
  .section .text
  .globl _start
_start:
  la t0, trap
  csrw mtvec, t0
  li t0, 0x6000          # mstatus.FS = Dirty
  csrs mstatus, t0
  li s0, ${ORIGIN + DATA_OFFSET}
  ld s3, 0(s0)           # record count
  addi s0, s0, 8
  la s2, jt
  li s8, 0               # record index
  li s7, 0x10000000      # UART
loop:
  beqz s3, done
  lwu t0, 0(s0)
  slli t0, t0, 3
  add t0, t0, s2
  ld t0, 0(t0)
  fld f1, 8(s0)
  fld f2, 16(s0)
  fld f3, 24(s0)
  ld a1, 8(s0)
  li a0, 0
  csrwi fflags, 0
  jalr ra, 0(t0)
  frflags s5
  ld t1, 32(s0)          # our result and flags
  ld t2, 40(s0)
  bne a0, t1, differ
  beq s5, t2, next
differ:
  mv s6, a0
  mv a0, s8              # line: record index (8 hex), QEMU's result (16 hex), fflags (2 hex)
  slli a0, a0, 32
  li a2, 8
  call puthex
  mv a0, s6
  li a2, 16
  call puthex
  slli a0, s5, 56
  li a2, 2
  call puthex
  li a0, 10
  call putc
next:
  addi s0, s0, 48
  addi s3, s3, -1
  addi s8, s8, 1
  j loop
done:
  li a0, 69              # 'E', then the number of records run
  call putc
  mv a0, s8
  li a2, 16
  call puthex
  li a0, 10
  call putc
finish:
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
  j finish
trap:
  li a0, 84              # 'T', then mcause and mepc
  call putc
  csrr a0, mcause
  li a2, 16
  call puthex
  j finish
# puthex(a0, a2): prints the top a2 nibbles of a0 in hex
puthex:
  mv t3, ra
  mv t4, a0
  mv t5, a2
1:
  srli a0, t4, 60
  call putnib
  slli t4, t4, 4
  addi t5, t5, -1
  bnez t5, 1b
  mv ra, t3
  ret
# putnib(a0): prints the low nibble of a0 in hex
putnib:
  andi a0, a0, 15
  addi a0, a0, 48
  li t2, 58
  blt a0, t2, putc
  addi a0, a0, 39
# putc(a0): polls LSR.THRE, then writes THR
putc:
  lbu t2, 5(s7)
  andi t2, t2, 0x20
  beqz t2, putc
  sb a0, 0(s7)
  ret
${blocks.join("\n")}
  .align 3
jt:
${PAIRS.map((_, i) => `  .dword blk_${i}`).join("\n")}
`;
}

/** One case: its pair, operands, and our result. */
interface Case {
  pair: number;
  a: bigint;
  b: bigint;
  c: bigint;
  result: bigint;
  flags: number;
}

/** Cases whose result changed when run with NX already set. */
const stickyFailures: string[] = [];

/** Generates cases `start` .. `start + count - 1` (case k runs pair k mod the pair count). */
function generateCases(rng: Rng, r: FpRegisters, start: number, count: number): Case[] {
  const cases: Case[] = [];
  for (let k = start; k < start + count; k++) {
    const pair = k % PAIRS.length;
    const { op, rm } = PAIRS[pair];
    const [a, b, c] = randomOperands(rng, op);
    const [result, flags] = runOurs(r, op, rm, a, b, c);
    cases.push({ pair, a, b, c, result, flags });
    // with NX already accrued (the fast paths then skip work), the result must not change
    const [again, accrued] = runOurs(r, op, rm, a, b, c, 1);
    if (again !== result || accrued !== (flags | 1)) {
      stickyFailures.push(
        `${op.name} ${RM_NAMES[rm]} ${[a, b, c].map(hex).join(" ")} with NX set: ` +
          `${hex(again)} flags 0x${accrued.toString(16)}, from clear flags ${hex(result)} ` +
          `flags 0x${flags.toString(16)}`,
      );
    }
  }
  return cases;
}

/** Every pair on every combination of special operands. */
function specialCases(r: FpRegisters): Case[] {
  const cases: Case[] = [];
  PAIRS.forEach(({ op, rm }, pair) => {
    for (const [a, b, c] of specialOperands(op)) {
      const [result, flags] = runOurs(r, op, rm, a, b, c);
      cases.push({ pair, a, b, c, result, flags });
    }
  });
  return cases;
}

/** What QEMU found different: record index -> its result and fflags. */
type Differences = Map<number, { result: bigint; flags: number }>;

/** Runs `cases` (with our results) on QEMU; returns the records where QEMU's result differs. */
async function runChunk(program: BuiltProgram, cases: Case[]): Promise<Differences> {
  const data = new DataView(new ArrayBuffer(8 + RECORD * cases.length));
  data.setBigUint64(0, BigInt(cases.length), true);
  cases.forEach((c, i) => {
    const o = 8 + RECORD * i;
    data.setUint32(o, c.pair, true);
    data.setBigUint64(o + 8, c.a, true);
    data.setBigUint64(o + 16, c.b, true);
    data.setBigUint64(o + 24, c.c, true);
    data.setBigUint64(o + 32, c.result, true);
    data.setBigUint64(o + 40, BigInt(c.flags), true);
  });
  assert.ok(program.image.length <= DATA_OFFSET, "the program outgrew its data offset");
  const image = new Uint8Array(DATA_OFFSET + data.byteLength);
  image.set(program.image);
  image.set(new Uint8Array(data.buffer), DATA_OFFSET);
  const run = await runOnQemu(
    { ...program, image },
    { cpu: CPU, timeoutSeconds: 60 + Math.ceil(cases.length / 5000) },
  );
  assert.ok(!run.timedOut, `QEMU timed out; it printed:\n${run.output.slice(0, 2000)}`);
  const lines = run.output.split("\n").filter((l) => l !== "");
  const trap = lines.find((l) => l.startsWith("T"));
  assert.equal(trap, undefined, `the QEMU program trapped (mcause in hex): ${trap}`);
  assert.equal(
    lines.at(-1),
    `E${cases.length.toString(16).padStart(16, "0")}`,
    "QEMU ran every case",
  );
  const diffs: Differences = new Map();
  for (const line of lines.slice(0, -1)) {
    diffs.set(parseInt(line.slice(0, 8), 16), {
      result: BigInt("0x" + line.slice(8, 24)),
      flags: parseInt(line.slice(24, 26), 16),
    });
  }
  return diffs;
}

function hex(v: bigint): string {
  return "0x" + v.toString(16).padStart(16, "0");
}

Deno.test({
  name: "fpu: results and fflags equal QEMU's softfloat, every operation and rounding mode",
  ignore: reason !== "" && !inCi,
  async fn() {
    if (reason) throw new Error(reason);
    const program = await buildProgram(programSource(), ORIGIN, { march: "rv64imafdc_zicsr" });
    const total = CASES * PAIRS.length;
    const rng = new Rng(SEED);
    const r = new FpRegisters();
    const failures: string[] = [];
    const perOp = new Map<string, { n: number; bad: number }>();
    let divergences = 0;
    const flagCounts = [0, 0, 0, 0, 0]; // NX, UF, OF, DZ, NV among the results
    const special = specialCases(r);
    // the special cases first, then the random ones in chunks
    const chunks = function* () {
      yield special;
      for (let start = 0; start < total; start += CHUNK) {
        yield generateCases(rng, r, start, Math.min(CHUNK, total - start));
      }
    };
    for (const chunk of chunks()) {
      const diffs = await runChunk(program, chunk);
      chunk.forEach((c, i) => {
        const { op, rm } = PAIRS[c.pair];
        const stat = perOp.get(op.name) ?? { n: 0, bad: 0 };
        stat.n++;
        for (let f = 0; f < 5; f++) if (c.flags & (1 << f)) flagCounts[f]++;
        perOp.set(op.name, stat);
        const want = diffs.get(i);
        if (want === undefined) return;
        stat.bad++;
        divergences++;
        if (failures.length < 40) {
          const operands = op.arity === 3 ? [c.a, c.b, c.c] : op.arity === 2 ? [c.a, c.b] : [c.a];
          failures.push(
            `${op.name} ${RM_NAMES[rm]} ${operands.map(hex).join(" ")}: QEMU ${hex(want.result)} ` +
              `flags 0x${want.flags.toString(16)}, ours ${hex(c.result)} flags 0x${
                c.flags.toString(16)
              }`,
          );
        }
      });
    }
    if (CASES > 500) {
      console.log(
        `fpu differential: ${special.length} special and ${total} random cases, ${divergences} divergences; per op: ` +
          [...perOp].map(([n, s]) => `${n} ${s.n}${s.bad ? ` (${s.bad} bad)` : ""}`).join(", ") +
          `; results raising NX ${flagCounts[0]}, UF ${flagCounts[1]}, OF ${flagCounts[2]}, ` +
          `DZ ${flagCounts[3]}, NV ${flagCounts[4]}`,
      );
    }
    assert.deepEqual(stickyFailures.slice(0, 40), [], "results independent of accrued flags");
    assert.equal(
      divergences,
      0,
      `${divergences} of ${special.length + total} cases differ from QEMU:\n${failures.join("\n")}`,
    );
  },
});
