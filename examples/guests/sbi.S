# sbi: exercises the rest of the SBI a guest sees: Base (impl id, probing), legacy getchar,
# send_ipi (hart mask in memory) and clear_ipi, DBCN console_read, RFENCE, HSM get_status and
# hart_suspend (retentive, and non-retentive resuming at a given address), woken by SBI timer
# interrupts. Prints "sbi: check N failed" for each failure, then "sbi: all checks passed".
# The host types "xyz" before starting the VM.

    .equ SBI_DBCN, 0x4442434E
    .equ SBI_TIME, 0x54494D45
    .equ SBI_HSM,  0x48534D
    .equ SBI_RFNC, 0x52464E43
    .equ SBI_SRST, 0x53525354

    .text
    .globl _start
_start:
    mv      s4, a0                  # hart id
    li      s1, 0                   # failures
    li      s2, 1                   # 1: get_impl_id = 0x4158
    li      a7, 0x10
    li      a6, 1
    ecall
    li      t0, 0x4158
    beq     a1, t0, 1f
    jal     t6, failed
1:  li      s2, 2                   # 2: probe_extension(unknown) = 0
    li      a7, 0x10
    li      a6, 3
    li      a0, 0x12345
    ecall
    beqz    a1, 1f
    jal     t6, failed
1:  li      s2, 3                   # 3: DBCN console_read gets the typed "xyz"
    li      a7, SBI_DBCN
    li      a6, 1
    li      a0, 3
    la      a1, inbuf
    li      a2, 0
    ecall
    li      t0, 3
    bne     a1, t0, 2f
    la      t0, inbuf
    lbu     t1, 2(t0)
    li      t2, 122                 # 'z'
    beq     t1, t2, 1f
2:  jal     t6, failed
1:  li      s2, 4                   # 4: legacy getchar with no input left = -1
    li      a7, 2
    ecall
    li      t0, -1
    beq     a0, t0, 1f
    jal     t6, failed
1:  li      s2, 5                   # 5: legacy send_ipi to self sets sip.SSIP; clear_ipi clears it
    la      a0, hartmask
    li      a7, 4
    ecall
    csrr    t0, sip
    andi    t0, t0, 2
    beqz    t0, 2f
    li      a7, 3
    ecall
    csrr    t0, sip
    andi    t0, t0, 2
    beqz    t0, 1f
2:  jal     t6, failed
1:  li      s2, 6                   # 6: RFENCE remote_fence_i on hart 0 = 0; on hart 5 = -3
    li      a7, SBI_RFNC
    li      a6, 0
    li      a0, 1
    li      a1, 0
    ecall
    bnez    a0, 2f
    li      a7, SBI_RFNC
    li      a6, 0
    li      a0, 1
    li      a1, 5
    ecall
    li      t0, -3
    beq     a0, t0, 1f
2:  jal     t6, failed
1:  li      s2, 7                   # 7: hart_get_status(self) = started (0)
    li      a7, SBI_HSM
    li      a6, 2
    mv      a0, s4
    ecall
    bnez    a0, 2f
    beqz    a1, 1f
2:  jal     t6, failed
1:  li      s2, 8                   # 8: retentive hart_suspend returns 0 after a timer interrupt
    li      t0, 0x20                # STIE (SIE stays 0: the interrupt wakes, is not taken)
    csrs    sie, t0
    csrr    a0, time
    addi    a0, a0, 1000
    li      a7, SBI_TIME
    li      a6, 0
    ecall
    li      a7, SBI_HSM
    li      a6, 3
    li      a0, 0
    ecall
    bnez    a0, 2f
    csrr    t0, sip
    andi    t0, t0, 0x20
    bnez    t0, 1f
2:  jal     t6, failed
1:  li      s2, 9                   # 9: non-retentive suspend resumes at resume_addr, a1 = opaque
    csrr    a0, time
    addi    a0, a0, 1000
    li      a7, SBI_TIME
    li      a6, 0
    ecall
    li      a7, SBI_HSM
    li      a6, 3
    li      a0, 0x80000000
    la      a1, resumed
    li      a2, 0x5eed
    ecall
    jal     t6, failed              # a non-retentive suspend never returns here
    j       done
resumed:
    li      t0, 0x5eed
    bne     a1, t0, 2f
    bne     a0, s4, 2f
    csrr    t0, sstatus
    andi    t0, t0, 2
    beqz    t0, done
2:  jal     t6, failed
done:
    li      a7, SBI_TIME            # no more timer
    li      a6, 0
    li      a0, -1
    ecall
    bnez    s1, 2f
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

# failed: counts a failure and prints "sbi: check N failed" (N = s2, 1..9). Returns via t6.
failed:
    addi    s1, s1, 1
    la      t0, m_fail
    addi    t2, s2, 48
    sb      t2, 11(t0)
    mv      s3, t6
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
m_ok:   .ascii "sbi: all checks passed\n"
m_ok_end:
m_bad:  .ascii "sbi: some checks FAILED\n"
m_bad_end:

    .data
m_fail: .ascii "sbi: check # failed\n"
m_fail_end:
    .align 3
hartmask: .dword 1
inbuf:    .space 8
