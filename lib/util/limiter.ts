import { newError } from '../errors/index.js';

/** Gives a slot back; calling it again does nothing. */
export type Release = () => void;

/**
 * A counting semaphore: at most `max` holders at once, waiters served first come, first served. A released slot
 * passes straight to the next waiter, so a caller arriving between the release and the waiter's wake-up cannot
 * take it too (which would let `max + 1` run).
 */
export class Semaphore {
  readonly #max: number;
  #active = 0;
  readonly #queue: Array<() => void> = [];

  /**
   * @param max holders at once: an integer >= 1, or `Infinity` for no limit.
   * @throws ERR_INVALID_ARGUMENT for any other `max`.
   */
  constructor(max: number) {
    if (max !== Infinity && (!Number.isSafeInteger(max) || max < 1))
      throw newError('ERR_INVALID_ARGUMENT', `semaphore size must be an integer >= 1 or Infinity, got ${max}`);
    this.#max = max;
  }

  /** Slots held right now. */
  get active(): number {
    return this.#active;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * Takes a free slot without waiting (no promise, no tick, for a hot path), or returns `undefined` when all are
   * held or callers are waiting (they come first).
   */
  tryAcquire(): Release | undefined {
    if (this.#active >= this.#max || this.#queue.length > 0) return undefined;
    this.#active++;
    return this.#releaser();
  }

  /**
   * Waits for a slot and returns the function that gives it back. Rejects with `signal.reason` when the signal is
   * aborted before a slot was granted (and then holds none).
   */
  async acquire(signal?: AbortSignal): Promise<Release> {
    signal?.throwIfAborted();
    if (this.#active < this.#max) {
      this.#active++;
      return this.#releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.#queue.indexOf(grant);
        if (i >= 0) this.#queue.splice(i, 1);
        reject(signal!.reason);
      };
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.#queue.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return this.#releaser();
  }

  /** Runs `fn` holding a slot, and gives the slot back however `fn` ends. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  #releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      // Handed over: the count stays, the waiter now holds the slot.
      if (next) next();
      else this.#active--;
    };
  }
}

/**
 * One {@link Semaphore} per key (a registry host, say), created on first use and dropped when idle, so the map
 * holds only keys in use.
 */
export class KeyedLimiter {
  readonly #max: number;
  readonly #semaphores = new Map<string, Semaphore>();

  /**
   * @param max holders per key: an integer >= 1, or `Infinity` for no limit.
   * @throws ERR_INVALID_ARGUMENT for any other `max`.
   */
  constructor(max: number) {
    new Semaphore(max); // validates once, up front
    this.#max = max;
  }

  /** As {@link Semaphore.acquire}, for `key`. */
  async acquire(key: string, signal?: AbortSignal): Promise<Release> {
    let semaphore = this.#semaphores.get(key);
    if (semaphore === undefined) {
      semaphore = new Semaphore(this.#max);
      this.#semaphores.set(key, semaphore);
    }
    let release: Release;
    try {
      release = await semaphore.acquire(signal);
    } catch (err) {
      this.#dropIfIdle(key, semaphore);
      throw err;
    }
    return () => {
      release();
      this.#dropIfIdle(key, semaphore);
    };
  }

  /** Slots held for `key` right now. */
  active(key: string): number {
    return this.#semaphores.get(key)?.active ?? 0;
  }

  /** Keys with a holder or a waiter. */
  get size(): number {
    return this.#semaphores.size;
  }

  #dropIfIdle(key: string, semaphore: Semaphore): void {
    if (semaphore.active === 0 && semaphore.waiting === 0 && this.#semaphores.get(key) === semaphore) this.#semaphores.delete(key);
  }
}

/**
 * Calls `fn` for every item, at most `limit` at once, in order of starting. After the first failure no new item
 * starts; the promise rejects with that failure once the started ones have settled (nothing is left running).
 * @throws ERR_INVALID_ARGUMENT for a `limit` that is not an integer >= 1.
 */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  if (!Number.isSafeInteger(limit) || limit < 1) throw newError('ERR_INVALID_ARGUMENT', `limit must be an integer >= 1, got ${limit}`);
  let next = 0;
  let failed: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failed.err;
}
