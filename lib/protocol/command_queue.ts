/**
 * Serialises commands from every session: one command runs in the VMM at a time, in arrival
 * order, so that concurrent sessions never interleave inside the hypervisor.
 *
 * @module
 */

/** A FIFO mutex for async tasks. */
export class CommandQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #waiting = 0;
  #running = false;

  /** Number of tasks queued but not yet started. */
  get waiting(): number {
    return this.#waiting;
  }

  /** True while a task runs. */
  get running(): boolean {
    return this.#running;
  }

  /** Runs `task` after every task queued before it has settled; returns its result. */
  run<T>(task: () => Promise<T> | T): Promise<T> {
    this.#waiting++;
    const result = this.#tail.then(async () => {
      this.#waiting--;
      this.#running = true;
      try {
        return await task();
      } finally {
        this.#running = false;
      }
    });
    this.#tail = result.catch(() => {});
    return result;
  }
}
