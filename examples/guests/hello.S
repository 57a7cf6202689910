# hello: prints a greeting through the SBI debug console (DBCN), then one line through the legacy
# console_putchar, then shuts the VM down with SBI SRST.
#
# Boot registers (guest-abi.md): a0 = hart id, a1 = device tree address.

    .equ SBI_DBCN, 0x4442434E
    .equ SBI_SRST, 0x53525354

    .text
    .globl _start
_start:
    # DBCN console_write(num_bytes, base_lo, base_hi)
    li      a7, SBI_DBCN
    li      a6, 0
    la      a1, greeting
    la      a2, greeting_end
    sub     a0, a2, a1              # length
    li      a2, 0
    ecall

    # legacy console_putchar, one byte at a time
    la      s0, bye
1:  lbu     a0, 0(s0)
    beqz    a0, 2f
    li      a7, 1
    ecall
    addi    s0, s0, 1
    j       1b

2:  # SRST system_reset(shutdown, no reason)
    li      a7, SBI_SRST
    li      a6, 0
    li      a0, 0
    li      a1, 0
    ecall
3:  wfi
    j       3b

    .section .rodata
greeting:
    .ascii  "Hello from axvisor.ts!\n"
greeting_end:
bye:
    .asciz  "Goodbye.\n"
