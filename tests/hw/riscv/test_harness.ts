/**
 * Shared helper of the per-instruction tests: builds test programs in the style of the official
 * riscv-tests (each case loads registers, executes, compares with the expected value and, on a
 * mismatch, writes `(testnum << 1) | 1` to `tohost`), assembles them with our assembler, runs them
 * on a hart through the bare runner until `tohost`, and turns a failure into a message that names
 * the case. {@linkcode instructionSuites} registers a test file's suites as Deno tests.
 *
 * Register conventions of a case body: `gp` holds the test number, `x14` the value checked (it is
 * reported on failure), `x7` the expected value; `t0`, `t1`, `t2`, `t3` may be clobbered by the
 * trap handler. An unexpected trap fails the current case with `x14` = mcause.
 *
 * The same programs also assemble with GNU as and run on QEMU's `spike` machine
 * ({@linkcode runOnQemu}), which checks the expected values against an independent
 * implementation.
 *
 * @module
 */

import assert from "node:assert/strict";
import { assemble } from "../../../lib/hw/riscv/assembler.ts";
import { prepareRun, runMachine } from "../../../lib/hw/bare_runner.ts";

/** One case of a suite. */
export interface TestCase {
  /** Human-readable description, e.g. `add 0x1 + 0x2 = 0x3`. */
  name: string;
  /** Assembly lines (without the test-number prologue). */
  body: string;
  /** Why this case is left out of the QEMU oracle run (QEMU deviates from the ISA there). */
  notOnQemu?: string;
}

const MASK64 = (1n << 64n) - 1n;
/** Wraps to a signed 64-bit value. */
export const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
/** Wraps to an unsigned 64-bit value. */
export const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
/** Sign-extends the low 32 bits to 64. */
export const sext32 = (v: bigint): bigint => BigInt.asIntN(32, v);
/** Formats a value as an unsigned 64-bit hex literal for `li`. */
export const lit = (v: bigint): string => `0x${(v & MASK64).toString(16)}`;

/** A named program of cases, one per instruction or topic. */
export class Suite {
  /** Suite name (the instruction or topic). */
  readonly name: string;
  /** The cases, test number = index + 1. */
  readonly cases: TestCase[] = [];
  /** Extra lines placed in the data section. */
  readonly data: string[] = [];
  /** Needs the C extension (GNU as gets `-march=rv64imac`). */
  compressed = false;

  /** Creates an empty suite. */
  constructor(name: string) {
    this.name = name;
  }

  /** Adds a case with a raw body; the body must `j fail` (or branch to it) on a mismatch. */
  test(name: string, body: string, notOnQemu?: string): this {
    this.cases.push({ name, body, notOnQemu });
    return this;
  }

  /** Adds data-section lines (labels and directives). */
  addData(text: string): this {
    this.data.push(text);
    return this;
  }

  /** `op x14, x1, x2` with x1 = a, x2 = b; expects `expected`. Also covers rd = rs1, rs2 = rd. */
  rr(op: string, a: bigint, b: bigint, expected: bigint): this {
    return this.test(
      `${op} ${lit(a)}, ${lit(b)} -> ${lit(expected)}`,
      `li x1, ${lit(a)}\nli x2, ${lit(b)}\n${op} x14, x1, x2\n${check("x14", expected)}`,
    );
  }

  /** The register-aliasing forms of `rr`: rd = rs1, rd = rs2, rs1 = rs2 = rd. */
  rrAliases(op: string, a: bigint, b: bigint, expected: bigint, same: bigint): this {
    this.test(
      `${op} rd=rs1 ${lit(a)}, ${lit(b)} -> ${lit(expected)}`,
      `li x1, ${lit(a)}\nli x2, ${lit(b)}\n${op} x1, x1, x2\nmv x14, x1\n${check("x14", expected)}`,
    );
    this.test(
      `${op} rd=rs2 ${lit(a)}, ${lit(b)} -> ${lit(expected)}`,
      `li x1, ${lit(a)}\nli x2, ${lit(b)}\n${op} x2, x1, x2\nmv x14, x2\n${check("x14", expected)}`,
    );
    return this.test(
      `${op} rd=rs1=rs2 ${lit(a)} -> ${lit(same)}`,
      `li x1, ${lit(a)}\n${op} x1, x1, x1\nmv x14, x1\n${check("x14", same)}`,
    );
  }

