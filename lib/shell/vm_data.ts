/**
 * Each VM's data folder, as the seed lays it out: `/guest/vms/<name>/` holding a copy of the
 * VM's config (`config.toml`) and its console log (`vm.log`). The VMM removes those files on
 * `vm delete` (unless `--keep-data`); the shell then removes the folder when nothing else is
 * left in it.
 *
 * The console log has every byte the guest wrote (UART and SBI debug console alike), a marker
 * line at each boot, and a cap: when `vm.log` would pass {@linkcode ConsoleLogOptions.maxBytes}
 * it is rotated (`vm.log` -> `vm.log.1` -> ... ; the oldest is dropped), so a VM never keeps
 * more than `maxBytes x files` (default 1 MiB x 3). Output is batched in memory (at most
 * {@linkcode LOG_FLUSH_BYTES} per VM) and written in few, bounded writes: when a batch is full,
 * before each command, on VM status changes and when the program's timer calls
 * {@linkcode VmDataFolders.flush}, so a guest flooding its console costs one small write per
 * 64 KiB, never a write per line.
 *
 * @module
 */

import type { FileSystem } from "../vmm/filesystem.ts";
import type { Hypervisor, HypervisorEvent } from "../vmm/mod.ts";
import { fsErrorText } from "./fs_errors.ts";
import { MAX_CONSOLE_LOG_FILES, VM_DATA_FILES } from "../vmm/vm_name.ts";

const encoder = new TextEncoder();

/** Where the data folders live. */
export const DEFAULT_DATA_DIR = "/guest/vms";

/** Console bytes batched per VM before they are appended to `vm.log`. */
export const LOG_FLUSH_BYTES = 64 * 1024;

/** Default size of one console log file: 1 MiB. */
export const DEFAULT_CONSOLE_LOG_BYTES = 1 << 20;

/** Default number of console log files per VM (`vm.log`, `vm.log.1`, `vm.log.2`). */
export const DEFAULT_CONSOLE_LOG_FILES = 3;

/** The console log's cap. */
export interface ConsoleLogOptions {
  /** Largest size of one log file in bytes (default 1 MiB). */
  maxBytes?: number;
  /** Files kept, the current one included (default 3, at most {@linkcode MAX_CONSOLE_LOG_FILES}). */
  files?: number;
}

