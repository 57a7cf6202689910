/**
 * Orders the commands of every session.
 *
 * By default one command runs in the VMM at a time, in arrival order, so that concurrent
 * sessions never interleave inside the hypervisor. That also means a command that waits (`vm
 * wait --timeout 1h`, `vm restart`) holds every other session up until it finishes. When the
 * hypervisor's waits are asynchronous and may overlap (a `HypervisorDriver` runs it in the
 * background, as the main program does), the queue can be made `interleaved`: commands still
 * start in arrival order, but one that is waiting no longer blocks the others. Commands only
 * yield at their waits, so the VMM still never sees two commands at once between two waits.
 *
 * @module
 */

/** Options of a {@linkcode CommandQueue}. */
export interface CommandQueueOptions {
  /**
   * Let a command start while an earlier one is still waiting (default false: one at a time).
   * Safe only when the hypervisor's `waitFor` is asynchronous and re-entrant (a driver runs).
   */
  interleaved?: boolean;
}

/** A FIFO mutex for async tasks (or, when interleaved, a FIFO starter). */
export class CommandQueue {
  /** True when a waiting command does not block the next one. */
  readonly interleaved: boolean;
  #tail: Promise<unknown> = Promise.resolve();
  #waiting = 0;
  #running = 0;

  /** Creates a queue; see {@linkcode CommandQueueOptions}. */
  constructor(options: CommandQueueOptions = {}) {
    this.interleaved = options.interleaved ?? false;
  }

  /** Number of tasks queued but not yet started. */
  get waiting(): number {
    return this.#waiting;
  }

  /** True while a task runs. */
  get running(): boolean {
    return this.#running > 0;
  }

  /** Number of tasks running (at most 1 unless interleaved). */
  get runningCount(): number {
    return this.#running;
  }

  /**
   * Runs `task` after every task queued before it has settled (interleaved: has started);
   * returns its result.
   */
  run<T>(task: () => Promise<T> | T): Promise<T> {
    this.#waiting++;
    const result = this.#tail.then(async () => {
      this.#waiting--;
      this.#running++;
      try {
        return await task();
      } finally {
        this.#running--;
      }
    });
    this.#tail = this.interleaved ? this.#tail.then(() => {}) : result.catch(() => {});
    return result;
  }
}
