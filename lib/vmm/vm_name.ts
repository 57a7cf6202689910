/**
 * VM names, and the data folders built from them.
 *
 * A VM name ends up in filesystem paths (the seed's `/guest/vms/<name>/`), so it must be one
 * plain path component: letters, digits, `-`, `_` and `.`, at most {@linkcode VM_NAME_MAX}
 * characters, and neither `.` nor `..`. A name is never all digits (commands take an id or a
 * name: `8` must mean VM 8), and no two VMs share a name (their data folders would collide). Configs are checked when they are parsed
 * ({@linkcode parseVmConfig}) and again at create; every place that builds a path from a name goes
 * through {@linkcode vmDataPath}, which refuses a name that could leave its folder.
 *
 * The shell's data folders (lib/shell/vm_data.ts) map a name to a folder with `safeFolderName`,
 * which is the identity for every name this module accepts, so the VMM and the shell always
 * agree on the folder of a VM.
 *
 * @module
 */

/** Longest VM name, in characters. */
export const VM_NAME_MAX = 64;

/** Where the seed keeps each VM's data folder. */
export const VM_DATA_DIR = "/guest/vms";

const NAME_CHARS = /^[A-Za-z0-9._-]+$/;

/**
 * What is wrong with `name` as a VM name, or `undefined` when it is valid. The text is meant to
 * follow `base.name: ` in an error message.
 */
export function vmNameProblem(name: string): string | undefined {
  if (name.length === 0) return "a VM name cannot be empty";
  if (name.length > VM_NAME_MAX) {
    return `VM name ${
      JSON.stringify(name.slice(0, 16))
    }... is ${name.length} characters long (at most ${VM_NAME_MAX})`;
  }
  if (name === "." || name === "..") {
    return `VM name ${JSON.stringify(name)} is not allowed (it names a folder, not a VM)`;
  }
  if (/^[0-9]+$/.test(name)) {
    return `VM name ${
      JSON.stringify(name)
    } is all digits: it would read as a VM id in commands (give it a letter, e.g. "vm${name}")`;
  }
  if (!NAME_CHARS.test(name)) {
    const bad = [...name].find((c) => !/[A-Za-z0-9._-]/.test(c))!;
    return `VM name ${JSON.stringify(name)} contains ${
      JSON.stringify(bad)
    }: only letters, digits, '-', '_' and '.' are allowed`;
  }
  return undefined;
}

/** Whether `name` is a valid VM name (see {@linkcode vmNameProblem}). */
export function isValidVmName(name: string): boolean {
  return vmNameProblem(name) === undefined;
}

/** Raised when a path would be built from an invalid VM name. */
export class VmNameError extends Error {
  /** Error code for structured output. */
  readonly code = "EVMNAME";
  /** The offending name. */
  readonly vmName: string;
  /** Creates the error; `where` names the operation that built the path. */
  constructor(vmName: string, where: string, problem: string) {
    super(`${where}: ${problem}`);
    this.name = "VmNameError";
    this.vmName = vmName;
  }
}

/**
 * The path of `file` in VM `name`'s data folder, `/guest/vms/<name>/<file>` (or the folder itself
 * without `file`). Throws {@linkcode VmNameError} for a name or file name that is not one plain
 * path component, so that no caller can reach outside the data folder.
 */
export function vmDataPath(name: string, file?: string, dir: string = VM_DATA_DIR): string {
  const problem = vmNameProblem(name);
  if (problem) throw new VmNameError(name, `data folder of VM ${JSON.stringify(name)}`, problem);
  if (file === undefined) return `${dir}/${name}`;
  if (!NAME_CHARS.test(file) || file === "." || file === "..") {
    throw new VmNameError(
      name,
      `data folder of VM ${JSON.stringify(name)}`,
      `file name ${JSON.stringify(file)} is not a plain file name`,
    );
  }
  return `${dir}/${name}/${file}`;
}

/** Most console log files kept per VM: `vm.log` and its rotations `vm.log.1` ... `vm.log.9`. */
export const MAX_CONSOLE_LOG_FILES = 10;

/**
 * The files of a data folder that `vm delete` removes: the seed's list, the VM's record
 * (`vm.json`), plus the rotated console logs.
 */
export const VM_DATA_FILES: readonly string[] = [
  "disk.img",
  "config.toml",
  "vm.log",
  "vm.json",
  ...Array.from({ length: MAX_CONSOLE_LOG_FILES - 1 }, (_, i) => `vm.log.${i + 1}`),
];
