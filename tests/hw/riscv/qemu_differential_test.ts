/**
 * Differential tests of our RISC-V hart against QEMU (`qemu-system-riscv64 -M virt -bios none`),
 * an oracle nobody here wrote.
 *
 * Seeded random programs (`random_program.ts`) are built once with GNU binutils and run on both
 * sides: under QEMU (one hart) and on our `qemu-virt` Machine. Each prints its registers, CSRs,
 * leaf PTEs, a checksum of the scratch RAM and its trap log on the UART; the two outputs must be
 * equal. When they differ, the program is minimised: bisection on the number of blocks finds the
 * first block that makes a difference, then items of that block are dropped as long as the
 * difference stays; the failure message shows the remaining items and the differing lines.
 *
 * Our side runs in a worker with a watchdog, so that a hart that never returns from `run` fails
 * the test with a message instead of hanging it.
 *
 * Where QEMU 7.2 (Debian 12) departs from the privileged specification, its output is corrected
 * before the comparison, and only there:
 *
 * - AMOs that fault report load causes (4, 5, 13) on QEMU 7.2; the specification says
 *   store/AMO (6, 7, 15). QEMU's cause is mapped when the instruction at mepc is an AMO (not LR).
 * - `ebreak` may leave mtval 0 or write the pc (both allowed): both print as 0.
 * - QEMU 7.2 keeps sepc[0] (the specification says it is always 0): programs write only even
 *   values to mepc and sepc.
 *
 * Other QEMU 7.2 departures are kept out of the programs by the generator (see
 * `random_program.ts`): it keeps MPP = 2 (reserved; we make it U), it does not clear MPRV on an
 * mret to S even with `priv_spec=v1.12.0`, it sets the A bit of a PTE when an AMO fails its write
 * permission, and it ignores a write of a reserved mode to stvec (we legalise it; both allowed).
 *
 * Our side runs with the board's defaults (second tier on); 10% of the blocks loop 30 times so
 * that the tier compiles them. `AXVISOR_QEMU_DIFF_SEEDS=N AXVISOR_QEMU_DIFF_FIRST=S` runs N seeds
 * from S (a soak run; the default is 16 seeds of 64 blocks).
 */

import assert from "node:assert/strict";
import { ABI_REGISTER_NAMES } from "../../../lib/hw/riscv/isa_table.ts";
import {
  FEATURES,
  generateProgram,
  type Item,
  ORIGIN,
  parseOutput,
  type RandomProgram,
  renderProgram,
  truncateProgram,
} from "./random_program.ts";
import {
  buildProgram,
  type BuiltProgram,
  type QemuState,
  qemuVersion,
  runOnQemu,
} from "./qemu_oracle.ts";

/** Seeds run by default; `AXVISOR_QEMU_DIFF_SEEDS=N` (and `_FIRST=S`) runs N seeds from S. */
const SEED_COUNT = Number(Deno.env.get("AXVISOR_QEMU_DIFF_SEEDS") ?? 16);
const FIRST_SEED = Number(Deno.env.get("AXVISOR_QEMU_DIFF_FIRST") ?? 1000);
const SEEDS = Array.from({ length: SEED_COUNT }, (_, i) => FIRST_SEED + i);
const BLOCKS = 64;
/** Seeds also run with F/D items (`AXVISOR_QEMU_DIFF_FP_SEEDS=N`, default 6). */
const FP_SEEDS = Array.from(
  { length: Number(Deno.env.get("AXVISOR_QEMU_DIFF_FP_SEEDS") ?? 6) },
  (_, i) => FIRST_SEED + 500 + i,
);
/**
 * Our side's instruction budget and watchdog. The watchdog also covers the worker's start (it
 * compiles the hart's module graph, slow on a loaded machine), hence its generous bound.
 */
const BUDGET = 20_000_000;
const WATCHDOG_MS = 60_000;

const version = await qemuVersion();
const inCi = Deno.env.get("CI") === "true";
const reason = version === undefined
  ? "qemu-system-riscv64 not found: install the Debian package qemu-system-misc"
  : "";
if (reason && !inCi) console.warn(`qemu_differential_test: skipped (${reason})`);

/** What our Machine printed, and how its run ended. */
interface OurRun {
  output: string;
  stop: string;
}

/** CSRs compared in lockstep (mtval and mcause are left out: see the module comment). */
const COMPARED_CSRS: [string, number][] = [
  ["mstatus", 0x300],
  ["mtvec", 0x305],
  ["mscratch", 0x340],
  ["mepc", 0x341],
  ["sscratch", 0x140],
  ["sepc", 0x141],
  ["scause", 0x142],
  ["stval", 0x143],
  ["stvec", 0x105],
  ["satp", 0x180],
];