/** One VM's console log being written. */
interface LogState {
  /** The log's path, `<folder>/vm.log`. */
  path: string;
  chunks: Uint8Array[];
  bytes: number;
  /** Size of `vm.log` on disk. */
  size: number;
  /** The last byte written or batched was a newline (or nothing was written yet). */
  atLineStart: boolean;
}

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
  /** The console log's cap, or `false` when console logs are off (`--no-console-log`). */
  readonly consoleLog: Required<ConsoleLogOptions> | false;
  readonly #logs = new Map<number, LogState>();
  readonly #names = new Map<number, string>();
  #unsubscribe?: () => void;

  /**
   * Starts following `hypervisor`'s events (VMs created before this get folders too).
   * `consoleLog: false` keeps no console logs.
   */
  constructor(
    hypervisor: Hypervisor,
    fs: FileSystem,
    dir = DEFAULT_DATA_DIR,
    consoleLog: ConsoleLogOptions | false = {},
  ) {
    this.#hypervisor = hypervisor;
    this.#fs = fs;
    this.dir = dir;
    if (consoleLog === false) this.consoleLog = false;
    else {
      const maxBytes = consoleLog.maxBytes ?? DEFAULT_CONSOLE_LOG_BYTES;
      const files = consoleLog.files ?? DEFAULT_CONSOLE_LOG_FILES;
      if (!Number.isInteger(maxBytes) || maxBytes < 1024) {
        throw new RangeError(`console log size must be at least 1 KiB, got ${maxBytes}`);
      }
      if (!Number.isInteger(files) || files < 1 || files > MAX_CONSOLE_LOG_FILES) {
        throw new RangeError(
          `console log files must be 1 to ${MAX_CONSOLE_LOG_FILES}, got ${files}`,
        );
      }
      this.consoleLog = { maxBytes, files };
    }
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

  /** Appends batched console output of one VM (or of all) to its log. */
  flush(vmId?: number): void {
    const ids = vmId === undefined ? [...this.#logs.keys()] : [vmId];
    for (const id of ids) {
      const log = this.#logs.get(id);
      if (!log || log.bytes === 0) continue;
      const data = log.chunks.length === 1 ? log.chunks[0] : concat(log.chunks, log.bytes);
      log.chunks = [];
      log.bytes = 0;
      // After a failed write the VM's log is given up (one problem reported, not one per line).
      if (!this.#append(log, data)) this.#logs.delete(id);
    }
  }

  /** Bytes batched in memory for the console logs, all VMs together (for tests and stats). */
  get pendingLogBytes(): number {
    let n = 0;
    for (const log of this.#logs.values()) n += log.bytes;
    return n;
  }

  /**
   * Removes a deleted VM's data (the files the seed names: `disk.img`, `config.toml`,
   * `vm.log`), then its folder if nothing else is left. Returns whether the folder went.
   */
  removeData(name: string): boolean {
    const folder = this.folderOf(name);
    for (const file of VM_DATA_FILES) {
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
      const log = this.#logs.get(event.vmId);
      if (log) this.#batch(event.vmId, log, event.data);
      return;
    }
    if (event.type !== "status") return;
    if (event.reason === "created") {
      this.#create(event.vmId);
    } else if (event.reason === "deleted") {
      // The VMM has already removed (or kept) the files; batched output is dropped with it.
      this.#logs.delete(event.vmId);
      this.#names.delete(event.vmId);
    } else if (event.to === "running" && (event.from === "loaded" || event.from === "stopped")) {
      const log = this.#logs.get(event.vmId);
      const vm = this.#hypervisor.vm(event.vmId);
      if (log && vm) {
        const marker = `${log.atLineStart ? "" : "\n"}[axvisor] ----- VM ${vm.id} (${vm.name}) ` +
          `boots at ${new Date().toISOString()} (virtual time ${event.timeNs} ns) -----\n`;
        this.#batch(event.vmId, log, encoder.encode(marker));
      }
    } else if (event.to === "stopped" || event.to === "stopping" || event.to === "suspended") {
      this.flush(event.vmId);
    }
  }

  #batch(vmId: number, log: LogState, data: Uint8Array): void {
    if (data.length === 0) return;
    // The event's bytes may be reused by the emitter: keep a copy.
    log.chunks.push(data.slice());
    log.bytes += data.length;
    log.atLineStart = data[data.length - 1] === 0x0a;
    if (log.bytes >= LOG_FLUSH_BYTES) this.flush(vmId);
  }

  /** Appends to `vm.log`: fills it up to the cap, rotates, goes on with the rest. */
  #append(log: LogState, bytes: Uint8Array): boolean {
    const cap = this.consoleLog as Required<ConsoleLogOptions>;
    // More than every file can hold: only the newest part can be kept anyway.
    let data = bytes.length > cap.maxBytes * cap.files
      ? bytes.subarray(bytes.length - cap.maxBytes * cap.files)
      : bytes;
    try {
      while (data.length > 0) {
        if (log.size >= cap.maxBytes) {
          this.#rotate(log.path, cap.files);
          log.size = 0;
        }
        const piece = data.subarray(0, cap.maxBytes - log.size);
        this.#fs.writeFile(log.path, piece, { append: log.size > 0 });
        log.size += piece.length;
        data = data.subarray(piece.length);
      }
      return true;
    } catch (error) {
      this.problems.push(`cannot write ${log.path}: ${fsErrorText(error)}`);
      return false;
    }
  }

  /** `vm.log` -> `vm.log.1` -> ... -> `vm.log.<files-1>`; the oldest goes. One file: truncate. */
  #rotate(path: string, files: number): void {
    if (files <= 1) return; // the next write replaces the file
    const last = `${path}.${files - 1}`;
    if (this.#fs.stat(last)) this.#fs.remove(last);
    for (let i = files - 2; i >= 1; i--) {
      const from = `${path}.${i}`;
      if (this.#fs.stat(from)) this.#fs.rename(from, `${path}.${i + 1}`);
    }
    if (this.#fs.stat(path)) this.#fs.rename(path, `${path}.1`);
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
    if (this.consoleLog !== false) {
      const path = `${folder}/vm.log`;
      let size = 0;
      try {
        size = this.#fs.stat(path)?.size ?? 0;
      } catch {
        size = 0;
      }
      this.#logs.set(vmId, { path, chunks: [], bytes: 0, size, atLineStart: true });
    }
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

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
