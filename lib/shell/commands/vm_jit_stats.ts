/**
 * `vm stats --jit`: the execution statistics of a VM's harts (instructions per tier, compiled-
 * block exits by reason, compilations, code and TLB flushes, page walks, traps by cause) and of
 * the process-wide code cache, as a table with one column per vCPU.
 *
 * @module
 */

import type { Vm } from "../../vmm/mod.ts";
import { codeCacheStats, type HartStatsRecord } from "../../hw/riscv/hart_stats.ts";
import { padRight } from "../format.ts";

/** The JSON data of `vm stats --jit`: one record per vCPU and the shared code cache. */
export interface VmJitStats {
  /** Per vCPU, in vCPU order (undefined when the hart keeps no statistics). */
  vcpus: (HartStatsRecord | undefined)[];
  /** The process-wide compiled-code cache. */
  codeCache: typeof codeCacheStats;
}

/** Collects the statistics of `vm`'s harts. */
export function vmJitStats(vm: Vm): VmJitStats {
  return {
    vcpus: vm.vcpus.map((v) =>
      v.hart.stats?.snapshot(v.hart.instret, v.hart.blockInstructions ?? 0)
    ),
    codeCache: { ...codeCacheStats },
  };
}

const CAUSE_NAMES: Record<string, string> = {
  e0: "misaligned fetch",
  e1: "fetch access",
  e2: "illegal instruction",
  e3: "breakpoint",
  e4: "misaligned load",
  e5: "load access",
  e6: "misaligned store",
  e7: "store access",
  e8: "ecall from U",
  e9: "ecall from S",
  e11: "ecall from M",
  e12: "fetch page fault",
  e13: "load page fault",
  e15: "store page fault",
  i1: "S software",
  i3: "M software",
  i5: "S timer",
  i7: "M timer",
  i9: "S external",
  i11: "M external",
};

/** The `vm stats --jit` lines for `stats`. */
export function formatJitStats(stats: VmJitStats): string[] {
  const harts = stats.vcpus;
  const widths = [28, 14, ...harts.map(() => 14)];
  const line = (cells: (string | number)[]) =>
    "  " + cells.map((c, i) => padRight(c, widths[i])).join(" ").trimEnd();
  const rows: [string, (r: HartStatsRecord) => number][] = [
    ["Interpreted instructions", (r) => r.interpretedInstructions],
    ["Compiled-block instructions", (r) => r.blockInstructions],
    ["Blocks compiled", (r) => r.compilations],
    ["  of which into wasm", (r) => r.wasmCompilations],
    ...Object.keys(harts.find((r) => r)?.blockExits ?? {}).map((
      k,
    ): [string, (r: HartStatsRecord) => number] => [`Block exits: ${k}`, (r) => r.blockExits[k]]),
    ["Units entered from units", (r) => r.chainedCalls],
    ["fence.i", (r) => r.fenceI],
    ["fence.i dropping code", (r) => r.fenceIFlushes],
    ["Code cache flushes", (r) => r.codeFlushes],
    ["TLB flushes", (r) => r.tlbFlushes],
    ["Page walks", (r) => r.pageWalks],
  ];
  const causes = new Set<string>();
  for (const r of harts) {
    if (!r) continue;
    for (const c of Object.keys(r.exceptions)) causes.add(`e${c}`);
    for (const c of Object.keys(r.interrupts)) causes.add(`i${c}`);
  }
  for (const c of [...causes].sort((a, b) => a.localeCompare(b, "en", { numeric: true }))) {
    const kind = c[0] === "e" ? "exceptions" : "interrupts";
    const label = `${c[0] === "e" ? "Exception" : "Interrupt"}: ${CAUSE_NAMES[c] ?? c.slice(1)}`;
    rows.push([label, (r) => r[kind][c.slice(1)] ?? 0]);
  }
  const out = [
    "",
    line(["EXECUTION", "TOTAL", ...harts.map((_, i) => `VCPU ${i}`)]),
  ];
  for (const [label, get] of rows) {
    const values = harts.map((r) => (r ? get(r) : 0));
    out.push(line([label, values.reduce((a, b) => a + b, 0), ...values]));
  }
  const cc = stats.codeCache;
  out.push(
    "",
    `  Code cache (all harts): ${cc.sourcesParsed} block sources parsed, ${cc.sourcesShared} ` +
      `compilations shared a parsed source, ${cc.storeInvalidations} invalidations by stores`,
  );
  return out;
}