const WORKER_SOURCE = `
import { loadBoard, Machine } from ${
  JSON.stringify(new URL("../../../lib/hw/boards/mod.ts", import.meta.url).href)
};
const CSRS = ${JSON.stringify(COMPARED_CSRS)};
self.onmessage = (e) => {
  const { image, origin, budget, steps } = e.data;
  const machine = new Machine(loadBoard("qemu-virt"), { slice: 1e9 });
  let output = "";
  const decoder = new TextDecoder();
  machine.onConsoleOutput((bytes) => (output += decoder.decode(bytes, { stream: true })));
  machine.load(origin, image);
  machine.boot(origin);
  if (steps === undefined) {
    const stop = machine.run(budget);
    self.postMessage({ output, stop: JSON.stringify(stop) });
    return;
  }
  // Lockstep probe: the state after exactly \`steps\` instructions (one run call, as QEMU).
  const hart = machine.harts[0];
  if (steps > 0) hart.run(steps);
  const csrs = {};
  for (const [name, num] of CSRS) csrs[name] = hart.readCsr(num).toString(16);
  const x = [];
  for (let i = 0; i < 32; i++) x.push(hart.getX(i).toString(16));
  self.postMessage({ pc: BigInt.asUintN(64, BigInt(hart.pc)).toString(16), x, csrs });
};
`;

/** Our hart's state after a number of instructions (hex strings). */
interface OurState {
  pc: string;
  x: string[];
  csrs: Record<string, string>;
}

/** Runs `program` on our qemu-virt Machine in a worker; rejects if `run` does not return. */
function runOnMachine(program: BuiltProgram): Promise<OurRun> {
  return inWorker<OurRun>({ image: program.image, origin: program.origin, budget: BUDGET });
}

/** Boots `program` and returns our hart's state after exactly `steps` instructions. */
function stateAfter(program: BuiltProgram, steps: number): Promise<OurState> {
  return inWorker<OurState>({ image: program.image, origin: program.origin, steps });
}

function inWorker<T>(message: Record<string, unknown>): Promise<T> {
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      worker.terminate();
      reject(
        new Error(
          `our hart did not return from Machine.run(${BUDGET}) within ${WATCHDOG_MS / 1000} s ` +
            `(an endless loop inside Hart.run: the budget is not honoured)`,
        ),
      );
    }, WATCHDOG_MS);
    worker.onmessage = (e: MessageEvent<T>) => {
      clearTimeout(timer);
      worker.terminate();
      resolve(e.data);
    };
    worker.onerror = (e) => {
      clearTimeout(timer);
      worker.terminate();
      e.preventDefault();
      reject(new Error(`our Machine threw: ${e.message}`));
    };
    worker.postMessage(message);
  }).finally(() => URL.revokeObjectURL(url));
}

/** Whether the 32-bit instruction at `offset` of the image is an AMO other than LR. */
function isAmoAt(image: Uint8Array, offset: number): boolean {
  if (offset < 0 || offset + 4 > image.length) return false;
  const word = new DataView(image.buffer, image.byteOffset + offset, 4).getUint32(0, true);
  return (word & 0x7f) === 0x2f && (word >>> 27) !== 0b00010;
}

/**
 * The comparable lines of an output: trap entries with the allowed choices folded (see the
 * module comment); `qemu` applies QEMU 7.2's corrections.
 */
function normalise(text: string, image: Uint8Array, qemu: boolean): string[] {
  return parseOutput(text).map(({ name, value }) => {
    const m = /^mcause=([0-9a-f]+) mepc=ORIGIN\+0x([0-9a-f]+) mtval=([0-9a-f]+)$/.exec(value);
    if (!m) return `${name}=${value}`;
    let cause = parseInt(m[1], 16);
    const epc = parseInt(m[2], 16);
    let tval = m[3];
    if (qemu && [4, 5, 13].includes(cause) && isAmoAt(image, epc)) cause += 2;
    if (cause === 3 && BigInt("0x" + tval) === BigInt(ORIGIN + epc)) tval = "0".repeat(16);
    return `${name}: mcause=${cause} mepc=ORIGIN+0x${epc.toString(16)} mtval=0x${tval}`;
  });
}

/** The differing lines of two outputs, or [] when they agree. */
function differences(ours: string, theirs: string, image: Uint8Array): string[] {
  const a = normalise(ours, image, false);
  const b = normalise(theirs, image, true);
  const out: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) out.push(`  qemu: ${b[i] ?? "(nothing)"}\n  ours: ${a[i] ?? "(nothing)"}`);
  }
  return out;
}

