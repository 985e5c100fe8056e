import { Semaphore } from '../util/limiter.js';

/**
 * The background tasks of a layer writer: file and symlink creations that run (up to `concurrency` at once
 * on libuv's pool) while the main sequence moves on. A task is keyed by its path, so a later entry for the same
 * path can wait for it; the first task failure is kept and rethrown by every later call, so the main sequence
 * stops at the next entry.
 */
export class WriteScheduler {
  readonly #slots: Semaphore;
  readonly #signal: AbortSignal | undefined;
  readonly #pending = new Map<string, Promise<void>>();
  #failed = false;
  #failure: unknown;

  constructor(concurrency: number, signal: AbortSignal | undefined) {
    this.#slots = new Semaphore(concurrency);
    this.#signal = signal;
  }

  /** Throws the first task failure, or the signal's reason once aborted. */
  throwIfFailed(): void {
    if (this.#failed) throw this.#failure;
    this.#signal?.throwIfAborted();
  }

  /** Waits for every task in flight, ignoring their outcome (before cleaning up after a failure). */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending.values()]);
  }

  /** Drains every task, then rethrows the first failure. */
  async barrier(): Promise<void> {
    await this.settle();
    this.throwIfFailed();
  }

  /** Waits for the task at `key`, if any (a later entry for a path applies after the earlier one). */
  async waitFor(key: string): Promise<void> {
    const task = this.#pending.get(key);
    if (task) await task;
    this.throwIfFailed();
  }

  /**
   * Starts `work` as the task of `key` once the earlier task at `key` is done and a slot is free; resolves when it
   * has started, not when it ends. Only the main sequence calls this, one call at a time.
   */
  async schedule(key: string, work: () => Promise<void>): Promise<void> {
    await this.waitFor(key);
    // A free slot is taken without a tick: most creations find one, and this runs once per file.
    const release = this.#slots.tryAcquire() ?? (await this.#slots.acquire());
    if (this.#failed || this.#signal?.aborted) {
      // A task failed (or the signal fired) since the last check: start nothing more.
      release();
      this.throwIfFailed();
    }
    const task: Promise<void> = work()
      .catch((err: unknown) => {
        if (!this.#failed) {
          this.#failed = true;
          this.#failure = err;
        }
      })
      .finally(() => {
        if (this.#pending.get(key) === task) this.#pending.delete(key);
        release();
      });
    this.#pending.set(key, task);
  }
}
