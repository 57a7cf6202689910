/**
 * Differential test against QEMU's virt machine with OpenSBI (fw_jump): the same S-mode image,
 * built by GNU binutils, must print the same lines here and there. The guest uses only SBI
 * calls that OpenSBI 1.x also offers (legacy putchar, HSM, IPI, SRST).
 *
 * @module
 */
import assert from "node:assert/strict";
import { makeHypervisor } from "./helpers.ts";

const FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";

const GUEST = `
    .text
    .globl _start
_start:                             # the boot hart (on QEMU, whichever hart OpenSBI picked)
    la      t0, boot_id
    sd      a0, 0(t0)
    la      a0, m_boot
    jal     ra, puts
    li      a7, 0x48534D            # HSM hart_start(the other hart, secondary, 0x77)
    li      a6, 0
    la      t0, boot_id
    ld      a0, 0(t0)
    xori    a0, a0, 1
    la      a1, secondary
    li      a2, 0x77
    ecall
    li      t0, 2                   # wait for the IPI with SSIE only (SIE = 0): wfi wakes
    csrs    sie, t0
1:  wfi
    csrr    t0, sip
    andi    t0, t0, 2
    beqz    t0, 1b
    csrc    sip, t0
    la      a0, m_ipi
    jal     ra, puts
    la      a0, m_done
    jal     ra, puts
    li      a7, 0x53525354          # SRST shutdown
    li      a6, 0
    li      a0, 0
    li      a1, 0
    ecall
3:  j       3b

secondary:
    li      t0, 0x77
    bne     a1, t0, 4f
    la      a0, m_sec
    jal     ra, puts
    li      a7, 0x735049            # IPI to the boot hart
    li      a6, 0
    li      a0, 1
    la      t0, boot_id
    ld      a1, 0(t0)
    ecall
4:  wfi
    j       4b

puts:                               # legacy console_putchar loop; a0 = NUL-terminated string
    mv      t1, a0
5:  lbu     a0, 0(t1)
    beqz    a0, 6f
    li      a7, 1
    ecall
    addi    t1, t1, 1
    j       5b
6:  ret

    .section .rodata
m_boot: .asciz "oracle: the boot hart boots\\n"
m_sec:  .asciz "oracle: the other hart started with its opaque\\n"
m_ipi:  .asciz "oracle: the boot hart got the IPI\\n"
m_done: .asciz "oracle: done\\n"

    .data
    .align 3
boot_id: .dword 0
`;

const CONFIG = `
[base]
id = 1
name = "oracle"
cpu_num = 2
[kernel]
entry_point = 0x8020_0000
kernel_path = "/oracle.elf"
kernel_load_addr = 0x8020_0000
memory_regions = [[0x8000_0000, 0x1000_0000, 0x7, 0]]
`;

async function run(cmd: string, args: string[], stdin?: "null"): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin })
    .output();
  if (!out.success) throw new Error(`${cmd}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

Deno.test("qemu oracle: an SMP guest prints the same lines on QEMU virt + OpenSBI and here", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/oracle.S`, GUEST);
    await run("riscv64-unknown-elf-as", [
      "-march=rv64imac_zicsr",
      "-o",
      `${dir}/o.o`,
      `${dir}/oracle.S`,
    ]);
    await run("riscv64-unknown-elf-ld", [
      "-Ttext=0x80200000",
      "-o",
      `${dir}/oracle.elf`,
      `${dir}/o.o`,
    ]);
    const qemu = await run("timeout", [
      "60",
      "qemu-system-riscv64",
      "-M",
      "virt",
      "-smp",
      "2",
      "-m",
      "256M",
      "-nographic",
      "-bios",
      FW_JUMP,
      "-kernel",
      `${dir}/oracle.elf`,
    ], "null");
    // OpenSBI turns each newline into CR LF on its UART: compare lines.
    const expected = qemu.replaceAll("\r", "").split("\n").filter((l) => l.startsWith("oracle:"))
      .join("\n");
    assert.equal(expected.split("\n").length, 4, qemu);

    const { hv, fs } = makeHypervisor();
    fs.writeFile("/oracle.elf", await Deno.readFile(`${dir}/oracle.elf`));
    const vm = hv.createVm({ text: CONFIG, origin: "oracle.toml" });
    hv.startVm(vm.id);
    assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9));
    assert.equal(vm.console.text().trimEnd(), expected);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
