/**
 * Waiting for a guest to print something: the helper scripts use most.
 *
 * ```ts ignore
 * import { Hypervisor, loadBoard, MemoryFileSystem, waitForConsole } from "./mod.ts";
 * const vm = hv.createVm({ path: "/configs/hello.toml" });
 * hv.startVm(vm.id);
 * const m = await waitForConsole(hv, vm, /Hello from (\S+)/, 1e9);
 * console.log(m[1]);
 * ```
 *
 * @module
 */

/** What {@linkcode waitForConsole} needs of a hypervisor. */
export interface ConsoleWaitHost {
  /** Resolves when `predicate` holds (true) or after `timeoutNs` of virtual time (false). */
  waitFor(predicate: () => boolean, timeoutNs: number): Promise<boolean>;
}

/** What {@linkcode waitForConsole} needs of a VM. */
export interface ConsoleWaitVm {
  /** VM id, for the error message. */
  readonly id: number;
  /** VM name, for the error message. */
  readonly name: string;
  /** The VM's console. */
  readonly console: { text(): string; readonly totalWritten: number };
}

/** A guest did not print what {@linkcode waitForConsole} waited for in time. */
export class ConsoleWaitTimeoutError extends Error {
  /** The console's text when the wait gave up. */
  readonly consoleText: string;
  /** Creates the error; the message names the VM, the pattern, the time and the last output. */
  constructor(vm: ConsoleWaitVm, pattern: RegExp | string, timeoutNs: number, text: string) {
    const tail = text.length > 300 ? "..." + text.slice(-300) : text;
    super(
      `VM ${vm.id} (${vm.name}) did not print ${String(pattern)} within ` +
        `${timeoutNs / 1e9} s of virtual time; its console so far: ${JSON.stringify(tail)}`,
    );
    this.name = "ConsoleWaitTimeoutError";
    this.consoleText = text;
  }
}

/**
 * Waits (on the hypervisor's virtual clock) until the VM's console output matches `pattern`
 * (a RegExp, or a string to find); resolves with the match. Throws
 * {@linkcode ConsoleWaitTimeoutError} after `timeoutNs` nanoseconds of virtual time.
 */
export async function waitForConsole(
  hypervisor: ConsoleWaitHost,
  vm: ConsoleWaitVm,
  pattern: RegExp | string,
  timeoutNs: number,
): Promise<RegExpMatchArray> {
  let match: RegExpMatchArray | null = null;
  let seen = -1;
  const check = () => {
    // Only look again when the guest printed something since the last look.
    const total = vm.console.totalWritten;
    if (total === seen) return false;
    seen = total;
    const text = vm.console.text();
    if (typeof pattern === "string") {
      const at = text.indexOf(pattern);
      if (at >= 0) {
        match = Object.assign([pattern], { index: at, input: text }) as RegExpMatchArray;
      }
    } else {
      match = new RegExp(pattern.source, pattern.flags.replace("g", "")).exec(text);
    }
    return match !== null;
  };
  if (check() || await hypervisor.waitFor(check, timeoutNs)) return match!;
  throw new ConsoleWaitTimeoutError(vm, pattern, timeoutNs, vm.console.text());
}
