/**
 * Time to U-Boot's `=>` prompt: Debian's u-boot.bin (qemu-riscv64_smode) as an axvisor.ts VM,
 * next to `qemu-system-riscv64 -M virt -bios fw_jump.bin -kernel u-boot.bin -nographic` booting
 * the same file in the same run. Both get a key as soon as the autoboot countdown appears, as a
 * person would. An axvisor.ts iteration builds a hypervisor and creates the VM outside the
 * timing, then times `startVm` to the prompt; a QEMU iteration times process start to the prompt
 * (OpenSBI's boot included, as for a user). When the run ends, a summary prints per case the
 * median wall time, the virtual time U-Boot saw (axvisor.ts: deterministic, the same every run),
 * the instructions and MIPS, and the ratio to QEMU, plus the first (cold) axvisor.ts boot of the
 * process, which includes V8's warm-up of the interpreter.
 *
 * Needs u-boot-qemu, and qemu-system-misc + opensbi for the QEMU case; a missing one skips its
 * cases with a message naming the package.
 *
 * @module
 */

import {
  makeUbootHypervisor,
  missingRequirements,
  NEEDS_QEMU,
  NEEDS_UBOOT,
  QemuUboot,
  UBOOT_CONFIG,
  UBOOT_SMP_CONFIG,
  UbootConsole,
} from "../tests/vmm/uboot_support.ts";

/** One measured boot. */
interface Sample {
  wallMs: number;
  virtualMs?: number;
  instructions?: number;
}

const samples = new Map<string, Sample[]>();
const warmedUp = new Set<string>();
let coldBoot: Sample | undefined;

/** Keeps a sample; the first call of each case is its warm-up run (the first of all is the cold boot). */
function record(name: string, sample: Sample): void {
  if (!warmedUp.has(name)) {
    warmedUp.add(name);
    coldBoot ??= sample.virtualMs !== undefined ? sample : undefined;
    return;
  }
  const list = samples.get(name) ?? [];
  list.push(sample);
  samples.set(name, list);
}

const missingUboot = missingRequirements([NEEDS_UBOOT]);
const missingQemu = missingRequirements([NEEDS_UBOOT, ...NEEDS_QEMU]);

/** A bench case on the VMM: `config` booted to the prompt on a fresh hypervisor. */
function axvisorCase(name: string, config: string, jit: boolean): void {
  Deno.bench({
    name: missingUboot ? `${name} (skipped: ${missingUboot})` : name,
    group: "U-Boot to the => prompt",
    ignore: missingUboot !== undefined,
    n: 5,
    warmup: 1,
    fn: (b) => {
      const { hv } = makeUbootHypervisor({}, { jit });
      const vm = hv.createVm({ path: config });
      const uboot = new UbootConsole(hv, vm);
      b.start();
      const t0 = performance.now();
      hv.startVm(vm.id);
      uboot.stopAutoboot(10e9);
      const wallMs = performance.now() - t0;
      b.end();
      const sample = { wallMs, virtualMs: hv.clock.now() / 1e6, instructions: vm.stats().instret };
      record(name, sample);
      uboot.close();
      hv.deleteVm(vm.id, { force: true });
    },
  });
}

const QEMU_CASE = "qemu-system-riscv64 -M virt + OpenSBI fw_jump, 1 hart, 256 MiB";

axvisorCase("axvisor.ts, 1 vCPU (examples/configs/uboot.toml)", UBOOT_CONFIG, false);
axvisorCase("axvisor.ts, 4 vCPUs (examples/configs/uboot-smp.toml)", UBOOT_SMP_CONFIG, false);
axvisorCase("axvisor.ts, 1 vCPU, hart JIT tier on", UBOOT_CONFIG, true);

Deno.bench({
  name: missingQemu ? `${QEMU_CASE} (skipped: ${missingQemu})` : QEMU_CASE,
  group: "U-Boot to the => prompt",
  baseline: true,
  ignore: missingQemu !== undefined,
  n: 5,
  warmup: 1,
  fn: async (b) => {
    b.start();
    const t0 = performance.now();
    const qemu = QemuUboot.start({ smp: 1, memoryMiB: 256 });
    try {
      await qemu.stopAutoboot();
      const wallMs = performance.now() - t0;
      b.end();
      record(QEMU_CASE, { wallMs });
    } finally {
      await qemu.close();
    }
  },
});

globalThis.addEventListener("unload", () => {
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
  const qemu = samples.get(QEMU_CASE);
  const qemuMs = qemu ? median(qemu.map((s) => s.wallMs)) : undefined;
  console.log("\nU-Boot to the => prompt (median of the timed runs):");
  for (const [name, list] of samples) {
    const wall = median(list.map((s) => s.wallMs));
    const parts = [`wall ${wall.toFixed(0)} ms`];
    const first = list[0];
    if (first.virtualMs !== undefined && first.instructions !== undefined) {
      parts.push(
        `virtual ${first.virtualMs.toFixed(1)} ms`,
        `${(first.instructions / 1e6).toFixed(2)} M instructions`,
        `${(first.instructions / wall / 1e3).toFixed(1)} MIPS`,
      );
    }
    if (qemuMs !== undefined && name !== QEMU_CASE) {
      parts.push(`${(wall / qemuMs).toFixed(2)}x QEMU's wall time`);
    }
    console.log(`  ${name}: ${parts.join(", ")} (${list.length} runs)`);
  }
  if (coldBoot) {
    console.log(
      `  first axvisor.ts boot of the process (cold interpreter): wall ${
        coldBoot.wallMs.toFixed(0)
      } ms`,
    );
  }
});
