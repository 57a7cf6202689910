# illegal: executes an illegal instruction without installing a trap handler (stvec = 0).
# The VMM ends this VM with an error naming the trap, the pc and the vCPU.

    .equ SBI_DBCN, 0x4442434E

    .text
    .globl _start
_start:
    li      a7, SBI_DBCN
    li      a6, 0
    la      a1, msg
    li      a0, msg_end - msg
    li      a2, 0
    ecall
    csrw    stvec, zero
    .word   0                       # illegal instruction
1:  j       1b

    .section .rodata
msg:    .ascii "illegal: executing an illegal instruction\n"
msg_end:
