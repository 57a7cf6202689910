# uart: drives its own emulated NS16550A (MMIO at 0x1000_0000) and PLIC (0x0c00_0000, source 10).
# Prints a banner by polling LSR, then echoes every received byte in upper case from the UART's
# receive interrupt (through the PLIC), until it receives 'q'; then it shuts the VM down.

    .equ UART, 0x10000000
    .equ PLIC, 0x0c000000
    .equ UART_IRQ, 10
    .equ SBI_SRST, 0x53525354

    .text
    .globl _start
_start:
    la      t0, handler
    csrw    stvec, t0
    li      s1, UART
    # 8N1, FIFOs on, receive-data interrupt on
    li      t0, 0x03
    sb      t0, 3(s1)               # LCR
    li      t0, 0x07
    sb      t0, 2(s1)               # FCR
    li      t0, 0x01
    sb      t0, 1(s1)               # IER: RDI
    # PLIC: priority 1 for the UART, enabled for context 0 (this vCPU, S-mode), threshold 0
    li      s2, PLIC
    li      t0, 1
    sw      t0, 4 * UART_IRQ(s2)
    li      t1, 0x2000
    add     t1, s2, t1
    li      t0, 1 << UART_IRQ
    sw      t0, 0(t1)
    li      t1, 0x200000
    add     t1, s2, t1
    sw      zero, 0(t1)
    la      a0, banner
    jal     t6, puts
    li      t0, 0x200               # SEIE
    csrs    sie, t0
    csrsi   sstatus, 2
idle:
    wfi
    la      t0, quit
    lw      t1, 0(t0)
    beqz    t1, idle
    la      a0, bye
    jal     t6, puts
    li      a7, SBI_SRST
    li      a6, 0
    li      a0, 0
    li      a1, 0
    ecall
1:  wfi
    j       1b

# Supervisor external interrupt: claim, drain the receive FIFO, complete.
    .align 2
handler:
    li      t0, PLIC + 0x200004
    lw      t1, 0(t0)               # claim
    li      t2, UART_IRQ
    bne     t1, t2, 3f
    li      t3, UART
1:  lbu     t4, 5(t3)               # LSR
    andi    t4, t4, 1               # data ready?
    beqz    t4, 3f
    lbu     t5, 0(t3)               # RBR
    li      t4, 113                 # 'q'
    bne     t5, t4, 2f
    la      t4, quit
    li      t6, 1
    sw      t6, 0(t4)
    j       1b
2:  li      t4, 97                  # 'a'..'z' -> upper case
    blt     t5, t4, 4f
    li      t4, 122
    bgt     t5, t4, 4f
    addi    t5, t5, -32
4:  lbu     t4, 5(t3)               # wait for THRE
    andi    t4, t4, 0x20
    beqz    t4, 4b
    sb      t5, 0(t3)
    j       1b
3:  sw      t1, 0(t0)               # complete
    sret

# puts(a0 = NUL-terminated string): polls THRE and writes each byte. Returns via t6.
puts:
    li      t0, UART
1:  lbu     t1, 0(a0)
    beqz    t1, 3f
2:  lbu     t2, 5(t0)
    andi    t2, t2, 0x20
    beqz    t2, 2b
    sb      t1, 0(t0)
    addi    a0, a0, 1
    j       1b
3:  jr      t6

    .section .rodata
banner: .asciz "uart: ready, type to echo, q quits\n"
bye:    .asciz "uart: bye\n"

    .data
    .align 2
quit:   .word 0
