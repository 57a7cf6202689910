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

for (const [name, fence] of [["RFENCE", SBI_RFENCE], ["legacy", LEGACY_RFENCE]]) {
  Deno.test(`remote fence: ${name} remote_fence_i makes another vCPU run the patched code`, () => {
    const { hv, fs } = makeHypervisor({ "/guests/fence.S": GUEST(fence) });
    const config = patchToml(fs.readTextFile("/configs/smp.toml"), {
      id: "30",
      name: '"fence"',
      cpu_num: "2",
      phys_cpu_ids: "[0, 1]",
      phys_cpu_sets: "[0x1, 0x2]",
      kernel_path: '"/guests/fence.S"',
    });
    const vm = hv.createVm({ text: config, origin: "/configs/fence.toml" });
    hv.startVm(vm.id);
    assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9), vm.console.text());
    assert.equal(vm.console.text(), "2\n");
  });
}
