/**
 * Tests of `deno task bare`: the HTIF exit-code contract, budgets, stops, tracing, statistics,
 * loading errors, boards (OpenSBI and U-Boot on qemu-virt), and the real process.
 */

import assert from "node:assert/strict";
import { type BareIo, main, parseAddress, parseLoadSpec, unescape } from "../../bin/bare.ts";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with files from `files` (else the real filesystem). */
function bare(args: string[], files: Record<string, string | Uint8Array> = {}): Run {
  let stdout = "";
  let stderr = "";
  const decoder = new TextDecoder();
  const io: BareIo = {
    stdout: (bytes) => (stdout += decoder.decode(bytes)),
    stderr: (text) => (stderr += text),
    readFile: (path) => {
      const f = files[path];
      if (f === undefined) return Deno.readFileSync(path);
      return typeof f === "string" ? new TextEncoder().encode(f) : f;
    },
    readText: (path) => {
      const f = files[path];
      if (f === undefined) return Deno.readTextFileSync(path);
      return typeof f === "string" ? f : decoder.decode(f);
    },
    now: (() => {
      let t = 0;
      return () => (t += 250); // a deterministic clock: every reading 0.25 s later
    })(),
  };
  const code = main(args, io);
  return { code, stdout, stderr };
}

const HTIF = `
.data
.balign 64
.globl tohost
tohost: .dword 0
.balign 64
.globl fromhost
fromhost: .dword 0
`;
const exitWith = (value: number) =>
  `.text\n_start:\n  li a0, ${value}\n  la t0, tohost\n  sd a0, 0(t0)\n1: j 1b\n${HTIF}`;

Deno.test("bare: tohost = 1 passes with exit 0 and prints nothing", () => {
  const r = bare(["pass.S"], { "pass.S": exitWith(1) });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, "");
});

Deno.test("bare: another odd tohost value fails with exit 1 and names the test number", () => {
  const r = bare(["fail.S"], { "fail.S": exitWith((7 << 1) | 1) });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\*\*\* FAILED \*\*\* test 7 \(tohost = 0xf\)/);
});

Deno.test("bare: --max-insns bounds the run: exit 2 with a message", () => {
  const r = bare(["--max-insns", "1000", "spin.S"], { "spin.S": `.text\n1: j 1b\n${HTIF}` });
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /instruction budget spent \(--max-insns 1000\) without an exit \(hart 0 pc 0x80000000\)/,
  );
});

Deno.test("bare: a budget exactly large enough still sees the exit", () => {
  // li a0,1 (1) + la (2) + sd (1) = 4 instructions until tohost is written.
  assert.equal(bare(["--max-insns", "4", "p.S"], { "p.S": exitWith(1) }).code, 0);
  assert.equal(bare(["--max-insns", "3", "p.S"], { "p.S": exitWith(1) }).code, 2);
});

Deno.test("bare: wfi with nothing to wake the hart stops with exit 3", () => {
  const r = bare(["wfi.S"], { "wfi.S": `.text\nwfi\n1: j 1b\n${HTIF}` });
  assert.equal(r.code, 3);
  assert.match(r.stderr, /every hart waits in wfi and nothing can wake one/);
});

Deno.test("bare: a trap loop that retires nothing stops with exit 3 and the trap state", () => {
  // mtvec = 0: nothing answers there, so every fetch faults back to 0.
  const r = bare(["loop.S"], { "loop.S": `.text\ncsrw mtvec, zero\nli t0, 0x100\njr t0\n${HTIF}` });
  assert.equal(r.code, 3, r.stderr);
  assert.match(
    r.stderr,
    /no instruction retires \(a trap loop\): hart 0 pc 0x0, mcause 1, mepc 0x0/,
  );
});

