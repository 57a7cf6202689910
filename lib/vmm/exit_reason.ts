/**
 * AxVisor's VM-exit reasons (`AxVCpuExitReason`) and the per-reason exit counters.
 *
 * @module
 */

/** Every `AxVCpuExitReason` variant, as a typed union. */
export type VCpuExitReason =
  | { kind: "Hypercall"; nr: number; args: bigint[] }
  | {
    kind: "MmioRead";
    addr: number;
    width: number;
    reg: number;
    regWidth: number;
    signedExt: boolean;
  }
  | { kind: "MmioWrite"; addr: number; width: number; data: number }
  | { kind: "SysRegRead"; addr: number; reg: number }
  | { kind: "SysRegWrite"; addr: number; value: bigint }
  | { kind: "IoRead"; port: number; width: number }
  | { kind: "IoWrite"; port: number; width: number; data: number }
  | { kind: "ExternalInterrupt"; vector: number }
  | { kind: "NestedPageFault"; addr: number; accessFlags: number }
  | { kind: "Halt" }
  | { kind: "CpuUp"; targetCpu: number; entryPoint: number; arg: bigint }
  | { kind: "CpuDown"; state: number }
  | { kind: "SystemDown" }
  | { kind: "Nothing" }
  | { kind: "FailEntry"; reason: number }
  | {
    kind: "SendIPI";
    targetCpu: number;
    targetCpuAux: number;
    sendToAll: boolean;
    sendToSelf: boolean;
    vector: number;
  };

/** Name of an exit reason variant. */
export type ExitKind = VCpuExitReason["kind"];

/** Every variant name, in AxVisor's declaration order. */
export const EXIT_KINDS: readonly ExitKind[] = [
  "Hypercall",
  "MmioRead",
  "MmioWrite",
  "SysRegRead",
  "SysRegWrite",
  "IoRead",
  "IoWrite",
  "ExternalInterrupt",
  "NestedPageFault",
  "Halt",
  "CpuUp",
  "CpuDown",
  "SystemDown",
  "Nothing",
  "FailEntry",
  "SendIPI",
];

/** Access flag bits of a NestedPageFault (`MappingFlags`): read 1, write 2, execute 4. */
export const AccessFlags = { READ: 1, WRITE: 2, EXECUTE: 4 } as const;

const INDEX: Record<string, number> = Object.fromEntries(EXIT_KINDS.map((k, i) => [k, i]));

/** Exit counters per reason (one instance per vCPU; VMs sum them). */
export class ExitCounters {
  /** Count per variant, indexed like {@linkcode EXIT_KINDS}. */
  readonly counts: Float64Array = new Float64Array(EXIT_KINDS.length);

  /** Counts one exit of `kind`. */
  count(kind: ExitKind): void {
    this.counts[INDEX[kind]]++;
  }

  /** Count for one variant. */
  get(kind: ExitKind): number {
    return this.counts[INDEX[kind]];
  }

  /** Sum over every variant. */
  total(): number {
    let t = 0;
    for (const c of this.counts) t += c;
    return t;
  }

  /** Adds another counter set into this one. */
  add(other: ExitCounters): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
  }

  /** Resets every counter to 0. */
  reset(): void {
    this.counts.fill(0);
  }

  /** Counters as a plain record (every variant present). */
  toRecord(): Record<ExitKind, number> {
    return Object.fromEntries(EXIT_KINDS.map((k, i) => [k, this.counts[i]])) as Record<
      ExitKind,
      number
    >;
  }
}
