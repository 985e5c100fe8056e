/**
 * A counting semaphore per key (a registry host): at most `max` holders at once, waiters served in order. Used to
 * cap concurrent requests per host, which keeps a large pull from opening hundreds of sockets to one registry.
 */
export class KeyedLimiter {
  readonly #max: number;
  readonly #active = new Map<string, number>();
  readonly #queues = new Map<string, Array<() => void>>();

  /** @param max holders per key; `Infinity` disables limiting. */
  constructor(max: number) {
    this.#max = max;
  }

  /**
   * Waits for a slot for `key` and returns the function that gives it back (idempotent). Rejects with
   * `signal.reason` when aborted while waiting.
   */
  async acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    const active = this.#active.get(key) ?? 0;
    if (active < this.#max) {
      this.#active.set(key, active + 1);
      return this.#releaser(key);
    }
    await new Promise<void>((resolve, reject) => {
      const queue = this.#queues.get(key) ?? [];
      this.#queues.set(key, queue);
      const onAbort = (): void => {
        const i = queue.indexOf(grant);
        if (i >= 0) queue.splice(i, 1);
        reject(signal!.reason);
      };
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      queue.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return this.#releaser(key);
  }

  /** Slots held for `key` right now. */
  active(key: string): number {
    return this.#active.get(key) ?? 0;
  }

  #releaser(key: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queues.get(key)?.shift();
      // The slot passes straight to the next waiter, so the count does not change.
      if (next) {
        next();
        return;
      }
      const left = (this.#active.get(key) ?? 1) - 1;
      if (left <= 0) this.#active.delete(key);
      else this.#active.set(key, left);
      this.#queues.delete(key);
    };
  }
}
