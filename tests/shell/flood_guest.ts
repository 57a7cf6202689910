/**
 * A guest that floods its consoles (the SBI debug console and the NS16550A), for the console
 * log tests and the end-to-end flood test.
 *
 * @module
 */

/**
 * Floods its consoles: 32 bytes through the SBI debug console (DBCN console_write), then the
 * same 32 bytes through the NS16550A, forever. `newline` ends each line with LF.
 */
export function floodGuest(newline: boolean): string {
  const text = newline ? "flood-dbcn-and-uart-0123456789a\\n" : "flood-no-newline-0123456789abcd";
  return `
    .equ UART, 0x10000000
    .equ DBCN, 0x4442434E
    .text
    .globl _start
_start:
    li      s1, UART
1:  li      a7, DBCN
    li      a6, 0
    li      a0, 32
    la      a1, line
    li      a2, 0
    ecall
    la      s0, line
    li      s2, 32
2:  lbu     t0, 0(s0)
    sb      t0, 0(s1)
    addi    s0, s0, 1
    addi    s2, s2, -1
    bnez    s2, 2b
    j       1b
    .section .rodata
line:
    .ascii  "${text}"
`;
}

/** A config for a flood guest with its UART at 0x1000_0000. */
export function floodConfig(id: number, name: string, image: string): string {
  return `[base]
id = ${id}
name = "${name}"
vm_type = 1
cpu_num = 1

[kernel]
entry_point = 0x8020_0000
kernel_path = "${image}"
kernel_load_addr = 0x8020_0000
memory_regions = [[0x8000_0000, 0x100_0000, 0x7, 0]]

[devices]
emu_devices = [["uart0", 0x1000_0000, 0x100, 10, 0x2, []]]
passthrough_devices = []
interrupt_mode = "no_irq"
`;
}