  /** The x0 forms of `rr`: x0 as each source, and x0 as the destination (stays 0). */
  rrZero(op: string, a: bigint, zeroFirst: bigint, zeroSecond: bigint, zeroBoth: bigint): this {
    this.test(
      `${op} x0, ${lit(a)} -> ${lit(zeroFirst)}`,
      `li x2, ${lit(a)}\n${op} x14, x0, x2\n${check("x14", zeroFirst)}`,
    );
    this.test(
      `${op} ${lit(a)}, x0 -> ${lit(zeroSecond)}`,
      `li x1, ${lit(a)}\n${op} x14, x1, x0\n${check("x14", zeroSecond)}`,
    );
    this.test(`${op} x0, x0 -> ${lit(zeroBoth)}`, `${op} x14, x0, x0\n${check("x14", zeroBoth)}`);
    return this.test(
      `${op} into x0 leaves x0 = 0`,
      `li x1, ${lit(a)}\nli x2, ${lit(a)}\n${op} x0, x1, x2\nmv x14, x0\n${check("x14", 0n)}`,
    );
  }

  /** `op x14, x1, imm` with x1 = a; expects `expected`. */
  ri(op: string, a: bigint, imm: number | bigint, expected: bigint): this {
    return this.test(
      `${op} ${lit(a)}, ${imm} -> ${lit(expected)}`,
      `li x1, ${lit(a)}\n${op} x14, x1, ${imm}\n${check("x14", expected)}`,
    );
  }

  /** Immediate forms with aliasing and x0: rd = rs1, rs1 = x0, rd = x0. */
  riAliases(op: string, a: bigint, imm: number, expected: bigint, fromZero: bigint): this {
    this.test(
      `${op} rd=rs1 ${lit(a)}, ${imm} -> ${lit(expected)}`,
      `li x1, ${lit(a)}\n${op} x1, x1, ${imm}\nmv x14, x1\n${check("x14", expected)}`,
    );
    this.test(
      `${op} x0, ${imm} -> ${lit(fromZero)}`,
      `${op} x14, x0, ${imm}\n${check("x14", fromZero)}`,
    );
    return this.test(
      `${op} into x0 leaves x0 = 0`,
      `li x1, ${lit(a)}\n${op} x0, x1, ${imm}\nmv x14, x0\n${check("x14", 0n)}`,
    );
  }

  /** `op x14, offset(x2)` with x2 = address of `label`; expects `expected`. */
  load(op: string, label: string, offset: number, expected: bigint): this {
    return this.test(
      `${op} ${label}${offset >= 0 ? "+" : ""}${offset} -> ${lit(expected)}`,
      `la x2, ${label}\n${op} x14, ${offset}(x2)\n${check("x14", expected)}`,
    );
  }

  /** Stores `value` with `storeOp` at label+offset, reads it back with `loadOp`. */
  store(
    storeOp: string,
    loadOp: string,
    label: string,
    offset: number,
    value: bigint,
    expected: bigint,
  ): this {
    return this.test(
      `${storeOp} ${lit(value)} at ${label}${offset >= 0 ? "+" : ""}${offset}, ${loadOp} -> ${
        lit(expected)
      }`,
      `la x2, ${label}\nli x1, ${lit(value)}\n${storeOp} x1, ${offset}(x2)\n` +
        `${loadOp} x14, ${offset}(x2)\n${check("x14", expected)}`,
    );
  }

  /**
   * A conditional branch on x1 = a, x2 = b, taken or not; checks it both forward and backward,
   * in the style of riscv-tests' TEST_BR2_OP_TAKEN / NOTTAKEN.
   */
  branch(op: string, a: bigint, b: bigint, taken: boolean): this {
    const setup = `li x1, ${lit(a)}\nli x2, ${lit(b)}\nli x14, 0\n`;
    const body = taken
      ? `${setup}${op} x1, x2, 2f\nj fail\n1: j 3f\n2: ${op} x1, x2, 1b\nj fail\n3:`
      : `${setup}${op} x1, x2, 1f\nj 2f\n1: j fail\n2: ${op} x1, x2, 1b\n3:`;
    return this.test(`${op} ${lit(a)}, ${lit(b)} ${taken ? "taken" : "not taken"}`, body);
  }
}

