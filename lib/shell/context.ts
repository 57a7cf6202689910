/**
 * What every command handler gets besides its arguments.
 *
 * @module
 */

import type { FileSystem } from "../vmm/filesystem.ts";
import type { ShellSession } from "./session.ts";

/** Facts `uname` reports. */
export interface SystemInfo {
  /** Kernel name (`uname -s`). */
  kernel: string;
  /** Version. */
  version: string;
  /** Machine architecture (`uname -m`), e.g. `riscv64`. */
  arch: string;
  /** Platform (board) name. */
  platform: string;
  /** Whether the board has more than one hart. */
  smp: boolean;
}

/** The context of the base and filesystem commands. */
export interface BaseContext {
  /** The session running the command. */
  session: ShellSession;
  /** The hypervisor's root filesystem. */
  fs: FileSystem;
  /** What `uname` reports. */
  system: SystemInfo;
  /** The command words that selected the handler, e.g. `["vm", "start"]`. */
  path: string[];
  /** Aborted when the user cancels the command (Ctrl-C); commands that wait honour it. */
  signal?: AbortSignal;
}