/** Builds and runs one program on both sides; returns the differences (empty when equal). */
async function compare(program: RandomProgram): Promise<{ diff: string[]; built: BuiltProgram }> {
  const built = await buildProgram(renderProgram(program), ORIGIN);
  const [qemu, ours] = await Promise.all([runOnQemu(built), runOnMachine(built)]);
  if (qemu.timedOut) {
    throw new Error(`QEMU timed out on seed ${program.seed}; stderr:\n${qemu.stderr}`);
  }
  if (!qemu.output.includes("traps=")) {
    throw new Error(`QEMU printed no complete report for seed ${program.seed}:\n${qemu.output}`);
  }
  const diff = differences(ours.output, qemu.output, built.image);
  if (!ours.stop.includes('"finished"')) diff.push(`  our run ended with ${ours.stop}`);
  return { diff, built };
}

/**
 * Shrinks a differing program: the shortest prefix of blocks that still differs, then the
 * fewest items of its last block. Returns the last block's items and the differences.
 */
async function minimise(
  program: RandomProgram,
): Promise<{ items: Item[]; diff: string[]; program: RandomProgram }> {
  let lo = 0, hi = program.blocks.length; // prefix hi differs; prefix lo (0 blocks) is assumed equal
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((await compare(truncateProgram(program, mid))).diff.length > 0) hi = mid;
    else lo = mid;
  }
  const prefix = truncateProgram(program, hi);
  let items = prefix.blocks[hi - 1];
  const withItems = (list: Item[]): RandomProgram => ({
    ...prefix,
    blocks: [...prefix.blocks.slice(0, hi - 1), list],
  });
  let diff = (await compare(withItems(items))).diff;
  for (let i = items.length - 1; i >= 0; i--) {
    const fewer = items.filter((_, j) => j !== i);
    const d = (await compare(withItems(fewer))).diff;
    if (d.length > 0) {
      items = fewer;
      diff = d;
    }
  }
  return { items, diff, program: withItems(items) };
}

/** The differences between QEMU's logged state and ours, as `name: qemu vs ours` lines. */
function stateDifferences(qemu: QemuState, ours: OurState): string[] {
  const out: string[] = [];
  const h = (v: bigint) => `0x${v.toString(16)}`;
  if (qemu.pc !== BigInt("0x" + ours.pc)) out.push(`pc: qemu ${h(qemu.pc)}, ours 0x${ours.pc}`);
  for (let i = 1; i < 32; i++) {
    if (qemu.x[i] !== BigInt("0x" + ours.x[i])) {
      out.push(`x${i}/${ABI_REGISTER_NAMES[i]}: qemu ${h(qemu.x[i])}, ours 0x${ours.x[i]}`);
    }
  }
  for (const [name] of COMPARED_CSRS) {
    const q = qemu.csrs[name];
    if (q !== undefined && q !== BigInt("0x" + ours.csrs[name])) {
      out.push(`${name}: qemu ${h(q)}, ours 0x${ours.csrs[name]}`);
    }
  }
  return out;
}

/**
 * Finds the first instruction after which our hart's registers or CSRs differ from QEMU's
 * single-step log (from the first block on: the prologue sets every register). Returns a
 * description with the instruction, the operands before it and both results, or undefined when
 * the states never differ (a difference in memory only shows in the checksum loop).
 */
async function locate(program: RandomProgram): Promise<string | undefined> {
  const built = await buildProgram(renderProgram(program), ORIGIN);
  const { trace } = await runOnQemu(built, { trace: true });
  const blocks = BigInt(built.symbols.get("blocks") ?? ORIGIN);
  let lo = trace.findIndex((s) => s.pc === blocks);
  if (lo < 0) return undefined;
  if (stateDifferences(trace[lo], await stateAfter(built, lo)).length > 0) {
    return `the states differ already when the first block starts (instruction ${lo})`;
  }
  let hi = trace.length - 1;
  if (stateDifferences(trace[hi], await stateAfter(built, hi)).length === 0) return undefined;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (stateDifferences(trace[mid], await stateAfter(built, mid)).length > 0) hi = mid;
    else lo = mid;
  }
  const before = trace[lo];
  const pc = before.pc.toString(16);
  const listing =
    (await built.disassembly()).split("\n").find((l) => l.trimStart().startsWith(`${pc}:`)) ??
      `(no disassembly at 0x${pc})`;
  const used = new Set(
    [...listing.matchAll(/\b(zero|ra|sp|gp|tp|[ast]\d+|s1[01]|x\d+)\b/g)].map((m) => m[1]),
  );
  const operands = [...used].map((name) => {
    const i = name.startsWith("x") ? Number(name.slice(1)) : ABI_REGISTER_NAMES.indexOf(name);
    return i >= 0 && i < 32 ? `${name}=0x${before.x[i].toString(16)}` : name;
  });
  return `instruction ${lo} of the run: ${listing.trim()}\n` +
    `  before it (both agree): ${operands.join(" ")} mstatus=0x${
      (before.csrs.mstatus ?? 0n).toString(16)
    }\n  after it:\n    ${stateDifferences(trace[hi], await stateAfter(built, hi)).join("\n    ")}`;
}

