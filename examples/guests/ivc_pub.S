# ivc_pub: publishes an IVC channel (AxVisor hypercall HIVCPublishChannel, key 0x42), writes a
# message into the shared memory, raises a flag, and waits for the subscriber's acknowledgement.
# Then it checks that publishing the same key again fails (-1), unpublishes, and shuts down.
#
# Shared memory layout: [0] publisher VM id, [8] key (written by the hypervisor),
# [16] message, [64] ready flag, [72] acknowledgement.

    .equ SBI_DBCN, 0x4442434E
    .equ SBI_HVC,  0x485643
    .equ SBI_SRST, 0x53525354
    .equ KEY, 0x42

    .text
    .globl _start
_start:
    la      t0, chan_size
    li      t1, 4096
    sd      t1, 0(t0)
    li      a7, SBI_HVC
    li      a6, 3                   # HIVCPublishChannel(key, base_ptr, size_ptr)
    li      a0, KEY
    la      a1, chan_base
    la      a2, chan_size
    ecall
    bnez    a0, fail
    la      t0, chan_base
    ld      s0, 0(t0)               # s0 = shared memory GPA
    ld      t1, 8(s0)               # the hypervisor wrote the key
    li      t2, KEY
    bne     t1, t2, fail
    la      t0, message             # copy the message to [16]
    addi    t1, s0, 16
    li      t2, message_end - message
1:  lbu     t3, 0(t0)
    sb      t3, 0(t1)
    addi    t0, t0, 1
    addi    t1, t1, 1
    addi    t2, t2, -1
    bnez    t2, 1b
    fence
    li      t0, 1
    sd      t0, 64(s0)              # ready
    la      a0, m_pub
    li      a1, m_pub_end - m_pub
    jal     t6, puts
2:  ld      t0, 72(s0)              # wait for the acknowledgement
    beqz    t0, 2b
    la      a0, m_ack
    li      a1, m_ack_end - m_ack
    jal     t6, puts
    li      a7, SBI_HVC             # publishing the same key again must fail
    li      a6, 3
    li      a0, KEY
    la      a1, chan_base
    la      a2, chan_size
    ecall
    li      t0, -1
    bne     a0, t0, fail
    li      a7, SBI_HVC
    li      a6, 5                   # HIVCUnPublishChannel(key)
    li      a0, KEY
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
3:  wfi
    j       3b

# puts(a0 = address, a1 = length) with DBCN; returns via t6.
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
message:  .ascii "hello over IVC\n"
message_end:
m_pub:    .ascii "ivc_pub: published\n"
m_pub_end:
m_ack:    .ascii "ivc_pub: acknowledged\n"
m_ack_end:
m_done:   .ascii "ivc_pub: unpublished\n"
m_done_end:
m_fail:   .ascii "ivc_pub: FAIL\n"
m_fail_end:

    .data
    .align 3
chan_base: .dword 0
chan_size: .dword 0