/** `mv`-free comparison: x7 = expected, branch to `fail` when `reg` differs. */
export function check(reg: string, expected: bigint): string {
  const move = reg === "x14" ? "" : `mv x14, ${reg}\n`;
  return `${move}li x7, ${lit(expected)}\nbne x14, x7, fail`;
}

/** Arms the trap handler: the next trap is recorded (cause, tval, epc) and skipped. */
export const ARM_TRAP = "la t0, trap_armed\nli t1, 1\nsd t1, 0(t0)";

/** Checks that the armed trap happened with `cause` (x14 = recorded mcause). */
export function checkTrap(cause: number): string {
  return `la t0, trap_record\nld x14, 0(t0)\n${check("x14", BigInt(cause))}`;
}

const PROLOGUE = `
.text
.globl _start
_start:
  la t0, trap_handler
  csrw mtvec, t0
  li x14, 0
`;

const EPILOGUE = `
pass:
  fence
  li gp, 1
  la t5, tohost
  sw gp, 0(t5)
  sw zero, 4(t5)
1: j 1b

fail:
  la t5, fail_value
  sd x14, 0(t5)
  sd x7, 8(t5)
  fence
  slli gp, gp, 1
  ori gp, gp, 1
  la t5, tohost
  sw gp, 0(t5)
  sw zero, 4(t5)
2: j 2b

.balign 4
trap_handler:
  la t0, trap_armed
  ld t1, 0(t0)
  beqz t1, 4f
  sd zero, 0(t0)
  la t0, trap_record
  csrr t1, mcause
  sd t1, 0(t0)
  csrr t1, mtval
  sd t1, 8(t0)
  csrr t1, mepc
  sd t1, 16(t0)
  lhu t2, 0(t1)
  andi t2, t2, 3
  li t3, 3
  addi t1, t1, 2
  bne t2, t3, 3f
  addi t1, t1, 2
3:
  csrw mepc, t1
  mret
4:
  la t0, unexpected_trap
  li t1, 1
  sd t1, 0(t0)
  csrr t1, mepc
  sd t1, 8(t0)
  csrr t1, mtval
  sd t1, 16(t0)
  csrr x14, mcause
  li x7, -1
  j fail
`;

function dataSection(suite: Suite, gnu: boolean): string {
  const size = (name: string) => (gnu ? `.size ${name}, 8\n` : "");
  return `
.data
.balign 64
.globl tohost
tohost: .dword 0
${size("tohost")}.balign 64
.globl fromhost
fromhost: .dword 0
${size("fromhost")}.balign 8
fail_value: .dword 0, 0
trap_armed: .dword 0
trap_record: .dword 0, 0, 0
unexpected_trap: .dword 0, 0, 0
.balign 64
${suite.data.join("\n")}
`;
}

/** The test-number prologue and body of each case, with a `test_N:` label. */
function casesText(suites: Suite[], gnu: boolean): { text: string; names: string[] } {
  const names: string[] = [];
  const parts: string[] = [];
  for (const suite of suites) {
    for (const c of suite.cases) {
      if (gnu && c.notOnQemu) continue;
      names.push(`${suite.name}: ${c.name}`);
      const n = names.length;
      parts.push(`test_${n}:\n  li gp, ${n}\n${indent(farFailBranches(c.body))}`);
    }
  }
  return { text: parts.join("\n"), names };
}

const INVERSE: Record<string, string> = {
  beq: "bne",
  bne: "beq",
  blt: "bge",
  bge: "blt",
  bltu: "bgeu",
  bgeu: "bltu",
  beqz: "bnez",
  bnez: "beqz",
};

/**
 * Rewrites `bxx ..., fail` as `inverse ..., 99f; j fail; 99:` so that `fail` may lie farther than
 * a conditional branch reaches (our assembler does not relax branches).
 */