for (const seed of SEEDS) {
  Deno.test({
    name: `qemu differential: random RV64IMAC+Zba/Zbb/Zbs program, seed ${seed}`,
    ignore: reason !== "" && !inCi,
    sanitizeOps: true,
    sanitizeResources: true,
    async fn() {
      if (reason) assert.fail(`${reason} (CI=true: .ci/run installs it)`);
      const program = generateProgram(seed, { blocks: BLOCKS });
      const { diff } = await compare(program);
      if (diff.length === 0) return;
      const { items, diff: minimal, program: reduced } = await minimise(program);
      const located = await locate(reduced);
      assert.fail(
        `seed ${seed}: our hart and QEMU (${version}) disagree.\n` +
          `Minimised: the first differing prefix ends with these items of its last block ` +
          `(blocks before it unchanged; regenerate with generateProgram(${seed}, { blocks: ${BLOCKS} })):\n` +
          items.map((it) => `  # ${it.feature}\n${it.lines.map((l) => `    ${l}`).join("\n")}`)
            .join("\n") +
          `\nDiffering output lines:\n${minimal.join("\n")}\n` +
          `First differing architectural state (QEMU -singlestep log vs our hart in lockstep): ${
            located ?? "none: the registers and CSRs agree all along (memory differs)"
          }\n` +
          `Full program differences:\n${diff.slice(0, 20).join("\n")}`,
      );
    },
  });
}

for (const seed of FP_SEEDS) {
  Deno.test({
    name: `qemu differential: random RV64GC+Zba/Zbb/Zbs program with F/D, seed ${seed}`,
    ignore: reason !== "" && !inCi,
    sanitizeOps: true,
    sanitizeResources: true,
    async fn() {
      if (reason) assert.fail(`${reason} (CI=true: .ci/run installs it)`);
      const program = generateProgram(seed, { blocks: BLOCKS, fp: true });
      const { diff } = await compare(program);
      if (diff.length === 0) return;
      const { items, diff: minimal, program: reduced } = await minimise(program);
      const located = await locate(reduced);
      assert.fail(
        `seed ${seed}: our hart and QEMU (${version}) disagree.\n` +
          `Minimised: the first differing prefix ends with these items of its last block ` +
          `(blocks before it unchanged; regenerate with generateProgram(${seed}, { blocks: ${BLOCKS}, fp: true })):\n` +
          items.map((it) => `  # ${it.feature}\n${it.lines.map((l) => `    ${l}`).join("\n")}`)
            .join("\n") +
          `\nDiffering output lines:\n${minimal.join("\n")}\n` +
          `First differing architectural state (QEMU -singlestep log vs our hart in lockstep): ${
            located ?? "none: the registers and CSRs agree all along (memory differs)"
          }\n` +
          `Full program differences:\n${diff.slice(0, 20).join("\n")}`,
      );
    },
  });
}

Deno.test("qemu differential: the generator is deterministic and prefix-stable", () => {
  const a = generateProgram(7, { blocks: 10 });
  const b = generateProgram(7, { blocks: 10 });
  assert.equal(renderProgram(a), renderProgram(b));
  const prefix = generateProgram(7, { blocks: 4 });
  assert.deepEqual(prefix.blocks, a.blocks.slice(0, 4));
  assert.notEqual(renderProgram(generateProgram(8, { blocks: 10 })), renderProgram(a));
  const features = new Set(
    generateProgram(1, { blocks: 64, fp: true }).blocks.flat().map((i) => i.feature),
  );
  assert.equal(features.size, FEATURES.length, `every feature appears: ${[...features]}`);
});

Deno.test("qemu differential: normalisation folds only QEMU 7.2's documented departures", () => {
  // amoadd.w a0, a1, (a2) at offset 0; a load (lw) at offset 4
  const image = new Uint8Array(8);
  const view = new DataView(image.buffer);
  view.setUint32(0, 0x00b6252f, true);
  view.setUint32(4, 0x00062503, true);
  const qemu = "t 000000000000000d 00000000 0000000040000000\n" +
    "t 000000000000000d 00000004 0000000040000000\n" +
    "t 0000000000000003 00000008 0000000000000000\n";
  const ours = "t 000000000000000f 00000000 0000000040000000\n" +
    "t 000000000000000d 00000004 0000000040000000\n" +
    "t 0000000000000003 00000008 0000000080000008\n";
  assert.deepEqual(differences(ours, qemu, image), []);
  const wrong = ours.replace("000000000000000d 00000004", "000000000000000f 00000004");
  assert.equal(differences(wrong, qemu, image).length, 1, "a load reported as a store differs");
});
