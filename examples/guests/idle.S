# idle: an idle guest kernel. It sleeps in wfi between 100 Hz timer interrupts (SBI TIME
# set_timer, re-armed by each tick) and never prints or stops. bench/idle_bench.ts measures the
# host CPU such a VM costs; tests/vmm/driver_idle_test.ts counts the host's wake-ups for it.

    .equ SBI_TIME, 0x54494D45
    .equ PERIOD, 100000             # 10 ms at the 10 MHz timebase

    .text
    .globl _start
_start:
    la      sp, stack_top
    la      t0, trap
    csrw    stvec, t0
    li      t0, 0x20                # STIE
    csrs    sie, t0
    csrsi   sstatus, 2              # SIE
    call    arm
1:  wfi
    j       1b

arm:                                # the next timer interrupt, one period from now
    rdtime  a0
    li      t1, PERIOD
    add     a0, a0, t1
    li      a7, SBI_TIME
    li      a6, 0
    ecall
    ret

    .balign 4
trap:                               # only the timer interrupt is enabled
    addi    sp, sp, -16
    sd      ra, 0(sp)
    call    arm
    ld      ra, 0(sp)
    addi    sp, sp, 16
    sret

    .bss
    .balign 16
    .space  4096
stack_top:
