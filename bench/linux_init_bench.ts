/**
 * Linux boot to userspace: a riscv64 kernel (raw `Image`, e.g. Debian's
 * `/boot/vmlinux-*-riscv64`, which is an Image with an EFI stub header) and an initramfs, booted
 * as an axvisor.ts VM with 1 and with 4 vCPUs, next to `qemu-system-riscv64 -M virt` + OpenSBI
 * booting the same files in the same run. Each case runs until the kernel prints
 * `Run /init as init process` (the kernel hands over to userspace) and reports the instructions
 * executed, wall time, CPU time of this process (steadier than wall time on a shared machine),
 * MIPS, the hart statistics (instructions per tier, block exits, compilations, fence.i, page
 * walks) and the ratio to QEMU's wall time.
 *
 * Images: `AXVISOR_LINUX_KERNEL` and `AXVISOR_LINUX_INITRD` (host paths), else
 * examples/images/linux/Image and examples/images/linux/initramfs.cpio.gz (`deno task images` puts them there).
 * A missing image or QEMU skips its cases with a message.
 *
 * @module
 */

import process from "node:process";
import { Hypervisor, loadBoard, MemoryFileSystem } from "../mod.ts";
import { codeCacheStats, type HartStatsRecord } from "../lib/hw/riscv/hart_stats.ts";
import { hostHas, NEEDS_QEMU, QEMU_RISCV64 } from "../tests/vmm/uboot_support.ts";

const MARKER = "Run /init as init process";
const IMAGES = new URL("../examples/images/linux/", import.meta.url);
const OPENSBI_FW_JUMP_ELF = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

function readable(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const kernelPath = env("AXVISOR_LINUX_KERNEL") ?? new URL("Image", IMAGES).pathname;
const initrdPath = env("AXVISOR_LINUX_INITRD") ?? new URL("initramfs.cpio.gz", IMAGES).pathname;
const missingImages = [kernelPath, initrdPath].filter((p) => !readable(p));
const imagesNote = missingImages.length > 0
  ? `${missingImages.join(" and ")} missing: run \`deno task images\` or set ` +
    "AXVISOR_LINUX_KERNEL / AXVISOR_LINUX_INITRD"
  : undefined;
const qemuNote = !NEEDS_QEMU.every(hostHas) || !readable(OPENSBI_FW_JUMP_ELF)
  ? "qemu-system-riscv64 and OpenSBI's fw_jump.elf are needed: install qemu-system-misc opensbi"
  : undefined;

const CMDLINE = "console=ttyS0 earlycon=sbi panic=-1";

function config(cpus: number): string {
  return `
[base]
id = 1
name = "linux"
vm_type = 1
cpu_num = ${cpus}

[kernel]
entry_point = 0x8020_0000
image_location = "fs"
kernel_path = "/images/Image"
kernel_load_addr = 0x8020_0000
ramdisk_path = "/images/initrd"
ramdisk_load_addr = 0x8800_0000
cmdline = "${CMDLINE}"
memory_regions = [[0x8000_0000, 0x1000_0000, 0x7, 0]]

[devices]
emu_devices = [
    ["uart0", 0x1000_0000, 0x100, 10, 0x2, []],
    ["plic", 0x0c00_0000, 0x60_0000, 0, 0x1, [96]],
]
passthrough_devices = []
interrupt_mode = "emulated"
`;
}

/** One boot's figures. */
interface Result {
  wallMs: number;
  cpuMs?: number;
  instructions?: number;
  stats?: HartStatsRecord[];
}

const results = new Map<string, Result>();

function axvisorCase(cpus: number, jit = true): void {
  const name = `axvisor.ts, ${cpus} vCPU${cpus > 1 ? "s" : ""}${jit ? "" : ", interpreter only"}`;
  Deno.bench({
    name: imagesNote ? `${name} (skipped: ${imagesNote})` : name,
    group: "Linux boot to userspace",
    ignore: imagesNote !== undefined,
    n: 1,
    warmup: 0,
    fn: (b) => {
      const fs = new MemoryFileSystem({
        "/configs/linux.toml": config(cpus),
        "/images/Image": Deno.readFileSync(kernelPath),
        "/images/initrd": Deno.readFileSync(initrdPath),
      });
      const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs, jit });
      const vm = hv.createVm({ path: "/configs/linux.toml" });
      let out = "";
      const decoder = new TextDecoder();
      vm.console.subscribe((d) => (out += decoder.decode(d, { stream: true })));
      const cpu = process.cpuUsage();
      b.start();
      const t0 = performance.now();
      hv.startVm(vm.id);
      const ok = hv.runUntil(() => out.includes(MARKER) || vm.status !== "running", 600e9);
      const wallMs = performance.now() - t0;
      b.end();
      const used = process.cpuUsage(cpu);
      if (!ok || !out.includes(MARKER)) {
        throw new Error(
          `${name}: no "${MARKER}" (status ${vm.status}); console:\n${out.slice(-2000)}`,
        );
      }
      results.set(name, {
        wallMs,
        cpuMs: (used.user + used.system) / 1000,
        instructions: vm.stats().instret,
        stats: vm.vcpus.map((v) => {
          const h = v.hart as unknown as {
            stats: { snapshot(i: number, b: number): HartStatsRecord };
            instret: number;
            blockInstructions: number;
          };
          return h.stats.snapshot(h.instret, h.blockInstructions);
        }),
      });
      hv.deleteVm(vm.id, { force: true });
    },
  });
}

