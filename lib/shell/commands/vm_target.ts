/**
 * Turning a command's VM argument (an id or a name) into a VM, and the shell context of the VM
 * commands.
 *
 * @module
 */

import type { Hypervisor, Vm } from "../../vmm/mod.ts";
import type { BaseContext } from "../context.ts";
import type { VmDataFolders } from "../vm_data.ts";
import { parseUnsigned } from "../format.ts";

/** The context of every command: the base context plus the hypervisor. */
export interface ShellContext extends BaseContext {
  /** The hypervisor the commands drive. */
  hypervisor: Hypervisor;
  /** The VMs' data folders (`/guest/vms/<name>/`). */
  data: VmDataFolders;
}

/** A VM argument resolved, or not. */
export interface VmTarget {
  /** The argument as typed. */
  arg: string;
  /** The VM id when the argument was a number (even if no such VM exists). */
  id?: number;
  /** The VM, when it exists. */
  vm?: Vm;
  /** How the seed names it in messages: `VM[3]` (by id) or `VM[3]` of the named VM. */
  label: string;
}

/**
 * Resolves an id (`3`, `0x3`) or a name (`linux`). An id wins over a name that looks like a
 * number. The label is `VM[id]` whenever an id is known, else `VM 'name'`.
 */
export function resolveVm(hypervisor: Hypervisor, arg: string): VmTarget {
  const id = parseUnsigned(arg);
  if (id !== undefined) {
    const vm = hypervisor.vm(id);
    return vm ? { arg, id, vm, label: `VM[${id}]` } : { arg, id, label: `VM[${id}]` };
  }
  const vm = hypervisor.vm(arg);
  return vm ? { arg, id: vm.id, vm, label: `VM[${vm.id}]` } : { arg, label: `VM '${arg}'` };
}

/** The seed's `✗ VM[id] not found` (or `✗ VM 'name' not found`). */
export function notFoundLine(target: VmTarget): string {
  return `✗ ${target.label} not found`;
}