export function farFailBranches(text: string): string {
  return text.split("\n").map((line) => {
    const m = /^(\s*)(b[a-z]+)\s+(.*),\s*fail\s*$/.exec(line);
    if (!m || !INVERSE[m[2]]) return line;
    return `${m[1]}${INVERSE[m[2]]} ${m[3]}, 99f\n${m[1]}j fail\n99:`;
  }).join("\n");
}

const indent = (text: string) =>
  text.split("\n").map((l) => (l.endsWith(":") || /^\d+:/.test(l) ? l : `  ${l}`)).join("\n");

/** The complete program text of one or more suites (data sections concatenated). */
export function programSource(suites: Suite[], gnu = false): { source: string; names: string[] } {
  const { text, names } = casesText(suites, gnu);
  const data = [...new Set(suites.flatMap((s) => s.data))].join("\n");
  const merged = new Suite("all").addData(data);
  return { source: `${PROLOGUE}${text}\n  j pass\n${EPILOGUE}${dataSection(merged, gnu)}`, names };
}

/** The outcome of running a suite on our hart. */
export interface SuiteResult {
  /** `true` when the program stored 1 to `tohost`. */
  passed: boolean;
  /** For a failure: the failing case's number, name, and the checked/expected values. */
  failure?: { number: number; name: string; got: bigint; expected: bigint; trap?: string };
  /** Instructions retired. */
  instret: number;
  /** The bare runner's closing message. */
  message: string;
}

const ORIGIN = 0x8000_0000;

/** Assembles a suite with our assembler and runs it on a one-hart bare machine. */
export function runSuite(suite: Suite, maxInsns = 2_000_000): SuiteResult {
  const { source, names } = programSource([suite]);
  const program = assemble(source, { origin: ORIGIN, fileName: `${suite.name}.S` });
  const symbol = (name: string): number => {
    const value = program.symbols.get(name);
    if (value === undefined) throw new Error(`test program ${suite.name} lacks symbol ${name}`);
    return value;
  };
  const prepared = prepareRun({
    image: { name: `${suite.name}.bin`, bytes: program.image },
    tohost: symbol("tohost"),
  });
  prepared.target.harts[0].reset(symbol("_start"), 3);
  const result = runMachine(prepared, { maxInsns });
  if (result.outcome === "pass") {
    return { passed: true, instret: result.instret, message: result.message };
  }
  if (result.outcome !== "fail" || result.testNumber === undefined) {
    return { passed: false, instret: result.instret, message: result.message };
  }
  const read = (name: string, index = 0) =>
    prepared.target.bus.read64(symbol(name) + 8 * index) ?? 0n;
  const trapped = read("unexpected_trap") === 1n;
  return {
    passed: false,
    instret: result.instret,
    message: result.message,
    failure: {
      number: result.testNumber,
      name: names[result.testNumber - 1] ?? `test ${result.testNumber}`,
      got: read("fail_value"),
      expected: read("fail_value", 1),
      trap: trapped
        ? `unexpected trap: mcause ${read("fail_value")}, mepc 0x${
          read("unexpected_trap", 1).toString(16)
        }, mtval 0x${read("unexpected_trap", 2).toString(16)}`
        : undefined,
    },
  };
}

/** Throws an error naming the failing case (number and name) and the values it saw. */
export function assertSuitePasses(suite: Suite, maxInsns?: number): void {
  const result = runSuite(suite, maxInsns);
  if (result.passed) return;
  const f = result.failure;
  if (!f) throw new Error(`suite ${suite.name} did not pass: ${result.message}`);
  throw new Error(
    `suite ${suite.name}: test ${f.number} failed: ${f.name}\n  ` +
      (f.trap ?? `got ${lit(f.got)}, expected ${lit(f.expected)}`),
  );
}

/** The suites of one per-instruction test file, built up and then registered as Deno tests. */
export interface InstructionSuites {
  /** The suites so far, in the order they were added (push a hand-built suite here). */
  readonly suites: Suite[];
  /** Creates a suite named `name`, lets `build` add its cases, and appends it to `suites`. */
  suite(name: string, build: (s: Suite) => void): Suite;
  /**
   * Registers one Deno test per suite (`<prefix>: <suite> (<N> cases)`) and one that runs every
   * suite on QEMU (ignored when {@linkcode haveQemuOracle} is false). Call it once, after the last
   * suite is complete.
   */
  register(): void;
}