function qemuCase(cpus: number): void {
  const name = `qemu-system-riscv64 -M virt -smp ${cpus} (OpenSBI fw_jump)`;
  const note = imagesNote ?? qemuNote;
  Deno.bench({
    name: note ? `${name} (skipped: ${note})` : name,
    group: "Linux boot to userspace",
    ignore: note !== undefined,
    n: 1,
    warmup: 0,
    fn: async (b) => {
      b.start();
      const t0 = performance.now();
      const child = new Deno.Command(QEMU_RISCV64, {
        args: [
          ...["-M", "virt", "-bios", OPENSBI_FW_JUMP_ELF, "-kernel", kernelPath],
          ...["-initrd", initrdPath, "-append", CMDLINE, "-nographic", "-no-reboot"],
          ...["-smp", String(cpus), "-m", "256M"],
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      let out = "";
      const decoder = new TextDecoder();
      const reader = child.stdout.getReader();
      try {
        while (!out.includes(MARKER)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`QEMU ended before "${MARKER}":\n${out.slice(-2000)}`);
          out += decoder.decode(value, { stream: true });
        }
      } finally {
        const wallMs = performance.now() - t0;
        b.end();
        results.set(name, { wallMs });
        child.kill("SIGKILL");
        await reader.cancel().catch(() => {});
        await child.status;
      }
    },
  });
}

for (const cpus of [1, 4]) {
  qemuCase(cpus);
  axvisorCase(cpus);
}
// The compiled tier against the interpreter alone on kernel code (see the JIT_THRESHOLD notes).
axvisorCase(1, false);

globalThis.addEventListener("unload", () => {
  if (results.size === 0) return;
  console.log(`\nLinux boot to userspace ("${MARKER}"), kernel ${kernelPath}:`);
  for (const [name, r] of results) {
    const parts = [`wall ${(r.wallMs / 1000).toFixed(2)} s`];
    if (r.instructions !== undefined && r.cpuMs !== undefined) {
      parts.push(
        `CPU ${(r.cpuMs / 1000).toFixed(2)} s`,
        `${(r.instructions / 1e6).toFixed(0)} M instructions`,
        `${(r.instructions / r.wallMs / 1e3).toFixed(1)} MIPS (${
          (r.instructions / r.cpuMs / 1e3).toFixed(1)
        } by CPU time)`,
      );
      const cpus = name.match(/(\d+) vCPU/)?.[1];
      const qemu = [...results].find(([n]) => n.includes(`-smp ${cpus} `))?.[1];
      if (qemu) parts.push(`${(r.wallMs / qemu.wallMs).toFixed(2)}x QEMU's wall time`);
    }
    console.log(`  ${name}: ${parts.join(", ")}`);
    for (const [i, s] of (r.stats ?? []).entries()) {
      console.log(
        `    vCPU ${i}: ${s.interpretedInstructions} interpreted, ${s.blockInstructions} in ` +
          `blocks, ${s.compilations} blocks compiled, exits ${JSON.stringify(s.blockExits)}, ` +
          `${s.chainedCalls} units entered from units, ` +
          `fence.i ${s.fenceI} (${s.fenceIFlushes} dropping code), ${s.tlbFlushes} TLB flushes ` +
          `(by cause, partial ones included: ${JSON.stringify(s.tlbFlushCauses)}), ` +
          `${s.pageWalks} page walks, exceptions ${JSON.stringify(s.exceptions)}, interrupts ${
            JSON.stringify(s.interrupts)
          }`,
      );
    }
  }
  console.log(`  code cache (all harts): ${JSON.stringify(codeCacheStats)}`);
});
