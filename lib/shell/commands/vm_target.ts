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

/**
 * The seed's line for a VM argument that names no VM: `✗ VM[id] not found` for an id (seed
 * lines 2157, 2331, 2375, 2493, 2751, 3523, 3647), and `Error: Invalid VM ID: x` for a word
 * that is neither an id nor a VM's name (seed lines 1947, 2104, 2791, 3414).
 */
export function notFoundLine(target: VmTarget): string {
  return target.id === undefined
    ? `Error: Invalid VM ID: ${target.arg}`
    : `✗ ${target.label} not found`;
}

/** The error of an unresolved VM argument: `NOT_FOUND` for an id, `INVALID_ID` for a word. */
export function notFoundError(target: VmTarget): { code: string; message: string } {
  return target.id === undefined
    ? { code: "INVALID_ID", message: `Invalid VM ID: ${target.arg}` }
    : { code: "NOT_FOUND", message: `${target.label} not found` };
}

/**
 * The seed's answer to a VM command given no VM (seed lines 2097-2098, 2773-2774):
 * `Error: No VM specified` and the command's usage.
 */
export function noVmText(usage: string): string {
  return `Error: No VM specified\nUsage: ${usage}`;
}