Deno.test("bare: HTIF console output and proxy-kernel write go to stdout", () => {
  const source = `.text
_start:
  la t0, tohost
  li t1, 0x0101000000000048   # putchar 'H'
  sd t1, 0(t0)
1: ld t1, 0(t0)
  bnez t1, 1b                  # wait until the host took it
  la t3, fromhost
  sd zero, 0(t3)               # consume the answer
  li t1, 0x0101000000000069   # putchar 'i'
  sd t1, 0(t0)
2: ld t1, 0(t0)
  bnez t1, 2b
  sd zero, 0(t3)
  la t2, magic
  li t1, 64                    # write(1, msg, 3)
  sd t1, 0(t2)
  li t1, 1
  sd t1, 8(t2)
  la t1, msg
  sd t1, 16(t2)
  li t1, 3
  sd t1, 24(t2)
  sd t2, 0(t0)
3: la t3, fromhost
  ld t1, 0(t3)
  beqz t1, 3b
  li t1, 1
  sd t1, 0(t0)
4: j 4b
${HTIF}
.balign 64
magic: .zero 64
msg: .ascii "!\\n."
`;
  const r = bare(["hello.S"], { "hello.S": source });
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "Hi!\n.");
});

Deno.test("bare: --stats prints instructions retired and MIPS", () => {
  const r = bare(["--stats", "p.S"], { "p.S": exitWith(1) });
  assert.equal(r.code, 0);
  const lines = r.stderr.trim().split("\n");
  assert.match(lines[0], /^instructions retired: \d+$/);
  assert.match(lines[1], /^host time: \d+\.\d{3} s$/);
  assert.match(lines[2], /^MIPS: \d+\.\d$/);
  assert.ok(Number(lines[0].split(": ")[1]) >= 4);
});

