# smp: brings up every vCPU with SBI HSM hart_start, then exercises IPIs to self, to another
# hart and to all harts (SBI IPI send_ipi), stops hart 3 with hart_stop, checks hart_get_status,
# and shuts the VM down. Expects 4 vCPUs with hart ids 0..3.
#
# Every message is written with one DBCN console_write, so lines never interleave.

    .equ SBI_DBCN, 0x4442434E
    .equ SBI_HSM,  0x48534D
    .equ SBI_IPI,  0x735049
    .equ SBI_SRST, 0x53525354
    .equ NHARTS, 4

    .text
    .globl _start
_start:
    mv      tp, a0                  # tp = hart id for the whole program
    la      t0, ipi_handler
    csrw    stvec, t0
    la      a0, m_boot
    li      a1, m_boot_end - m_boot
    mv      a2, tp
    jal     t6, say

    # hart_start(hartid, secondary, opaque = hartid * 0x100) for harts 1..3
    li      s0, 1
start_loop:
    li      a7, SBI_HSM
    li      a6, 0
    mv      a0, s0
    la      a1, secondary
    slli    a2, s0, 8
    ecall
    bnez    a0, fail
    addi    s0, s0, 1
    li      t0, NHARTS
    blt     s0, t0, start_loop

    # starting an already started hart fails with SBI_ERR_ALREADY_AVAILABLE (-6)
    li      a7, SBI_HSM
    li      a6, 0
    li      a0, 1
    la      a1, secondary
    li      a2, 0
    ecall
    li      t0, -6
    bne     a0, t0, fail
    # an unknown hart id is an invalid parameter (-3)
    li      a7, SBI_HSM
    li      a6, 0
    li      a0, 9
    la      a1, secondary
    li      a2, 0
    ecall
    li      t0, -3
    bne     a0, t0, fail

wait_arrived:
    la      t0, arrived
    lw      t1, 0(t0)
    li      t2, NHARTS - 1
    blt     t1, t2, wait_arrived
    la      a0, m_allup
    li      a1, m_allup_end - m_allup
    mv      a2, tp
    jal     t6, say

    # take IPIs on the boot hart too
    li      t0, 2
    csrs    sie, t0
    csrsi   sstatus, 2

    # 1. IPI to self: send_ipi(mask 1, base 0)
    li      a7, SBI_IPI
    li      a6, 0
    li      a0, 1
    li      a1, 0
    ecall
    bnez    a0, fail
1:  la      t0, ipi_count
    ld      t1, 0(t0)
    beqz    t1, 1b

    # 2. IPI to another hart: send_ipi(mask 1, base 2) reaches hart 2
    li      a7, SBI_IPI
    li      a6, 0
    li      a0, 1
    li      a1, 2
    ecall
    bnez    a0, fail
2:  la      t0, ipi_count
    ld      t1, 16(t0)
    beqz    t1, 2b

    # 3. broadcast: send_ipi(0, -1) reaches every hart
    li      a7, SBI_IPI
    li      a6, 0
    li      a0, 0
    li      a1, -1
    ecall
    bnez    a0, fail
    # wait for counts [2, 1, 2, 1]
3:  la      t0, ipi_count
    ld      t1, 0(t0)
    li      t2, 2
    blt     t1, t2, 3b
    ld      t1, 8(t0)
    beqz    t1, 3b
    ld      t1, 16(t0)
    blt     t1, t2, 3b
    ld      t1, 24(t0)
    beqz    t1, 3b
    la      a0, m_ipis
    li      a1, m_ipis_end - m_ipis
    mv      a2, tp
    jal     t6, say

    # hart 3 stops itself after the broadcast: wait until hart_get_status(3) says stopped (1)
4:  li      a7, SBI_HSM
    li      a6, 2
    li      a0, 3
    ecall
    bnez    a0, fail
    li      t0, 1
    bne     a1, t0, 4b
    # hart 1 is still started (0)
    li      a7, SBI_HSM
    li      a6, 2
    li      a0, 1
    ecall
    bnez    a1, fail
    la      a0, m_done
    li      a1, m_done_end - m_done
    mv      a2, tp
    jal     t6, say
    j       shutdown

fail:
    la      a0, m_fail
    li      a1, m_fail_end - m_fail
    mv      a2, tp
    jal     t6, say
shutdown:
    li      a7, SBI_SRST
    li      a6, 0
    li      a0, 0
    li      a1, 0
    ecall
5:  wfi
    j       5b

# Secondary harts start here with a0 = hart id, a1 = opaque.
secondary:
    mv      tp, a0
    slli    t0, a0, 8
    bne     a1, t0, fail
    la      t0, ipi_handler
    csrw    stvec, t0
    li      t0, 2
    csrs    sie, t0
    la      a0, m_up
    li      a1, m_up_end - m_up
    mv      a2, tp
    jal     t6, say
    la      t0, arrived
    li      t1, 1
    amoadd.w zero, t1, (t0)
    csrsi   sstatus, 2
idle:
    wfi
    li      t0, 3
    bne     tp, t0, idle
    la      t0, ipi_count
    ld      t1, 24(t0)
    beqz    t1, idle
    la      a0, m_stop
    li      a1, m_stop_end - m_stop
    mv      a2, tp
    jal     t6, say
    li      a7, SBI_HSM             # hart_stop: never returns
    li      a6, 1
    ecall
    j       fail

# Supervisor software interrupt: clear it, count it, say so.
    .align 2
ipi_handler:
    li      t0, 2
    csrc    sip, t0
    la      t0, ipi_count
    slli    t1, tp, 3
    add     t0, t0, t1
    li      t1, 1
    amoadd.d zero, t1, (t0)
    la      a0, m_ipi
    li      a1, m_ipi_end - m_ipi
    mv      a2, tp
    jal     t6, say
    sret

# say(a0 = template, a1 = length, a2 = hart id): copies the template into this hart's buffer,
# replacing '#' with the hart's digit, and writes it with DBCN. Returns through t6.
say:
    la      t0, buffers
    slli    t1, a2, 6
    add     t0, t0, t1
    li      t2, 0
1:  bge     t2, a1, 3f
    add     t3, a0, t2
    lbu     t4, 0(t3)
    li      t5, 35                  # '#'
    bne     t4, t5, 2f
    addi    t4, a2, 48              # '0' + hart id
2:  add     t3, t0, t2
    sb      t4, 0(t3)
    addi    t2, t2, 1
    j       1b
3:  mv      a0, a1
    mv      a1, t0
    li      a2, 0
    li      a6, 0
    li      a7, SBI_DBCN
    ecall
    jr      t6

    .section .rodata
m_boot:   .ascii "smp: hart # boots\n"
m_boot_end:
m_up:     .ascii "smp: hart # up\n"
m_up_end:
m_allup:  .ascii "smp: all harts up\n"
m_allup_end:
m_ipi:    .ascii "smp: hart # got IPI\n"
m_ipi_end:
m_ipis:   .ascii "smp: IPIs self, other, broadcast delivered\n"
m_ipis_end:
m_stop:   .ascii "smp: hart # stops\n"
m_stop_end:
m_done:   .ascii "smp: done\n"
m_done_end:
m_fail:   .ascii "smp: FAIL on hart #\n"
m_fail_end:

    .data
    .align 3
arrived:   .word 0
    .align 3
ipi_count: .dword 0, 0, 0, 0
buffers:   .space 64 * NHARTS
