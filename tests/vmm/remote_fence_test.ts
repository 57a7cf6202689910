/**
 * SBI remote fences reach the other vCPUs: code that one vCPU patches and then announces with
 * RFENCE remote_fence_i (or the legacy call) must be what another vCPU, which had already run
 * (and cached) the old code, executes next.
 */
import assert from "node:assert/strict";
import { makeHypervisor, patchToml } from "./helpers.ts";

const GUEST = (fence: string) => `
  .text
  .globl _start
_start:
  bnez a0, secondary
  li a7, 0x48534D          # HSM hart_start(1, secondary, 0)
  li a6, 0
  li a0, 1
  la a1, secondary
  li a2, 0
  ecall
1: la t0, phase            # wait until vCPU 1 has run f many times (and cached it)
  ld t1, 0(t0)
  li t2, 1
  bne t1, t2, 1b
  la t0, f                 # patch f: li a0, 1 -> li a0, 2
  la t1, patched
  lw t1, 0(t1)
  sw t1, 0(t0)
${fence}
  la t0, phase
  li t1, 2
  sd t1, 0(t0)
2: la t0, phase
  ld t1, 0(t0)
  li t2, 3
  bne t1, t2, 2b
  la t0, result
  ld a0, 0(t0)
  addi a0, a0, 48          # print the digit f returned after the patch
  li a7, 1
  ecall
  li a0, 10
  li a7, 1
  ecall
  li a7, 8                 # legacy shutdown
  ecall
secondary:
  li s1, 300
3: call f
  addi s1, s1, -1
  bnez s1, 3b
  la t0, phase
  li t1, 1
  sd t1, 0(t0)
4: la t0, phase
  ld t1, 0(t0)
  li t2, 2
  bne t1, t2, 4b
  call f
  la t0, result
  sd a0, 0(t0)
  la t0, phase
  li t1, 3
  sd t1, 0(t0)
5: wfi
  j 5b
f: addi a0, zero, 1
  ret
patched: addi a0, zero, 2
  .data
  .balign 4096
phase: .dword 0
result: .dword 0
`;

const SBI_RFENCE = `
  li a7, 0x52464E43        # RFENCE remote_fence_i(hart_mask = 0b10, base = 0)
  li a6, 0
  li a0, 2
  li a1, 0
  ecall`;

const LEGACY_RFENCE = `
  la a0, mask              # legacy remote_fence_i(&mask)
  li a7, 5
  ecall
  j 9f
  .balign 8
mask: .dword 2
9:`;

/** Runs `source` as VM `name` with two vCPUs (each on its own pCPU) until it stops; its console. */
function runTwoVcpuGuest(id: number, name: string, source: string): string {
  const { hv, fs } = makeHypervisor({ [`/guests/${name}.S`]: source });
  const config = patchToml(fs.readTextFile("/configs/smp.toml"), {
    id: String(id),
    name: `"${name}"`,
    cpu_num: "2",
    phys_cpu_ids: "[0, 1]",
    phys_cpu_sets: "[0x1, 0x2]",
    kernel_path: `"/guests/${name}.S"`,
  });
  const vm = hv.createVm({ text: config, origin: `/configs/${name}.toml` });
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9), vm.console.text());
  return vm.console.text();
}

for (const [name, fence] of [["RFENCE", SBI_RFENCE], ["legacy", LEGACY_RFENCE]]) {
  Deno.test(`remote fence: ${name} remote_fence_i makes another vCPU run the patched code`, () => {
    assert.equal(runTwoVcpuGuest(30, "fence", GUEST(fence)), "2\n");
  });
}

/**
 * Two vCPUs share an Sv39 table: VA 0x4000_0000 maps to page one (holding 1). vCPU 1 reads it
 * (caching the translation), vCPU 0 points the PTE at page two (holding 2) and sends RFENCE
 * remote_sfence_vma for `range`, then vCPU 1 reads again and the guest prints what it saw.
 */
const PAGING_GUEST = (start: string) => `
  .equ VA, 0x40000000
  .text
  .globl _start
_start:
  bnez a0, paging
  la a0, root              # root[1] -> l1, l1[0] -> l0, l0[0] -> page one
  la a1, l1
  call pointer
  la a0, l1
  la a1, l0
  call pointer
  la a0, l0
  la a1, page1
  call pointer
  ld t0, 0(a0)
  ori t0, t0, 0xc6         # D A W R: a leaf
  sd t0, 0(a0)
  li a0, 0
paging:
  la t0, root              # satp = Sv39 | root
  srli t0, t0, 12
  li t1, 8 << 60
  or t0, t0, t1
  csrw satp, t0
  sfence.vma
  bnez a0, secondary
  li a7, 0x48534D          # HSM hart_start(1, _start, 0)
  li a6, 0
  li a0, 1
  la a1, _start
  li a2, 0
  ecall
  j 1f
pointer:                   # (a0: table entry index 0 or 1 by table, a1: next) -> valid non-leaf
  srli t0, a1, 12
  slli t0, t0, 10
  ori t0, t0, 1
  la t1, root
  bne a0, t1, 3f
  sd t0, 8(a0)             # root[1] (VA 0x4000_0000)
  ret
3: sd t0, 0(a0)
  ret
1: la t0, phase            # wait until vCPU 1 has read VA
  ld t1, 0(t0)
  li t2, 1
  bne t1, t2, 1b
  la t0, page2             # leaf PTE -> page two
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, 0xc7         # D A R V (+W)
  la t1, l0
  sd t0, 0(t1)
  sfence.vma
  li a7, 0x52464E43        # RFENCE remote_sfence_vma(mask 0b10, base 0, start, 4096)
  li a6, 1
  li a0, 2
  li a1, 0
  li a2, ${start}
  li a3, 4096
  ecall
  la t0, phase
  li t1, 2
  sd t1, 0(t0)
2: la t0, phase
  ld t1, 0(t0)
  li t2, 3
  bne t1, t2, 2b
  la t0, result
  ld a0, 0(t0)
  addi a0, a0, 48
  li a7, 1
  ecall
  li a0, 10
  li a7, 1
  ecall
  li a7, 8
  ecall
secondary:
  li t0, VA
  ld t1, 0(t0)             # caches VA -> page one
  la t0, phase
  li t1, 1
  sd t1, 0(t0)
4: la t0, phase
  ld t1, 0(t0)
  li t2, 2
  bne t1, t2, 4b
  li t0, VA
  ld t1, 0(t0)
  la t0, result
  sd t1, 0(t0)
  la t0, phase
  li t1, 3
  sd t1, 0(t0)
5: wfi
  j 5b
  .data
  .balign 4096
root:                      # VPN2 1 -> l1 (set at run time); VPN2 2 (0x8000_0000 GiB) identity
  .dword 0
  .dword 0
  .dword (0x80000 << 10) | 0xcf
  .fill 509, 8, 0
l1:
  .fill 512, 8, 0
l0:
  .fill 512, 8, 0
page1:
  .dword 1
  .fill 511, 8, 0
page2:
  .dword 2
  .fill 511, 8, 0
phase: .dword 0
result: .dword 0
`;

for (
  const [range, expect, what] of [
    ["VA", "2", "the fenced page is translated again"],
    ["VA + 0x1000", "1", "another page's fence leaves this translation cached"],
  ] as const
) {
  Deno.test(`remote fence: RFENCE remote_sfence_vma of a range: ${what}`, () => {
    assert.equal(runTwoVcpuGuest(31, "sfence", PAGING_GUEST(range)), `${expect}\n`);
  });
}
