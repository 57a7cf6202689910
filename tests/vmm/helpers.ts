/**
 * Test helpers: a hypervisor on the default board whose filesystem holds examples/ (guests and
 * configs), in memory.
 *
 * @module
 */

import { loadBoard } from "../../lib/hw/boards/load.ts";
import { Hypervisor, type HypervisorOptions } from "../../lib/vmm/hypervisor.ts";
import { MemoryFileSystem } from "../../lib/vmm/memory_filesystem.ts";

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
