# Start-up of the FP workload guest (nbody.c): turns the FPU on (mstatus.FS = Initial), sets a
# stack, runs main(STEPS) and reports the exit through HTIF `tohost` (QEMU spike, our bare
# runner). htif_putchar writes one console byte (device 1, command 1) and waits for the host.

    .section .text.start, "ax"
    .globl _start
_start:
    li      t0, 1 << 13
    csrs    mstatus, t0
    csrwi   fcsr, 0
    la      sp, stack_top
    li      a0, STEPS
    call    main
    slli    a0, a0, 1
    ori     a0, a0, 1
    la      t0, tohost
    sd      a0, 0(t0)
1:  j       1b

    .text
    .globl htif_putchar
htif_putchar:
    la      t0, tohost
    li      t1, 0x0101000000000000
    andi    a0, a0, 0xff
    or      t1, t1, a0
    sd      t1, 0(t0)
1:  ld      t1, 0(t0)
    bnez    t1, 1b
    la      t0, fromhost
    sd      zero, 0(t0)
    ret

    .section .tohost, "aw"
    .align 6
    .globl tohost
    .type tohost, @object
    .size tohost, 8
tohost: .dword 0
    .align 6
    .globl fromhost
    .type fromhost, @object
    .size fromhost, 8
fromhost: .dword 0

    .bss
    .align 4
    .space 16384
stack_top:
