/**
 * Time to the busybox shell prompt: Debian's kernel with the initramfs of `deno task images` as
 * an axvisor.ts VM (examples/configs/linux.toml, 1 vCPU, warp clock), next to
 * `qemu-system-riscv64 -M virt -smp 4 -bios fw_jump.elf -kernel Image -initrd ... -append ...`
 * booting the same files in the same run. Each boot is long (about a minute at ~20 MIPS), so
 * each case runs once. The summary prints, per case, the wall time to the kernel's
 * "Run /init" line and to the shell prompt, the virtual time the guest saw (deterministic), the
 * instructions retired and MIPS, and the ratio to QEMU's wall time.
 *
 * Needs the images (`deno task images`), and qemu-system-misc + opensbi for the QEMU case; a
 * missing one skips its case with a message saying what to do.
 *
 * @module
 */

import {
  BANNER,
  LINUX_CONFIG,
  LinuxConsole,
  makeLinuxHypervisor,
  missingImages,
  missingQemu,
  onQemu,
  PROMPT_RE,
} from "../tests/vmm/linux_support.ts";

interface Sample {
  initMs: number;
  promptMs?: number;
  virtualMs?: number;
  instructions?: number;
  error?: string;
}

const results = new Map<string, Sample>();
const noImages = missingImages();
const noQemu = noImages ?? missingQemu();

Deno.bench({
  name: noImages ? `axvisor.ts VM, 1 vCPU (skipped: ${noImages})` : "axvisor.ts VM, 1 vCPU",
  group: "Linux to the shell prompt",
  ignore: noImages !== undefined,
  n: 1,
  warmup: 0,
  fn: (b) => {
    const { hv } = makeLinuxHypervisor();
    const vm = hv.createVm({ path: LINUX_CONFIG });
    const tty = new LinuxConsole(hv, vm);
    b.start();
    const t0 = performance.now();
    hv.startVm(vm.id);
    tty.until("Run /init as init process", 200e9);
    const sample: Sample = { initMs: performance.now() - t0 };
    try {
      tty.until(BANNER, 20e9);
      tty.until(PROMPT_RE, 20e9);
      sample.promptMs = performance.now() - t0;
    } catch (e) {
      sample.error = (e as Error).message.split("\n")[0];
    }
    b.end();
    sample.virtualMs = hv.clock.now() / 1e6;
    sample.instructions = vm.stats().instret;
    results.set("axvisor.ts VM, 1 vCPU", sample);
    tty.close();
    hv.deleteVm(vm.id, { force: true });
  },
});

Deno.bench({
  name: noQemu ? `QEMU -M virt (skipped: ${noQemu})` : "QEMU -M virt, OpenSBI, 4 harts",
  group: "Linux to the shell prompt",
  ignore: noQemu !== undefined,
  n: 1,
  warmup: 0,
  fn: async (b) => {
    b.start();
    const r = await onQemu([]);
    b.end();
    results.set("QEMU -M virt", { initMs: NaN, promptMs: r.bootMs });
  },
});

globalThis.addEventListener("unload", () => {
  if (results.size === 0) return;
  const qemu = results.get("QEMU -M virt")?.promptMs;
  const s = (ms?: number) =>
    ms === undefined || Number.isNaN(ms) ? "-" : `${(ms / 1e3).toFixed(1)} s`;
  console.log("\nLinux to the shell prompt (one boot each):");
  for (const [name, r] of results) {
    const parts = [`${name}:`, `/init after ${s(r.initMs)},`, `prompt after ${s(r.promptMs)}`];
    if (r.virtualMs !== undefined) {
      parts.push(`| virtual ${(r.virtualMs / 1e3).toFixed(3)} s`);
      parts.push(`| ${(r.instructions! / 1e6).toFixed(0)} M instructions`);
      const wall = r.promptMs ?? r.initMs;
      parts.push(`| ${(r.instructions! / wall / 1e3).toFixed(1)} MIPS`);
      if (qemu && r.promptMs) parts.push(`| ${(r.promptMs / qemu).toFixed(1)}x QEMU`);
    }
    if (r.error) parts.push(`| shell not reached: ${r.error}`);
    console.log(`  ${parts.join(" ")}`);
  }
});