Deno.test("bare: --stats counts exactly the instructions up to and including the tohost store", () => {
  // li, la (auipc + addi), sd: 4 instructions; the spin loop after the store never runs.
  for (const budget of [[], ["--max-insns", "4999999"], ["--max-insns", "4"]]) {
    const r = bare(["--stats", ...budget, "p.S"], { "p.S": exitWith(1) });
    assert.equal(r.code, 0, `${budget.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.split("\n")[0], "instructions retired: 4", budget.join(" "));
  }
  // HTIF console output stops the run too, and the guest goes on after it.
  const putc = `.text\n_start:\n  la t0, tohost\n  li t1, (1 << 56) | (1 << 48) | 'A'\n` +
    `  sd t1, 0(t0)\n  li t1, 1\n  sd t1, 0(t0)\n1: j 1b\n${HTIF}`;
  const r = bare(["--stats", "putc.S"], { "putc.S": putc });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "A");
  assert.match(r.stderr, /^instructions retired: (\d+)\n/);
  const n = Number(r.stderr.split("\n")[0].split(": ")[1]);
  assert.ok(n > 4 && n < 20, `retired ${n}: the run ended at the second tohost store`);
});

Deno.test("bare: --trace steps an LR/SC retry loop to success", () => {
  const source = `.text
_start:
  la t0, counter
  li t3, 3
1:lr.d t1, (t0)
  addi t1, t1, 1
  sc.d t2, t1, (t0)
  bnez t2, 1b
  addi t3, t3, -1
  bnez t3, 1b
  ld t1, 0(t0)
  addi t1, t1, -3
  seqz t1, t1        # 1 = pass when counter == 3
  la t0, tohost
  sd t1, 0(t0)
2:j 2b
.data
.balign 8
counter: .dword 0
${HTIF}`;
  const r = bare(["--trace", "--trace-limit", "1000", "--max-insns", "1000", "lrsc.S"], {
    "lrsc.S": source,
  });
  assert.equal(r.code, 0, r.stderr.split("\n").slice(-3).join("\n"));
  assert.equal(
    r.stderr.split("\n").filter((l) => / sc\.d /.test(l)).length,
    3,
    "each SC succeeded",
  );
});

Deno.test("bare: --trace prints pc, bits and disassembly of each instruction, bounded", () => {
  const r = bare(["--trace", "--trace-limit", "3", "p.S"], { "p.S": exitWith(1) });
  assert.equal(r.code, 0);
  const lines = r.stderr.trim().split("\n");
  assert.deepEqual(lines, [
    "core   0: 0x0000000080000000 (0x00100513) addi a0,zero,1",
    "core   0: 0x0000000080000004 (0x00000297) auipc t0,0x0",
    "core   0: 0x0000000080000008 (0x03c28293) addi t0,t0,60",
    "trace limit reached (3); running on without tracing",
  ]);
});

Deno.test("bare: --trace shows compressed instructions with 16 bits", () => {
  const r = bare(["--trace", "--trace-limit", "1", "c.S"], {
    "c.S": `.text\nc.li a0, 1\nla t0, tohost\nsd a0, 0(t0)\n1: j 1b\n${HTIF}`,
  });
  assert.equal(r.code, 0);
  assert.equal(r.stderr.split("\n")[0], "core   0: 0x0000000080000000 (0x4505) c.li a0,1");
});

Deno.test("bare: a raw binary runs at 0x80000000 and --tohost arms HTIF", () => {
  // li a0, 1; auipc t0, 1; sd a0, 0(t0); j .
  const words = [0x00100513, 0x00001297, 0x00a2b023, 0x0000006f];
  const bytes = new Uint8Array(new Uint32Array(words).buffer);
  assert.equal(bare(["--tohost", "0x80001004", "prog.bin"], { "prog.bin": bytes }).code, 0);
  const r = bare(["--max-insns", "100", "prog.bin"], { "prog.bin": bytes });
  assert.equal(r.code, 2, "without tohost nothing ends the run");
});

Deno.test("bare: --load copies extra images (raw at an address)", () => {
  // The payload holds the value the program stores to tohost.
  const source =
    `.text\n  li t1, 0x80100000\n  ld a0, 0(t1)\n  la t0, tohost\n  sd a0, 0(t0)\n1: j 1b\n${HTIF}`;
  const payload = new Uint8Array([(9 << 1) | 1, 0, 0, 0, 0, 0, 0, 0]);
  const r = bare(["--load", "data.bin@0x8010_0000", "p.S"], { "p.S": source, "data.bin": payload });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /test 9/);
});

Deno.test("bare: bad images and arguments exit 4 with a message naming the problem", () => {
  const elf = new Uint8Array(64);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  let r = bare(["x.elf"], { "x.elf": elf });
  assert.equal(r.code, 4);
  assert.match(r.stderr, /^bare: x\.elf: ELF32 file/);

  r = bare(["/nonexistent/image.elf"]);
  assert.equal(r.code, 4);
  assert.match(r.stderr, /^bare: .*nonexistent/);

  r = bare(["bad.S"], { "bad.S": ".text\n  addi a0, a0, 5000\n" });
  assert.equal(r.code, 4);
  assert.match(r.stderr, /bad\.S:2:\d+: addi: 12-bit signed immediate 5000 out of range/);

  r = bare(["--max-insns", "lots", "p.S"], { "p.S": exitWith(1) });
  assert.equal(r.code, 4);
  assert.match(r.stderr, /expected a positive integer, got 'lots'/);

  r = bare([]);
  assert.equal(r.code, 4);
  assert.match(r.stderr, /missing required argument 'image'/);

  r = bare(["--load", "data.bin", "p.S"], { "p.S": exitWith(1), "data.bin": "xx" });
  assert.equal(r.code, 4);
  assert.match(r.stderr, /data\.bin: not an ELF file, so it needs an address \(FILE@ADDR\)/);

  r = bare(["--load", "data.bin@0x10", "p.S"], { "p.S": exitWith(1), "data.bin": "xx" });
  assert.equal(r.code, 4);
  assert.match(r.stderr, /data\.bin: raw image 0x10\.\.0x12 is not backed by memory/);

  r = bare(["--board", "no-such-board", "p.S"], { "p.S": exitWith(1) });
  assert.equal(r.code, 4);
  assert.match(r.stderr, /no-such-board/);
});

Deno.test("bare: --help documents options and exit codes", () => {
  const r = bare(["--help"]);
  assert.equal(r.code, 0);
  for (const text of ["--max-insns", "--stats", "--trace", "--board", "--load", "Exit status:"]) {
    assert.ok(r.stdout.includes(text), `help mentions ${text}`);
  }
  assert.match(r.stdout, /^ {2}2 {2}the instruction budget/m);
});

Deno.test("bare: argument helpers", () => {
  assert.equal(parseAddress("0x8020_0000"), 0x8020_0000);
  assert.equal(parseAddress("4096"), 4096);
  assert.throws(() => parseAddress("0xzz"), /'0xzz' is not an address/);
  assert.deepEqual(parseLoadSpec("a@b@0x10"), { path: "a@b", address: 0x10 });
  assert.deepEqual(parseLoadSpec("fw.elf"), { path: "fw.elf" });
  assert.throws(() => parseLoadSpec("@0x10"), /names no file/);
  assert.equal(unescape("a\\nb\\x41\\\\"), "a\nbA\\");
});

Deno.test("bare: on a board the finisher ends the run; UART output goes to stdout", () => {
  // Hart 0 prints "ok\n" on uart0 and writes the finisher; other harts park.
  const program = (finish: string) =>
    `.text\n_start:\n  bnez a0, park\n  li t0, 0x10000000\n  li t1, 'o'\n  sb t1, 0(t0)\n` +
    `  li t1, 'k'\n  sb t1, 0(t0)\n  li t1, 10\n  sb t1, 0(t0)\n  li t0, 0x100000\n` +
    `  li t1, ${finish}\n  sw t1, 0(t0)\n1: j 1b\npark: wfi\n  j park\n`;
  let r = bare(["--board", "qemu-virt", "pass.S"], { "pass.S": program("0x5555") });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "ok\n");
  r = bare(["--board", "qemu-virt", "fail.S"], { "fail.S": program("(7 << 16) | 0x3333") });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /FAILED \*\*\* test finisher: fail with code 7/);
  r = bare(["--board", "qemu-virt", "reset.S"], { "reset.S": program("0x7777") });
  assert.equal(r.code, 3);
  assert.match(r.stderr, /asked the test finisher for a reset/);
});

Deno.test("bare: on a board every hart starts at the entry with a0 = hart id, a1 = DTB", () => {
  // Each hart adds (a0 + 1) to a counter with an AMO; hart 0 checks that a1 points at a DTB
  // (magic 0xd00dfeed, big-endian) and waits for the sum 1 + 2 = 3 of both harts.
  const source = `.text
_start:
  la t0, counter
  addi t1, a0, 1
  amoadd.w zero, t1, (t0)
  bnez a0, park
  lwu t2, 0(a1)
  li t3, 0xedfe0dd0
  bne t2, t3, bad
1: lw t1, 0(t0)
  li t2, 3
  bne t1, t2, 1b
  li a0, 1
  j done
bad:
  li a0, 5
done:
  la t0, tohost
  sd a0, 0(t0)
2: j 2b
park: wfi
  j park
${HTIF}
counter: .word 0
`;
  const r = bare(["--board", "compact-2", "boot.S"], { "boot.S": source });
  assert.equal(r.code, 0, r.stderr);
});

Deno.test("bare: --trace on a board interleaves the harts, one instruction each", () => {
  const source = `.text\n_start:\n  addi t0, a0, 1\n  addi t0, t0, 1\n1: wfi\n  j 1b\n${HTIF}`;
  const r = bare([
    "--board",
    "compact-2",
    "--trace",
    "--trace-limit",
    "4",
    "--max-insns",
    "20",
    "t.S",
  ], {
    "t.S": source,
  });
  const lines = r.stderr.split("\n").slice(0, 4);
  assert.deepEqual(lines, [
    "core   0: 0x0000000080000000 (0x00150293) addi t0,a0,1",
    "core   1: 0x0000000080000000 (0x00150293) addi t0,a0,1",
    "core   0: 0x0000000080000004 (0x00128293) addi t0,t0,1",
    "core   1: 0x0000000080000004 (0x00128293) addi t0,t0,1",
  ]);
  assert.equal(r.code, 3, "both harts end in wfi with no timer armed");
  assert.match(r.stderr, /every hart waits in wfi/);
});

const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
const UBOOT = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin";
const exists = (path: string) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
};

Deno.test({
  name: "bare: Debian's OpenSBI boots on the qemu-virt board and prints its banner",
  ignore: !exists(OPENSBI),
  fn() {
    const r = bare([
      "--board",
      "qemu-virt",
      "--until",
      "Boot HART MEDELEG",
      "--max-insns",
      "50000000",
      OPENSBI,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /OpenSBI v\d+\.\d+/);
    assert.match(r.stdout, /Platform Name\s+: riscv-virtio,qemu/);
    assert.match(r.stdout, /Platform HART Count\s+: 4/);
    // OpenSBI prints the single-letter extensions it found in misa (isa.ts says which).
    assert.match(r.stdout, /Boot HART Base ISA\s+: rv64imafdc\r?\n/);
    assert.match(r.stdout, /Boot HART ISA Extensions\s+: .*sstc/);
  },
});

Deno.test({
  name: "bare: OpenSBI jumps to U-Boot in S-mode, which reaches its => prompt",
  ignore: !exists(OPENSBI) || !exists(UBOOT),
  fn() {
    const r = bare([
      "--board",
      "qemu-virt",
      "--load",
      `${UBOOT}@0x80200000`,
      "--input",
      " ",
      "--input-after",
      "autoboot",
      "--until",
      "=> ",
      "--max-insns",
      "300000000",
      OPENSBI,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /U-Boot 20\d\d/);
    assert.match(r.stdout, /DRAM:\s+8 GiB/);
    assert.match(r.stdout, /=> $/);
  },
});

Deno.test("bare: the real process: --help needs no --allow-env, exit codes pass through", () => {
  const dir = Deno.makeTempDirSync({ prefix: "bare_test_" });
  try {
    const run = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          new URL("../../bin/bare.ts", import.meta.url).pathname,
          ...args,
        ],
        stdout: "piped",
        stderr: "piped",
        stdin: "null",
      }).outputSync();
    const help = run(["--help"]);
    assert.equal(help.code, 0, new TextDecoder().decode(help.stderr));
    assert.match(new TextDecoder().decode(help.stdout), /Exit status:/);
    Deno.writeTextFileSync(`${dir}/fail.S`, exitWith((3 << 1) | 1));
    const fail = run([`${dir}/fail.S`]);
    assert.equal(fail.code, 1);
    assert.match(new TextDecoder().decode(fail.stderr), /test 3/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

const haveBinutils = (() => {
  try {
    return new Deno.Command("riscv64-unknown-elf-ld", { args: ["--version"], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "bare: a GNU-linked ELF in riscv-tests style passes, fails, and is traced",
  ignore: !haveBinutils,
  fn() {
    const dir = Deno.makeTempDirSync({ prefix: "bare_elf_" });
    try {
      const build = (name: string, value: number) => {
        Deno.writeTextFileSync(
          `${dir}/${name}.S`,
          `.section .text.init\n.globl _start\n_start:\n  li gp, ${value}\n  la t5, tohost\n` +
            `  sw gp, 0(t5)\n  sw zero, 4(t5)\n1: j 1b\n` +
            `.section .tohost,"aw",@progbits\n.align 6\n.globl tohost\ntohost: .dword 0\n` +
            `.align 6\n.globl fromhost\nfromhost: .dword 0\n`,
        );
        Deno.writeTextFileSync(
          `${dir}/link.ld`,
          `ENTRY(_start)\nSECTIONS {\n  . = 0x80000000;\n  .text.init : { *(.text.init) }\n` +
            `  . = ALIGN(0x1000);\n  .tohost : { *(.tohost) }\n}\n`,
        );
        for (
          const [cmd, args] of [
            ["riscv64-unknown-elf-as", [
              "-march=rv64imac",
              "-o",
              `${dir}/${name}.o`,
              `${dir}/${name}.S`,
            ]],
            ["riscv64-unknown-elf-ld", [
              "-T",
              `${dir}/link.ld`,
              "-o",
              `${dir}/${name}.elf`,
              `${dir}/${name}.o`,
            ]],
          ] as const
        ) {
          const out = new Deno.Command(cmd, { args: [...args], stderr: "piped" }).outputSync();
          assert.ok(out.success, new TextDecoder().decode(out.stderr));
        }
        return `${dir}/${name}.elf`;
      };
      assert.equal(bare([build("pass", 1)]).code, 0);
      const fail = bare([build("fail", (42 << 1) | 1)]);
      assert.equal(fail.code, 1);
      assert.match(fail.stderr, /test 42/);
      const traced = bare(["--trace", "--trace-limit", "1", `${dir}/pass.elf`]);
      assert.match(traced.stderr, /^core {3}0: 0x0000000080000000 \(0x\w{4}\) c\.li gp,1\n/);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
