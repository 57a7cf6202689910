/**
 * Persistent VM definitions, as libvirt keeps them: a VM made with `vm create` (or restored with
 * `vm restore --new`, or cloned) is recorded in its data folder as `config.toml` (kept by
 * {@linkcode VmDataFolders}) plus `vm.json` (id, name, autostart flag). At the next program start
 * every recorded VM is created again (Loaded, not started) in id order; `--autostart` starts the
 * ones marked with `vm autostart <VM> on`. `vm delete` removes the record; `vm create
 * --transient` makes a VM that is not recorded (the start-up VMs of `guest/vm_default/` and
 * `--vm` are transient: they come from their own files at every start).
 *
 * @module
 */

import type { Hypervisor, Vm } from "../vmm/mod.ts";
import { fsErrorText } from "./fs_errors.ts";
import type { VmDataFolders } from "./vm_data.ts";

/** The record file in a data folder. */
export const RECORD_FILE = "vm.json";

/** What `vm.json` holds. */
export interface VmRecord {
  /** Format version. */
  version: 1;
  /** VM id. */
  id: number;
  /** VM name. */
  name: string;
  /** Whether `--autostart` starts it. */
  autostart: boolean;
  /** How it was made: `create`, `restore` or `clone`. */
  source: string;
}

/** A record found in the data location. */
export interface FoundRecord {
  /** Its data folder. */
  folder: string;
  /** The record, when readable. */
  record?: VmRecord;
  /** The config text, when readable. */
  configText?: string;
  /** What is wrong with it. */
  problem?: string;
}

/** Reads and writes VM records in the data folders (state lives in the files only). */
export class VmRecords {
  readonly #data: VmDataFolders;

  /** Records kept in `data`'s folders. */
  constructor(data: VmDataFolders) {
    this.#data = data;
  }

  #path(name: string): string {
    return `${this.#data.folderOf(name)}/${RECORD_FILE}`;
  }

  /** Records `vm` (its config.toml is written by the data folders); returns a problem or undefined. */
  record(vm: Vm, source: string, autostart = false): string | undefined {
    const folder = this.#data.folderOf(vm.name);
    const rec: VmRecord = { version: 1, id: vm.id, name: vm.name, autostart, source };
    try {
      const fs = this.#data.fs;
      fs.mkdir(folder, { recursive: true });
      if (fs.stat(`${folder}/config.toml`)?.kind !== "file") {
        fs.writeFile(`${folder}/config.toml`, vm.config.text ?? "");
      }
      fs.writeFile(this.#path(vm.name), JSON.stringify(rec, null, 2) + "\n");
      return undefined;
    } catch (e) {
      return `cannot record VM[${vm.id}] in ${folder}: ${fsErrorText(e)}`;
    }
  }

  /** The record of a VM name, if any. */
  get(name: string): VmRecord | undefined {
    try {
      const fs = this.#data.fs;
      const path = this.#path(name);
      if (fs.stat(path)?.kind !== "file") return undefined;
      return JSON.parse(fs.readTextFile(path)) as VmRecord;
    } catch {
      return undefined;
    }
  }

  /** Sets the autostart flag of a recorded VM; throws when it is not recorded. */
  setAutostart(vm: Vm, on: boolean): void {
    const rec = this.get(vm.name);
    if (!rec || rec.id !== vm.id) {
      throw new Error(
        `VM[${vm.id}] is not a recorded VM (it comes from guest/vm_default, --vm or 'vm create --transient'); autostart applies to VMs kept across restarts`,
      );
    }
    rec.autostart = on;
    this.#data.fs.writeFile(this.#path(vm.name), JSON.stringify(rec, null, 2) + "\n");
  }

  /** Removes the record of a VM name (its other files stay); returns whether one existed. */
  remove(name: string): boolean {
    const path = this.#path(name);
    try {
      if (this.#data.fs.stat(path)?.kind !== "file") return false;
      this.#data.fs.remove(path);
      return true;
    } catch {
      return false;
    }
  }

  /** Every record in the data location, sorted by id (unreadable ones last, with a problem). */
  list(): FoundRecord[] {
    const fs = this.#data.fs;
    const dir = this.#data.dir;
    let entries;
    try {
      if (fs.stat(dir)?.kind !== "dir") return [];
      entries = fs.readDir(dir).filter((e) => e.kind === "dir");
    } catch (e) {
      return [{ folder: dir, problem: `cannot read ${dir}: ${fsErrorText(e)}` }];
    }
    const out: FoundRecord[] = [];
    for (const e of entries) {
      const folder = `${dir}/${e.name}`;
      const recPath = `${folder}/${RECORD_FILE}`;
      if (fs.stat(recPath)?.kind !== "file") continue;
      try {
        const record = JSON.parse(fs.readTextFile(recPath)) as VmRecord;
        if (
          record?.version !== 1 || !Number.isSafeInteger(record.id) ||
          typeof record.name !== "string"
        ) {
          out.push({ folder, problem: `${recPath} is not a version-1 VM record` });
          continue;
        }
        const configText = fs.readTextFile(`${folder}/config.toml`);
        out.push({ folder, record, configText });
      } catch (e) {
        out.push({ folder, problem: `cannot read the record in ${folder}: ${fsErrorText(e)}` });
      }
    }
    return out.sort((a, b) => (a.record?.id ?? Infinity) - (b.record?.id ?? Infinity));
  }

  /**
   * Creates every recorded VM again (Loaded), in id order. Returns one line per VM and the ids
   * of those marked autostart; a record that cannot be created is reported and skipped.
   */
  recreateAll(
    hypervisor: Hypervisor,
  ): { lines: string[]; created: Vm[]; autostart: Vm[]; problems: string[] } {
    const lines: string[] = [];
    const created: Vm[] = [];
    const autostart: Vm[] = [];
    const problems: string[] = [];
    for (const found of this.list()) {
      if (!found.record || found.configText === undefined) {
        problems.push(found.problem ?? `unreadable record in ${found.folder}`);
        continue;
      }
      const { id, name } = found.record;
      if (hypervisor.vm(id) || hypervisor.vm(name)) {
        problems.push(
          `recorded VM[${id}] '${name}' (${found.folder}) not created: a VM with that id or name already exists`,
        );
        continue;
      }
      try {
        const vm = hypervisor.createVm({
          text: found.configText,
          origin: `${found.folder}/config.toml`,
        });
        created.push(vm);
        if (found.record.autostart) autostart.push(vm);
        lines.push(`✓ Re-created recorded VM[${vm.id}] '${vm.name}' from ${found.folder}`);
      } catch (e) {
        problems.push(
          `recorded VM[${id}] '${name}' (${found.folder}) not created: ${(e as Error).message}`,
        );
      }
    }
    return { lines, created, autostart, problems };
  }
}
