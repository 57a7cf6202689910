/**
 * Test helpers: a hypervisor on the default board whose filesystem holds examples/ (guests and
 * configs), in memory.
 *
 * @module
 */

import { loadBoard } from "../../lib/hw/boards/load.ts";
import { Hypervisor, type HypervisorOptions } from "../../lib/vmm/hypervisor.ts";
import { MemoryFileSystem } from "../../lib/vmm/memory_filesystem.ts";
import type { Vm } from "../../lib/vmm/vm.ts";

const EXAMPLES = new URL("../../examples/", import.meta.url);

/** Reads examples/guests and examples/configs into a map of `/guests/x.S` to text. */
export function exampleFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const dir of ["guests", "configs"]) {
    for (const e of Deno.readDirSync(new URL(`${dir}/`, EXAMPLES))) {
      if (e.isFile) {
        files[`/${dir}/${e.name}`] = Deno.readTextFileSync(new URL(`${dir}/${e.name}`, EXAMPLES));
      }
    }
  }
  return files;
}

/** A hypervisor on qemu-virt (warp clock) with examples/ as its filesystem plus `extra` files. */
export function makeHypervisor(
  extra: Record<string, string> = {},
  options: Partial<HypervisorOptions> = {},
): { hv: Hypervisor; fs: MemoryFileSystem } {
  const fs = new MemoryFileSystem({ ...exampleFiles(), ...extra });
  const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs, ...options });
  return { hv, fs };
}

/** Replaces `key = value` lines of a TOML text (first match of each key). */
export function patchToml(text: string, changes: Record<string, string>): string {
  let out = text;
  for (const [key, value] of Object.entries(changes)) {
    const re = new RegExp(`^${key}\\s*=.*$`, "m");
    if (!re.test(out)) throw new Error(`patchToml: no key ${key}`);
    out = out.replace(re, `${key} = ${value}`);
  }
  return out;
}

/** A one-vCPU config running `/guests/<name>.S`. */
export function guestConfig(name: string, id = 40): string {
  return `[base]
id = ${id}
name = "${name}"
vm_type = 1
cpu_num = 1
[kernel]
entry_point = 0x8020_0000
image_location = "fs"
kernel_path = "/guests/${name}.S"
kernel_load_addr = 0x8020_0000
memory_regions = [[0x8000_0000, 0x400_0000, 0x7, 0]]
[devices]
emu_devices = []
passthrough_devices = []
interrupt_mode = "no_irq"
`;
}

/** SRST shutdown, then spin. */
export const SHUTDOWN = `
    li      a7, 0x53525354
    li      a6, 0
    li      a0, 0
    li      a1, 0
    ecall
1:  j       1b
`;

/** A hypervisor running a one-vCPU VM whose code is `body` (then an SRST shutdown). */
export function guestVm(name: string, body: string): { hv: Hypervisor; vm: Vm } {
  const { hv } = makeHypervisor({
    [`/guests/${name}.S`]: `    .text\n    .globl _start\n_start:\n${body}\n${SHUTDOWN}`,
    [`/configs/${name}.toml`]: guestConfig(name),
  });
  const vm = hv.createVm({ path: `/configs/${name}.toml` });
  if (!hv.startVm(vm.id).ok) throw new Error("guestVm: start failed");
  return { hv, vm };
}
