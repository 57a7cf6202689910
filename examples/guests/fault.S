# fault: says hello, then loads from guest-physical 0x4000_0000, where this VM has nothing
# mapped. The VMM stops the VM with a NestedPageFault naming the address, the pc and the vCPU.

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
    li      t0, 0x40000000
    ld      t1, 0(t0)               # unmapped: the VM stops here
    li      a7, SBI_DBCN            # never reached
    li      a6, 0
    la      a1, bad
    li      a0, bad_end - bad
    li      a2, 0
    ecall
1:  j       1b

    .section .rodata
msg:    .ascii "fault: touching unmapped memory\n"
msg_end:
bad:    .ascii "fault: FAIL, the load returned\n"
bad_end:
