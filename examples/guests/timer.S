# timer: programs SBI timer interrupts (TIME extension set_timer, and the legacy set_timer),
# sleeps in wfi between them, counts 5 ticks 1 ms apart and checks that `time` advanced by at
# least 5 ms of guest time. Then it disables the timer and shuts the VM down.

    .equ SBI_DBCN, 0x4442434E
    .equ SBI_TIME, 0x54494D45
    .equ SBI_SRST, 0x53525354
    .equ PERIOD, 10000              # 1 ms at the 10 MHz timebase

    .text
    .globl _start
_start:
    la      t0, handler
    csrw    stvec, t0
    csrr    s0, time                # start time
    li      t0, 0x20                # STIE
    csrs    sie, t0
    csrsi   sstatus, 2              # SIE
    csrr    a0, time
    li      t0, PERIOD
    add     a0, a0, t0
    li      a7, SBI_TIME
    li      a6, 0
    ecall
    bnez    a0, fail
loop:
    wfi
    la      t0, ticks
    ld      t1, 0(t0)
    li      t2, 5
    blt     t1, t2, loop
    csrci   sstatus, 2
    csrr    t0, time
    sub     t0, t0, s0
    li      t1, 5 * PERIOD
    blt     t0, t1, fail
    la      a0, m_done
    li      a1, m_done_end - m_done
    li      a2, 0
    jal     t6, say
    li      a7, 0                   # legacy set_timer(-1): no more timer interrupts
    li      a0, -1
    ecall
    j       shutdown

fail:
    la      a0, m_fail
    li      a1, m_fail_end - m_fail
    li      a2, 0
    jal     t6, say
shutdown:
    li      a7, SBI_SRST
    li      a6, 0
    li      a0, 0
    li      a1, 0
    ecall
1:  wfi
    j       1b

    .align 2
handler:
    csrr    t0, scause
    bgez    t0, fail                # must be an interrupt
    andi    t0, t0, 0xff
    li      t1, 5                   # supervisor timer interrupt
    bne     t0, t1, fail
    la      t0, ticks
    ld      t1, 0(t0)
    addi    t1, t1, 1
    sd      t1, 0(t0)
    la      a0, m_tick
    li      a1, m_tick_end - m_tick
    mv      a2, t1
    jal     t6, say
    csrr    a0, time                # next deadline; even ticks use the legacy call
    li      t0, PERIOD
    add     a0, a0, t0
    la      t0, ticks
    ld      t1, 0(t0)
    andi    t1, t1, 1
    beqz    t1, 2f
    li      a7, SBI_TIME
    li      a6, 0
    ecall
    sret
2:  li      a7, 0
    ecall
    sret

# say(a0 = template, a1 = length, a2 = digit): '#' becomes the digit; DBCN write; returns via t6.
say:
    la      t0, buffer
    li      t2, 0
1:  bge     t2, a1, 3f
    add     t3, a0, t2
    lbu     t4, 0(t3)
    li      t5, 35
    bne     t4, t5, 2f
    addi    t4, a2, 48
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
m_tick:   .ascii "timer: tick #\n"
m_tick_end:
m_done:   .ascii "timer: 5 ticks, 5 ms of guest time\n"
m_done_end:
m_fail:   .ascii "timer: FAIL\n"
m_fail_end:

    .data
    .align 3
ticks:    .dword 0
buffer:   .space 64
