/**
 * Each VM's data folder, as the seed lays it out: `/guest/vms/<name>/` holding a copy of the
 * VM's config (`config.toml`) and its console log (`vm.log`, appended as output arrives). The
 * VMM removes those files on `vm delete` (unless `--keep-data`); the shell then removes the
 * folder when nothing else is left in it.
 *
 * @module
 */

import type { FileSystem } from "../vmm/filesystem.ts";
import type { Hypervisor, HypervisorEvent } from "../vmm/mod.ts";
import { fsErrorText } from "./fs_errors.ts";

/** Where the data folders live. */
export const DEFAULT_DATA_DIR = "/guest/vms";

/** Console bytes buffered per VM before they are appended to `vm.log` without a newline. */
export const LOG_FLUSH_BYTES = 4096;

/** The files of a data folder that `vm delete` removes. */
export const DATA_FILES: readonly string[] = ["disk.img", "config.toml", "vm.log", "vm.json"];

/** Folders of a data folder that `vm delete` removes with their contents (snapshots). */
export const DATA_SUBFOLDERS: readonly string[] = ["snapshots"];

/** A VM name as a single safe path component (see {@linkcode VmDataFolders.folderOf}). */
export function safeFolderName(name: string): string {
  // deno-lint-ignore no-control-regex
  const cleaned = name.replace(/[\/\\\x00-\x1f\x7f]/g, "_");
  return cleaned === "" || cleaned === "." || cleaned === ".." ? "_" + cleaned : cleaned;
}

/** Keeps every VM's data folder in step with the hypervisor's events. */
export class VmDataFolders {
  /** Root of the data folders, e.g. `/guest/vms`. */
  readonly dir: string;
  /** Problems met while writing (a read-only root, a full disk): reported, never thrown. */
  readonly problems: string[] = [];
  readonly #fs: FileSystem;
  readonly #hypervisor: Hypervisor;
  readonly #pending = new Map<number, string>();
  readonly #names = new Map<number, string>();
  readonly #decoders = new Map<number, TextDecoder>();
  #unsubscribe?: () => void;

  /** Starts following `hypervisor`'s events (VMs created before this get folders too). */
  constructor(hypervisor: Hypervisor, fs: FileSystem, dir = DEFAULT_DATA_DIR) {
    this.#hypervisor = hypervisor;
    this.#fs = fs;
    this.dir = dir;
    for (const vm of hypervisor.vms()) this.#create(vm.id);
    this.#unsubscribe = hypervisor.on((event) => this.#onEvent(event));
  }

  /**
   * The data folder of a VM name. A name that is not a plain file name (`a/b`, `..`, empty,
   * control characters) is made one (`a_b`, `_`), so no VM's data lands outside the folder.
   */
  folderOf(name: string): string {
    return `${this.dir}/${safeFolderName(name)}`;
  }

  /** The filesystem the data folders are on (may differ from the shell's). */
  get fs(): FileSystem {
    return this.#fs;
  }

  /** Appends buffered console output of one VM (or of all) to `vm.log`. */
  flush(vmId?: number): void {
    const ids = vmId === undefined ? [...this.#pending.keys()] : [vmId];
    for (const id of ids) {
      const text = this.#pending.get(id);
      const name = this.#names.get(id);
      this.#pending.delete(id);
      if (!text || name === undefined) continue;
      // After a failed write the VM's log is given up (one problem reported, not one per line).
      if (!this.#write(`${this.folderOf(name)}/vm.log`, text, true)) this.#names.delete(id);
    }
  }

  /**
   * Removes a deleted VM's data (the files the seed names: `disk.img`, `config.toml`,
   * `vm.log`), then its folder if nothing else is left. Returns whether the folder went.
   */
  removeData(name: string): boolean {
    const folder = this.folderOf(name);
    for (const file of DATA_FILES) {
      const path = `${folder}/${file}`;
      try {
        if (this.#fs.stat(path)?.kind === "file") this.#fs.remove(path);
      } catch (error) {
        this.problems.push(`cannot remove ${path}: ${fsErrorText(error)}`);
      }
    }
    for (const sub of DATA_SUBFOLDERS) {
      const path = `${folder}/${sub}`;
      try {
        if (this.#fs.stat(path)?.kind === "dir") this.#fs.remove(path, { recursive: true });
      } catch (error) {
        this.problems.push(`cannot remove ${path}: ${fsErrorText(error)}`);
      }
    }
    try {
      const info = this.#fs.stat(folder);
      if (info?.kind !== "dir" || this.#fs.readDir(folder).length > 0) return false;
      this.#fs.remove(folder);
      return true;
    } catch (error) {
      this.problems.push(`cannot remove ${folder}: ${fsErrorText(error)}`);
      return false;
    }
  }

  /** Flushes and stops following the hypervisor. */
  dispose(): void {
    this.flush();
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  #onEvent(event: HypervisorEvent): void {
    if (event.type === "console") {
      const name = this.#names.get(event.vmId);
      if (name === undefined) return;
      let decoder = this.#decoders.get(event.vmId);
      if (!decoder) this.#decoders.set(event.vmId, decoder = new TextDecoder());
      const text = (this.#pending.get(event.vmId) ?? "") +
        decoder.decode(event.data, { stream: true });
      this.#pending.set(event.vmId, text);
      if (text.includes("\n") || text.length >= LOG_FLUSH_BYTES) this.flush(event.vmId);
      return;
    }
    if (event.type !== "status") return;
    if (event.reason === "created") {
      this.#create(event.vmId);
    } else if (event.reason === "deleted") {
      // The VMM has already removed (or kept) the files; buffered output is dropped with it.
      this.#pending.delete(event.vmId);
      this.#names.delete(event.vmId);
      this.#decoders.delete(event.vmId);
    } else if (event.to === "stopped" || event.to === "stopping" || event.to === "suspended") {
      this.flush(event.vmId);
    }
  }

  #create(vmId: number): void {
    const vm = this.#hypervisor.vm(vmId);
    if (!vm) return;
    const folder = this.folderOf(vm.name);
    try {
      this.#fs.mkdir(folder, { recursive: true });
    } catch (error) {
      // No folder, no log: one problem is reported and the VM runs on.
      this.problems.push(`cannot create ${folder}: ${fsErrorText(error)}`);
      return;
    }
    this.#names.set(vmId, vm.name);
    this.#write(`${folder}/config.toml`, vm.config.text, false);
  }

  #write(path: string, text: string, append: boolean): boolean {
    try {
      this.#fs.writeFile(path, text, { append });
      return true;
    } catch (error) {
      this.problems.push(`cannot write ${path}: ${fsErrorText(error)}`);
      return false;
    }
  }
}
