/**
 * axvisor.ts: an emulated AxVisor hypervisor toolkit for Deno.
 *
 * This module is the public API, in four groups (everything else stays importable by path from
 * `lib/`, without a stability promise):
 *
 * - **VMM** (lib/vmm): {@linkcode Hypervisor} (the VM list, lifecycle, virtual time, events),
 *   {@linkcode Vm}, VM configs ({@linkcode parseVmConfig}), the {@linkcode HypervisorDriver} that
 *   runs a hypervisor in the background, filesystems ({@linkcode MemoryFileSystem}), the
 *   {@linkcode waitForConsole} helper and the errors scripts meet.
 * - **Hardware** (lib/hw): boards ({@linkcode loadBoard}, {@linkcode Machine}), the RISC-V
 *   {@linkcode Hart}, {@linkcode assemble}, {@linkcode disassemble} and the ELF loader.
 * - **Shell** (lib/shell): AxVisor's command shell ({@linkcode Shell}, {@linkcode ShellSession}).
 * - **Protocol** (lib/protocol): the serial-console server ({@linkcode ConsoleServer},
 *   {@linkcode serveTcp}, {@linkcode serveStdioStream}, {@linkcode runBatch}), its errors and the
 *   sandboxed {@linkcode HostFileSystem}.
 *
 * A script outside this repository imports it by URL or path (no import map needed):
 *
 * ```ts ignore
 * import { HostFileSystem, Hypervisor, loadBoard, waitForConsole } from "/path/to/axvisor.ts/mod.ts";
 * const fs = new HostFileSystem("/path/to/axvisor.ts/examples");
 * const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs, clock: "warp" });
 * const vm = hv.createVm({ path: "/configs/hello.toml" });
 * hv.startVm(vm.id);
 * await waitForConsole(hv, vm, /Hello from axvisor\.ts!/, 1e9);
 * ```
 *
 * @module
 */

// VMM: the hypervisor, VMs, configs, time, events, filesystems.
export { Hypervisor, type HypervisorOptions } from "./lib/vmm/hypervisor.ts";
export { type DriverOptions, HypervisorDriver } from "./lib/vmm/driver.ts";
export { type GuestRegion, Vm, type VmStats } from "./lib/vmm/vm.ts";
export { VCpu } from "./lib/vmm/vcpu.ts";
export { Console } from "./lib/vmm/console.ts";
export { type ClockMode, VirtualClock } from "./lib/vmm/clock.ts";
export { ConfigError, parseVmConfig, type VmConfig } from "./lib/vmm/config.ts";
export { type VCpuState, type VmStatus, vmStatusName } from "./lib/vmm/status.ts";
export type {
  ConsoleEvent,
  FaultEvent,
  HypervisorEvent,
  HypervisorListener,
  LogEvent,
  StatusEvent,
  VCpuEvent,
} from "./lib/vmm/events.ts";
export { type FileInfo, type FileSystem, FsError } from "./lib/vmm/filesystem.ts";
export { MemoryFileSystem, type MemoryFileSystemOptions } from "./lib/vmm/memory_filesystem.ts";
export { VmCreateError } from "./lib/vmm/vm_builder.ts";
export { HostMemoryError } from "./lib/vmm/host_memory.ts";
export {
  type ConsoleWaitHost,
  ConsoleWaitTimeoutError,
  type ConsoleWaitVm,
  waitForConsole,
} from "./lib/vmm/console_wait.ts";

// Hardware: boards, the machine, the hart and its tools.
export { loadBoard } from "./lib/hw/boards/load.ts";
export { builtinBoards, DEFAULT_BOARD } from "./lib/hw/boards/builtin.ts";
export { BoardError, type BoardSpec, parseBoard } from "./lib/hw/boards/spec.ts";
export { Machine, type MachineOptions } from "./lib/hw/boards/machine.ts";
export { Hart, type HartOptions, StopReason } from "./lib/hw/riscv/hart.ts";
export { assemble, type AssembleOptions, type AssemblyResult } from "./lib/hw/riscv/assembler.ts";
export {
  disassemble,
  type DisassembleOptions,
  type Disassembly,
  formatListing,
} from "./lib/hw/riscv/disassembler.ts";
export { ElfError, type ElfImage, isElf, loadElf, parseElf } from "./lib/hw/riscv/elf.ts";

// Shell: AxVisor's command shell.
export { Shell, type ShellOptions } from "./lib/shell/shell.ts";
export { ShellSession, type ShellSessionOptions } from "./lib/shell/session.ts";
export type { CommandAction, CommandOutcome } from "./lib/shell/outcome.ts";
export { tokenize, TokenizeError } from "./lib/shell/tokenizer.ts";

// Protocol: the serial-console server, its transports and errors, the host filesystem.
export { ConsoleServer, type ConsoleServerOptions, VERSION } from "./lib/protocol/server.ts";
export { type Session, type SessionMode } from "./lib/protocol/session.ts";
export { AxvisorBackend, type AxvisorBackendOptions } from "./lib/protocol/axvisor_backend.ts";
export type { ProtocolBackend } from "./lib/protocol/backend.ts";
export { serveTcp, type TcpConsoleService } from "./lib/protocol/tcp_transport.ts";
export { serveStdioStream, type StdioService } from "./lib/protocol/stdio_transport.ts";
export { runInteractive } from "./lib/protocol/interactive.ts";
export { type BatchResult, runBatch, splitCommands } from "./lib/protocol/batch.ts";
export { ProtocolError, ProtocolErrorCode } from "./lib/protocol/errors.ts";
export type { ProtocolEvent } from "./lib/protocol/events.ts";
export { HostFileSystem } from "./lib/protocol/host_filesystem.ts";

// Every type of the layers, for annotations (values beyond the ones above: import from lib/).
export type * from "./lib/vmm/mod.ts";
export type * from "./lib/hw/mod.ts";
export type * from "./lib/shell/mod.ts";
export type * from "./lib/protocol/mod.ts";