/**
 * Starts the suites of a test file whose tests are named `<prefix>: ...`; with `compressed`, every
 * suite made by `suite` needs the C extension.
 */
export function instructionSuites(
  prefix: string,
  options: { compressed?: boolean } = {},
): InstructionSuites {
  const suites: Suite[] = [];
  return {
    suites,
    suite(name, build) {
      const s = new Suite(name);
      if (options.compressed) s.compressed = true;
      build(s);
      suites.push(s);
      return s;
    },
    register() {
      for (const s of suites) {
        Deno.test(`${prefix}: ${s.name} (${s.cases.length} cases)`, () => assertSuitePasses(s));
      }
      Deno.test({
        name:
          `${prefix}: every expected value agrees with QEMU (GNU as + qemu-system-riscv64 -M spike)`,
        ignore: !haveQemuOracle(),
        fn() {
          assert.equal(runOnQemu(suites), undefined);
        },
      });
    },
  };
}

/** Where the GNU toolchain and QEMU live, when installed. */
const GNU_AS = "riscv64-unknown-elf-as";
const GNU_LD = "riscv64-unknown-elf-ld";
const QEMU = "qemu-system-riscv64";

/** `true` when GNU as, ld and QEMU are installed (the oracle run needs them). */
export function haveQemuOracle(): boolean {
  return [GNU_AS, GNU_LD, QEMU].every((tool) => {
    try {
      return new Deno.Command("which", { args: [tool], stdout: "null", stderr: "null" })
        .outputSync().success;
    } catch {
      return false;
    }
  });
}

const LINKER_SCRIPT = `OUTPUT_ARCH(riscv)
ENTRY(_start)
SECTIONS {
  . = 0x80000000;
  .text : { *(.text) }
  . = ALIGN(0x1000);
  .data : { *(.data) }
  .bss : { *(.bss) }
}
`;

/**
 * Assembles the suites with GNU as into one program and runs it on QEMU's `spike` machine (an
 * independent RISC-V implementation). Returns `undefined` when every case passed, else the name
 * of the failing case (QEMU's exit status is the test number modulo 256, so the suites are rerun
 * one by one to find it).
 */
export function runOnQemu(suites: Suite[]): string | undefined {
  const dir = Deno.makeTempDirSync({ prefix: "insn_oracle_" });
  try {
    const exitOf = (list: Suite[], tag: string) => {
      const { source } = programSource(list, true);
      const march = list.some((s) => s.compressed)
        ? "rv64imafdc_zicsr_zifencei_zba_zbb_zbs"
        : "rv64imafd_zicsr_zifencei_zba_zbb_zbs";
      Deno.writeTextFileSync(`${dir}/${tag}.S`, source);
      Deno.writeTextFileSync(`${dir}/link.ld`, LINKER_SCRIPT);
      run(GNU_AS, [`-march=${march}`, "-o", `${dir}/${tag}.o`, `${dir}/${tag}.S`]);
      run(GNU_LD, ["-T", `${dir}/link.ld`, "-o", `${dir}/${tag}.elf`, `${dir}/${tag}.o`]);
      const out = new Deno.Command("timeout", {
        args: [
          "60",
          QEMU,
          "-M",
          "spike",
          "-bios",
          "none",
          "-kernel",
          `${dir}/${tag}.elf`,
          "-nographic",
        ],
        stdout: "piped",
        stderr: "piped",
      }).outputSync();
      return out.code;
    };
    if (exitOf(suites, "all") === 0) return undefined;
    for (const [i, suite] of suites.entries()) {
      const code = exitOf([suite], `s${i}`);
      if (code !== 0) {
        const names = programSource([suite], true).names;
        return `${suite.name}: test ${code} (${names[code - 1] ?? "?"}) fails on QEMU`;
      }
    }
    return "the combined program fails on QEMU but every suite passes alone";
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

function run(cmd: string, args: string[]): void {
  const out = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).outputSync();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
}
