/**
 * Snapshot, restore and clone of a booted guest: Debian's U-Boot at its `=>` prompt (1 vCPU,
 * 256 MiB configured), a synthetic guest with 64 MiB of touched memory, and, when `deno task
 * images` has fetched it, the Linux example guest (examples/configs/linux.toml) at its shell. Each case boots its guest once, outside the
 * timing; then:
 *
 * - `snapshot`: capture (the VM is held only for this) plus compression into file bytes;
 * - `restore`: decode, check and replace the whole state of the same, running VM;
 * - `clone`: a copy-on-write clone of the running VM (deleted again outside the measure).
 *
 * Goals (issue 13): snapshot < 1 s, restore < 200 ms, clone < 50 ms. When the run ends, a
 * summary prints the file size next to the guest's touched memory.
 *
 * @module
 */

import { HostFileSystem } from "../lib/protocol/host_filesystem.ts";
import { loadBoard } from "../lib/hw/boards/load.ts";
import { Hypervisor, MemoryFileSystem, type Vm } from "../mod.ts";
import { testFiles, vmConfig } from "../tests/shell/helpers.ts";
import {
  makeUbootHypervisor,
  missingRequirements,
  NEEDS_UBOOT,
  UBOOT_CONFIG,
  UbootConsole,
} from "../tests/vmm/uboot_support.ts";

interface Guest {
  hv: Hypervisor;
  vm: Vm;
  file: Uint8Array;
}

const sizes = new Map<string, { bytes: number; resident: number; pages: number }>();

async function prepare(name: string, boot: () => { hv: Hypervisor; vm: Vm }): Promise<Guest> {
  const { hv, vm } = boot();
  const snap = await hv.snapshot(vm);
  const resident = vm.regions.reduce((n, r) => n + (r.memory?.residentBytes() ?? 0), 0);
  sizes.set(name, { bytes: snap.bytes.length, resident, pages: snap.pages });
  return { hv, vm, file: snap.bytes };
}

function bootUboot(): { hv: Hypervisor; vm: Vm } {
  const { hv } = makeUbootHypervisor();
  const vm = hv.createVm({ path: UBOOT_CONFIG });
  const u = new UbootConsole(hv, vm);
  hv.startVm(vm.id);
  u.stopAutoboot();
  u.close();
  return { hv, vm };
}

const LINUX_CONFIG = new URL("../examples/configs/linux.toml", import.meta.url);

function linuxMissing(): string | undefined {
  try {
    Deno.statSync(LINUX_CONFIG);
    Deno.statSync(new URL("../examples/images/", import.meta.url));
    return undefined;
  } catch {
    return "examples/configs/linux.toml or examples/images/ missing (run `deno task images`)";
  }
}

function bootLinux(): { hv: Hypervisor; vm: Vm } {
  const fs = new HostFileSystem(new URL("../examples/", import.meta.url).pathname);
  const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs });
  const vm = hv.createVm({ path: "/configs/linux.toml" });
  hv.startVm(vm.id);
  // Boot until the shell prompt (or a login prompt) appears.
  if (!hv.runUntil(() => /(# |\$ |login: )$/.test(vm.console.text()), 300e9)) {
    throw new Error(`Linux did not reach a prompt: ${vm.console.text().slice(-500)}`);
  }
  return { hv, vm };
}

function cases(name: string, missing: string | undefined, boot: () => { hv: Hypervisor; vm: Vm }) {
  let guest: Promise<Guest> | undefined;
  const get = () => guest ??= prepare(name, boot);
  const ignore = missing !== undefined;
  const label = (what: string) => `${name}: ${what}${missing ? ` (skipped: ${missing})` : ""}`;
  Deno.bench({
    name: label("snapshot"),
    group: `${name} snapshot/restore/clone`,
    ignore,
    // Big guests take seconds per iteration: a fixed, small count keeps the suite short.
    n: 10,
    warmup: 1,
    async fn(b) {
      const g = await get();
      b.start();
      await g.hv.snapshot(g.vm);
      b.end();
    },
  });
  Deno.bench({
    name: label("restore"),
    group: `${name} snapshot/restore/clone`,
    ignore,
    // Big guests take seconds per iteration: a fixed, small count keeps the suite short.
    n: 10,
    warmup: 1,
    async fn(b) {
      const g = await get();
      b.start();
      await g.hv.restore(g.vm.id, g.file);
      b.end();
    },
  });
  let n = 0;
  Deno.bench({
    name: label("clone"),
    group: `${name} snapshot/restore/clone`,
    ignore,
    // Big guests take seconds per iteration: a fixed, small count keeps the suite short.
    n: 10,
    warmup: 1,
    async fn(b) {
      const g = await get();
      b.start();
      const c = g.hv.clone(g.vm, { name: `clone-${n++}` });
      b.end();
      g.hv.deleteVm(c.id, { force: true, keepData: true });
    },
  });
}

/**
 * A stand-in for a booted Linux when its images are absent: the echo guest with 256 MiB of RAM
 * of which 64 MiB are touched with half-compressible data (words of a counter and noise).
 */
function bootSynthetic(): { hv: Hypervisor; vm: Vm } {
  const fs = new MemoryFileSystem({
    ...testFiles(),
    "/guest/configs/big.toml": vmConfig(20, "big", "echo", { memory: 0x1000_0000 }),
  });
  const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs });
  const vm = hv.createVm({ path: "/guest/configs/big.toml" });
  hv.startVm(vm.id);
  hv.runFor(1e6);
  const mem = vm.regions[0].memory!;
  let x = 0x12345678;
  const page = new Uint8Array(4096);
  const words = new Uint32Array(page.buffer);
  for (let p = 256; p < 256 + 16384; p++) {
    for (let i = 0; i < 1024; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      words[i] = i % 2 === 0 ? p * 1024 + i : x >>> (i % 24);
    }
    mem.writeBytes(p * 4096, page);
  }
  return { hv, vm };
}

cases("U-Boot", missingRequirements([NEEDS_UBOOT]), bootUboot);
cases("synthetic 64 MiB", undefined, bootSynthetic);
cases("Linux", linuxMissing(), bootLinux);

globalThis.addEventListener("unload", () => {
  if (sizes.size === 0) return;
  console.log("\nsnapshot file sizes:");
  for (const [name, s] of sizes) {
    console.log(
      `  ${name}: ${(s.bytes / 1024).toFixed(0)} KiB for ${s.pages} non-zero pages (${
        (s.resident / 1024).toFixed(0)
      } KiB resident, ratio ${(s.bytes / s.resident).toFixed(3)})`,
    );
  }
});
