# hypercall: checks the error paths of the AxVisor hypercall extension and of the SBI:
# unknown hypercall codes, host-only hypercalls, IVC calls on channels that do not exist or
# without an IVC range, unknown SBI extensions and functions. Prints one line per check number
# that fails, then "hypercall: all checks passed" or not.

    .equ SBI_DBCN, 0x4442434E
    .equ SBI_HVC,  0x485643
    .equ SBI_SRST, 0x53525354

    .text
    .globl _start
_start:
    li      s1, 0                   # failures

    li      s2, 1                   # 1: unknown hypercall code -> -1
    li      a7, SBI_HVC
    li      a6, 99
    ecall
    li      t0, -1
    beq     a0, t0, 1f
    jal     t6, failed
1:  li      s2, 2                   # 2: debug hypercall -> 0
    li      a7, SBI_HVC
    li      a6, 2
    li      a0, 0x1234
    ecall
    beqz    a0, 1f
    jal     t6, failed
1:  li      s2, 3                   # 3: HypervisorDisable from a guest -> -1
    li      a7, SBI_HVC
    li      a6, 0
    ecall
    li      t0, -1
    beq     a0, t0, 1f
    jal     t6, failed
1:  li      s2, 4                   # 4: subscribe to a channel nobody published -> -1
    li      a7, SBI_HVC
    li      a6, 4
    li      a0, 77
    li      a1, 5
    la      a2, scratch
    la      a3, scratch + 8
    ecall
    li      t0, -1
    beq     a0, t0, 1f
    jal     t6, failed
1:  li      s2, 5                   # 5: unpublish a key never published -> -1
    li      a7, SBI_HVC
    li      a6, 5
    li      a0, 5
    ecall
    li      t0, -1
    beq     a0, t0, 1f
    jal     t6, failed
1:  li      s2, 6                   # 6: publish without an IVC range -> -1
    la      t0, scratch + 8
    li      t1, 4096
    sd      t1, 0(t0)
    li      a7, SBI_HVC
    li      a6, 3
    li      a0, 5
    la      a1, scratch
    la      a2, scratch + 8
    ecall
    li      t0, -1
    beq     a0, t0, 1f
    jal     t6, failed
1:  li      s2, 7                   # 7: unknown SBI extension -> SBI_ERR_NOT_SUPPORTED (-2)
    li      a7, 0x0A0B0C0D
    li      a6, 0
    ecall
    li      t0, -2
    beq     a0, t0, 1f
    jal     t6, failed
1:  li      s2, 8                   # 8: unknown HSM function -> -2
    li      a7, 0x48534D
    li      a6, 77
    ecall
    li      t0, -2
    beq     a0, t0, 1f
    jal     t6, failed
1:  li      s2, 9                   # 9: probe_extension(HVC) = 1, get_spec_version = 2.0
    li      a7, 0x10
    li      a6, 3
    li      a0, SBI_HVC
    ecall
    bnez    a0, 2f
    li      t0, 1
    bne     a1, t0, 2f
    li      a7, 0x10
    li      a6, 0
    ecall
    li      t0, 0x2000000
    beq     a1, t0, 1f
2:  jal     t6, failed
1:  li      s2, 10                  # 10: IVC publish with an unmapped size pointer -> -1
    li      a7, SBI_HVC
    li      a6, 3
    li      a0, 6
    la      a1, scratch
    li      a2, 0x40000000
    ecall
    li      t0, -1
    beq     a0, t0, 1f
    jal     t6, failed
1:  bnez    s1, 2f
    la      a0, m_ok
    li      a1, m_ok_end - m_ok
    jal     t6, puts
    j       3f
2:  la      a0, m_bad
    li      a1, m_bad_end - m_bad
    jal     t6, puts
3:  li      a7, SBI_SRST
    li      a6, 0
    li      a0, 0
    li      a1, 0
    ecall
4:  wfi
    j       4b

# failed: counts a failure and prints "hypercall: check N failed" (N = s2, 1..19). Returns via t6.
failed:
    addi    s1, s1, 1
    la      t0, m_fail
    li      t1, 10
    blt     s2, t1, 1f
    li      t2, 49                  # '1'
    sb      t2, 17(t0)
    addi    t2, s2, 38              # '0' + s2 - 10
    sb      t2, 18(t0)
    j       2f
1:  li      t2, 32                  # ' '
    sb      t2, 17(t0)
    addi    t2, s2, 48
    sb      t2, 18(t0)
2:  mv      s3, t6
    mv      a0, t0
    li      a1, m_fail_end - m_fail
    jal     t6, puts
    jr      s3

puts:
    mv      t0, a0
    mv      a0, a1
    mv      a1, t0
    li      a2, 0
    li      a6, 0
    li      a7, SBI_DBCN
    ecall
    jr      t6

    .section .rodata
m_ok:   .ascii "hypercall: all checks passed\n"
m_ok_end:
m_bad:  .ascii "hypercall: some checks FAILED\n"
m_bad_end:

    .data
m_fail: .ascii "hypercall: check    failed\n"
m_fail_end:
    .align 3
scratch: .dword 0, 0
