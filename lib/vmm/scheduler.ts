/**
 * The vCPU scheduler: one run queue per pCPU of the board, tasks placed honouring their
 * `phys_cpu_sets` mask, round-robin time slices counted in instructions, and idle skipping (a
 * pCPU with nothing runnable costs nothing).
 *
 * The scheduler owns the queues and the slice accounting; what running a task means (executing
 * guest code, handling its exits) and whether a picked task may run at all (its VM may be
 * stopping or suspended) are the {@linkcode SchedulerHooks} the hypervisor gives it.
 *
 * @module
 */

import { VCpuState } from "./status.ts";
import type { VCpu } from "./vcpu.ts";

/** A pCPU of the board: its run queue of vCPU tasks. */
export interface PCpu {
  /** Index in the board's hart list. */
  readonly index: number;
  /** Physical hart id. */
  readonly hartId: number;
  /** Tasks placed on this pCPU. */
  readonly tasks: VCpu[];
  /** Round-robin position. */
  rr: number;
  /** Instructions left in the current slice. */
  sliceLeft: number;
  /** Virtual ns this pCPU spent running guests. */
  busyNs: number;
}

/** What the scheduler asks of the hypervisor while it runs a pCPU. */
export interface SchedulerHooks {
  /**
   * Called for the task picked next: returns whether it may run guest code now. A task whose VM
   * is stopping leaves its queue here; one whose VM is suspended blocks.
   */
  admit(v: VCpu): boolean;
  /**
   * Runs `v` from virtual time `startNs` for at most `budget` instructions; returns the
   * instructions executed (at least 1 is accounted).
   */
  run(v: VCpu, startNs: number, budget: number): number;
}

/** Raised when a vCPU cannot be placed or moved (a mask naming no pCPU of the board). */
export class SchedulerError extends Error {
  /** Error code for structured output. */
  readonly code = "ESCHED";
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "SchedulerError";
  }
}

/** The per-pCPU run queues of one hypervisor. */
export class Scheduler {
  /** The board's pCPUs, by index. */
  readonly pcpus: readonly PCpu[];
  /** Time slice in instructions. */
  readonly sliceInstructions: number;

  /** Creates one empty run queue per hart id (`hartIds[i]` is pCPU `i`). */
  constructor(hartIds: readonly number[], sliceInstructions: number) {
    this.sliceInstructions = sliceInstructions;
    this.pcpus = hartIds.map((hartId, index) => ({
      index,
      hartId,
      tasks: [],
      rr: 0,
      sliceLeft: sliceInstructions,
      busyNs: 0,
    }));
  }

  /** Bit mask of every pCPU of the board. */
  get allMask(): number {
    return 2 ** this.pcpus.length - 1;
  }

  /** The pCPUs allowed by `mask` (undefined: all). */
  allowed(mask: number | undefined): PCpu[] {
    return this.pcpus.filter((p) => mask === undefined || (mask & 2 ** p.index) !== 0);
  }

  /** The least loaded pCPU allowed by `mask` (the first such on a tie). */
  #leastLoaded(mask: number | undefined): PCpu {
    const allowed = this.allowed(mask);
    if (allowed.length === 0) {
      throw new SchedulerError(
        `pCPU mask 0x${
          mask!.toString(16)
        } names no pCPU of the board (it has ${this.pcpus.length})`,
      );
    }
    let best = allowed[0];
    for (const p of allowed) if (p.tasks.length < best.tasks.length) best = p;
    return best;
  }

  /** Places `v`'s task on the least loaded pCPU its mask allows; returns that pCPU. */
  place(v: VCpu): PCpu {
    const best = this.#leastLoaded(v.physCpuSet);
    v.pcpu = best.index;
    best.tasks.push(v);
    return best;
  }

  /** Whether `v`'s task is in a run queue. */
  hasTask(v: VCpu): boolean {
    return v.pcpu >= 0 && this.pcpus[v.pcpu].tasks.includes(v);
  }

  /** Removes `v`'s task from its run queue (nothing when it has none). */
  remove(v: VCpu): void {
    if (v.pcpu < 0) return;
    const p = this.pcpus[v.pcpu];
    const i = p.tasks.indexOf(v);
    if (i >= 0) {
      p.tasks.splice(i, 1);
      if (p.rr > i) p.rr--;
    }
  }

  /**
   * Moves `v`'s task, if it has one on a pCPU outside `mask`, to the least loaded pCPU `mask`
   * allows (it continues there at its next slice). Returns the pCPU before and after (-1: the
   * task is not placed yet; it will be placed by its mask when it starts).
   */
  move(v: VCpu, mask: number): { from: number; to: number } {
    const from = v.pcpu;
    if (!this.hasTask(v) || (mask & 2 ** from) !== 0) return { from, to: from };
    const best = this.#leastLoaded(mask);
    this.remove(v);
    if (v.state === VCpuState.Running) v.state = VCpuState.Ready;
    best.tasks.push(v);
    v.pcpu = best.index;
    return { from, to: best.index };
  }

  /** Whether any task is runnable. */
  hasRunnable(): boolean {
    // Indexed loops: asked several times per scheduling round, it allocates nothing, even
    // before V8 optimises it (a for-of then makes an iterator per loop).
    const pcpus = this.pcpus;
    for (let i = 0; i < pcpus.length; i++) {
      const tasks = pcpus[i].tasks;
      for (let j = 0; j < tasks.length; j++) if (tasks[j].runnable) return true;
    }
    return false;
  }

  /** The next runnable task of `p`, round robin (a new pick starts a fresh slice). */
  pick(p: PCpu): VCpu | undefined {
    const n = p.tasks.length;
    for (let k = 0; k < n; k++) {
      const i = (p.rr + k) % n;
      const v = p.tasks[i];
      if (v.runnable) {
        if (k !== 0) {
          p.rr = i;
          p.sliceLeft = this.sliceInstructions;
        }
        return v;
      }
    }
    return undefined;
  }

  /**
   * Runs pCPU `p` over `[startNs, endNs)` of virtual time: picks tasks, runs them within their
   * slice, preempts at slice ends when another task is runnable. Stops early when nothing is
   * runnable (an idle pCPU costs nothing).
   */
  runPcpu(
    p: PCpu,
    startNs: number,
    endNs: number,
    nsPerInstruction: number,
    hooks: SchedulerHooks,
  ): void {
    let t = startNs;
    while (t < endNs) {
      const v = this.pick(p);
      if (!v) break;
      const tasks = p.tasks;
      for (let i = 0; i < tasks.length; i++) {
        const o = tasks[i];
        if (o !== v && o.state === VCpuState.Running) o.state = VCpuState.Ready;
      }
      if (!hooks.admit(v)) continue;
      let budget = Math.min(p.sliceLeft, Math.ceil((endNs - t) / nsPerInstruction));
      budget = Math.max(1, budget);
      v.state = VCpuState.Running;
      const executed = Math.max(1, hooks.run(v, t, budget));
      const ns = executed * nsPerInstruction;
      t += ns;
      p.busyNs += ns;
      p.sliceLeft -= executed;
      if (p.sliceLeft <= 0) {
        p.sliceLeft = this.sliceInstructions;
        if (p.tasks.length > 1) {
          p.rr = (p.rr + 1) % p.tasks.length;
          if (v.runnable && p.tasks.some((o) => o !== v && o.runnable)) {
            v.preemptions++;
            v.state = VCpuState.Ready;
          }
        }
      }
    }
  }
}
