# Fixed integer workload for the interpreter benchmark (bench/bare_bench.ts) and a handy
# `deno task bare --stats` demo. RV64IM, bare metal, M-mode; ends through HTIF tohost:
# 1 = pass, (n << 1) | 1 = check n failed.
#
#   1. fill:   an array of 1024 doublewords from a 64-bit LCG (mul)
#   2. sort:   insertion sort of each 256-element quarter (loads, stores, branches)
#   3. check:  every quarter ascending (check 2)
#   4. crc:    bitwise CRC-32 (reflected, 0xedb88320) over the 8 KiB array (shifts, xor)
#   5. muldiv: 20000 rounds of mul, mulh, div, rem, divu, remw
#   6. the whole thing ROUNDS times; the final checksum must equal EXPECTED (check 3)
#
# Harts other than hart 0 park in wfi. The same file assembles with GNU as (rv64im) and runs on qemu-system-riscv64 -M spike.

.equ N, 1024
.equ QUARTER, 256
.equ ROUNDS, 4
.equ MULDIV_ROUNDS, 20000
.equ EXPECTED, 0x2e534780e63a7de0

.text
.globl _start
_start:
  csrr t0, mhartid              # on a multi-hart board, only hart 0 works
  bnez t0, park
  li s11, 0                     # running checksum
  li s10, ROUNDS
  li s9, 0x9e3779b97f4a7c15     # LCG state, also mixed into the checksum
round:
  # ---- 1. fill
  la s0, array
  li s1, N
  li t1, 6364136223846793005
  li t2, 1442695040888963407
fill:
  mul s9, s9, t1
  add s9, s9, t2
  srli t0, s9, 11
  sd t0, 0(s0)
  addi s0, s0, 8
  addi s1, s1, -1
  bnez s1, fill

  # ---- 2. insertion sort of each quarter
  la s0, array
  li s2, 4                      # quarters left
sort_quarter:
  li s3, 1                      # i
sort_outer:
  slli t0, s3, 3
  add t0, s0, t0
  ld t3, 0(t0)                  # key = a[i]
  addi t4, t0, -8               # p = &a[i-1]
sort_inner:
  bltu t4, s0, sort_place
  ld t5, 0(t4)
  bgeu t3, t5, sort_place
  sd t5, 8(t4)
  addi t4, t4, -8
  j sort_inner
sort_place:
  sd t3, 8(t4)
  addi s3, s3, 1
  li t0, QUARTER
  bltu s3, t0, sort_outer
  li t0, QUARTER * 8
  add s0, s0, t0
  addi s2, s2, -1
  bnez s2, sort_quarter

  # ---- 3. check ascending order inside each quarter
  la s0, array
  li s2, 4
check_quarter:
  li s3, QUARTER - 1
  mv t4, s0
check_loop:
  ld t5, 0(t4)
  ld t6, 8(t4)
  bltu t6, t5, fail_sort
  addi t4, t4, 8
  addi s3, s3, -1
  bnez s3, check_loop
  li t0, QUARTER * 8
  add s0, s0, t0
  addi s2, s2, -1
  bnez s2, check_quarter

  # ---- 4. bitwise CRC-32 over the array bytes
  la s0, array
  li s1, N * 8
  li a0, -1                     # crc
  li t2, 0xedb88320
crc_byte:
  lbu t0, 0(s0)
  xor a0, a0, t0
  li t1, 8
crc_bit:
  andi t0, a0, 1
  srli a0, a0, 1
  slli a0, a0, 32
  srli a0, a0, 32
  beqz t0, crc_skip
  xor a0, a0, t2
crc_skip:
  addi t1, t1, -1
  bnez t1, crc_bit
  addi s0, s0, 1
  addi s1, s1, -1
  bnez s1, crc_byte
  not a0, a0
  slli a0, a0, 32
  srli a0, a0, 32
  add s11, s11, a0
  slli t0, s11, 7
  xor s11, s11, t0

  # ---- 5. multiply / divide
  li s1, MULDIV_ROUNDS
  li a1, 0x123456789
  li a2, 1000003
muldiv:
  mul t0, a1, a1
  mulh t1, a1, s9
  add t0, t0, t1
  ori t3, t0, 1
  div t4, s9, t3
  rem t5, t0, a2
  divu t6, t0, a2
  remw a3, t4, a2
  add a1, t5, t6
  add a1, a1, a3
  addi a1, a1, 7
  xor s11, s11, t4
  addi s1, s1, -1
  bnez s1, muldiv
  add s11, s11, a1

  addi s10, s10, -1
  bnez s10, round

  # ---- 6. result
  la t0, result
  sd s11, 0(t0)
  li t0, EXPECTED
  bne s11, t0, fail_sum
  li a0, 1
  j write_tohost
fail_sort:
  li a0, (2 << 1) | 1
  j write_tohost
fail_sum:
  li a0, (3 << 1) | 1
write_tohost:
  la t0, tohost
  sw a0, 0(t0)
  sw zero, 4(t0)
1:
  j 1b
park:
  wfi
  j park

.data
.balign 4096
.globl tohost
tohost: .dword 0
.balign 64
.globl fromhost
fromhost: .dword 0
.globl result
result: .dword 0

.bss
.balign 4096                    # data pages apart from code pages, as in real programs
array: .zero N * 8
