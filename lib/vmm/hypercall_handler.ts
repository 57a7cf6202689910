/**
 * The Hypercall exit: AxVisor's `HyperCallCode`s (the SBI extension 0x485643), IVC publish,
 * subscribe, unpublish and unsubscribe with memory really shared between VMs. Every failure
 * returns -1 to the guest, as AxVisor does, records the reason on the VM and logs it.
 *
 * @module
 */

import type { HypervisorEvent } from "./events.ts";
import { IvcError, type IvcRegistry } from "./ivc.ts";
import { HyperCallCode, hyperCallName } from "./sbi.ts";
import { guestAddress, hex64, smallUnsigned } from "./sbi_args.ts";
import type { VCpu } from "./vcpu.ts";
import type { Vm } from "./vm.ts";

const hex = (n: number) => `0x${n.toString(16)}`;

/** What the hypercall handler needs from the hypervisor. */
export interface HypercallContext {
  /** The IVC channel registry. */
  readonly ivc: IvcRegistry;
  /** Emits a hypervisor event. */
  emit(event: HypervisorEvent): void;
  /** Virtual time as `v` sees it. */
  vcpuNowNs(v: VCpu): number;
}

/** Executes hypercalls for one hypervisor. */
export class HypercallHandler {
  readonly #ctx: HypercallContext;

  /** Creates a handler working with `ctx`. */
  constructor(ctx: HypercallContext) {
    this.#ctx = ctx;
  }

  /** Executes hypercall `code` with `args` (a0..a5) for `v`; returns a0 (-1 on any error). */
  call(vm: Vm, v: VCpu, code: number, args: bigint[]): number {
    try {
      switch (code) {
        case HyperCallCode.HypervisorDisable:
        case HyperCallCode.HyperVisorPrepareDisable:
          throw new IvcError(
            `${hyperCallName(code)} is only for the host VM (vm_type 0)${
              vm.config.base.vmType === 0 ? " and the emulated hypervisor cannot be disabled" : ""
            }`,
          );
        case HyperCallCode.HyperVisorDebug:
          this.#ctx.emit({
            type: "log",
            level: "info",
            vmId: vm.id,
            message: `VM[${vm.id}] VCpu[${v.id}] debug hypercall args ${
              args.map((x) => `0x${x.toString(16)}`).join(" ")
            }`,
            timeNs: this.#ctx.vcpuNowNs(v),
          });
          return 0;
        case HyperCallCode.HIVCPublishChannel: {
          const [key, basePtr, sizePtr] = args;
          const size = readGuestU64(vm, sizePtr);
          const n = smallUnsigned(size, Number.MAX_SAFE_INTEGER);
          if (n === undefined) throw new IvcError(`IVC channel size ${hex64(size)} is too large`);
          const r = this.#ctx.ivc.publish(vm, key, n);
          writeGuestU64(vm, basePtr, BigInt(r.gpa));
          writeGuestU64(vm, sizePtr, BigInt(r.size));
          return 0;
        }
        case HyperCallCode.HIVCSubscribChannel: {
          const [pub, key, basePtr, sizePtr] = args;
          const r = this.#ctx.ivc.subscribe(vm, vmIdArg(pub), key);
          writeGuestU64(vm, basePtr, BigInt(r.gpa));
          writeGuestU64(vm, sizePtr, BigInt(r.size));
          return 0;
        }
        case HyperCallCode.HIVCUnPublishChannel:
          this.#ctx.ivc.unpublish(vm, args[0]);
          return 0;
        case HyperCallCode.HIVCUnSubscribChannel:
          this.#ctx.ivc.unsubscribe(vm, vmIdArg(args[0]), args[1]);
          return 0;
        default:
          throw new IvcError(`unknown hypercall code ${code}`);
      }
    } catch (e) {
      vm.lastError = `hypercall ${hyperCallName(code)} failed: ${(e as Error).message}`;
      this.#ctx.emit({
        type: "log",
        level: "warn",
        vmId: vm.id,
        message: `VM[${vm.id}] VCpu[${v.id}] Hypercall [${hex(code)}] failed: ${
          (e as Error).message
        }`,
        timeNs: this.#ctx.vcpuNowNs(v),
      });
      return -1;
    }
  }
}

/** A VM id argument; a value no VM can have is refused with a clear error. */
function vmIdArg(value: bigint): number {
  const id = smallUnsigned(value, Number.MAX_SAFE_INTEGER);
  if (id === undefined) throw new IvcError(`VM id ${hex64(value)} is out of range`);
  return id;
}

/** The guest-physical address of a u64 argument, exact, or a clear error. */
function u64Address(gpa: bigint): number {
  const addr = guestAddress(gpa, 8);
  if (addr === undefined) throw new IvcError(`guest address ${hex64(gpa)} is out of range`);
  return addr;
}

function readGuestU64(vm: Vm, gpa: bigint): bigint {
  const v = vm.bus.read64(u64Address(gpa));
  if (v === undefined) throw new IvcError(`guest address ${hex64(gpa)} is not mapped`);
  return v;
}

function writeGuestU64(vm: Vm, gpa: bigint, value: bigint): void {
  if (!vm.bus.write64(u64Address(gpa), value)) {
    throw new IvcError(`guest address ${hex64(gpa)} is not mapped`);
  }
}
