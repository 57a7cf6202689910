# ivc_sub: subscribes to VM 3's IVC channel 0x42 (retrying until it is published), checks the
# header, waits for the ready flag, prints the publisher's message straight from the shared
# memory, acknowledges, unsubscribes and shuts down.

    .equ SBI_DBCN, 0x4442434E
    .equ SBI_HVC,  0x485643
    .equ SBI_SRST, 0x53525354
    .equ PUBLISHER, 3
    .equ KEY, 0x42

    .text
    .globl _start
_start:
1:  li      a7, SBI_HVC
    li      a6, 4                   # HIVCSubscribChannel(publisher, key, base_ptr, size_ptr)
    li      a0, PUBLISHER
    li      a1, KEY
    la      a2, chan_base
    la      a3, chan_size
    ecall
    beqz    a0, 2f
    li      t0, 1000                # not published yet: spin a little and retry
5:  addi    t0, t0, -1
    bnez    t0, 5b
    j       1b
2:  la      t0, chan_base
    ld      s0, 0(t0)
    ld      t1, 0(s0)               # header: publisher id and key
    li      t2, PUBLISHER
    bne     t1, t2, fail
    ld      t1, 8(s0)
    li      t2, KEY
    bne     t1, t2, fail
3:  ld      t0, 64(s0)              # wait until the publisher is ready
    beqz    t0, 3b
    la      a0, m_got
    li      a1, m_got_end - m_got
    jal     t6, puts
    addi    a0, s0, 16              # the message, read from the shared memory
    li      a1, 15
    jal     t6, puts
    li      t0, 1
    sd      t0, 72(s0)              # acknowledge
    li      a7, SBI_HVC
    li      a6, 6                   # HIVCUnSubscribChannel(publisher, key)
    li      a0, PUBLISHER
    li      a1, KEY
    ecall
    bnez    a0, fail
    la      a0, m_done
    li      a1, m_done_end - m_done
    jal     t6, puts
    j       shutdown
fail:
    la      a0, m_fail
    li      a1, m_fail_end - m_fail
    jal     t6, puts
shutdown:
    li      a7, SBI_SRST
    li      a6, 0
    li      a0, 0
    li      a1, 0
    ecall
4:  wfi
    j       4b

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
m_got:  .ascii "ivc_sub: message: "
m_got_end:
m_done: .ascii "ivc_sub: unsubscribed\n"
m_done_end:
m_fail: .ascii "ivc_sub: FAIL\n"
m_fail_end:

    .data
    .align 3
chan_base: .dword 0
chan_size: .dword 0
