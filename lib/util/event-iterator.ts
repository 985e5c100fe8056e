/** Options of {@link eventIterator}. */
export interface EventIteratorOptions {
  /** Ends the iterator; what the consumer then sees is chosen by `onAbort`. */
  signal?: AbortSignal;
  /**
   * On abort, `'throw'` (default) makes the next `next()` reject with `signal.reason` once the queued values are
   * read; `'end'` ends the iteration quietly.
   */
  onAbort?: 'throw' | 'end';
}

/**
 * Turns a push source (an emitter's listener) into an async iterator. `subscribe` is called at once, so values
 * pushed before the first `next()` are queued, not lost; it gets `push` and `end` (to end the iteration from the
 * producer's side, e.g. on the emitter's close) and returns the function that unsubscribes. That function runs
 * exactly once, whichever way the iteration ends: `end()`, abort, or the consumer's `break`/`return()`.
 * Values are queued without bound while nobody reads, as with an emitter's listener.
 */
export function eventIterator<T>(
  subscribe: (push: (value: T) => void, end: () => void) => () => void,
  options: EventIteratorOptions = {},
): AsyncIterableIterator<T> {
  const { signal, onAbort = 'throw' } = options;
  const queue: T[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  let aborted: { reason: unknown } | undefined;
  let unsubscribe: (() => void) | undefined;
  const end = (): void => {
    if (done) return;
    done = true;
    signal?.removeEventListener('abort', abort);
    unsubscribe?.();
    unsubscribe = undefined;
    wake?.();
  };
  // Only an abort that ended the iteration counts: a signal aborted after a normal end changes nothing.
  const abort = (): void => {
    if (done) return;
    aborted = { reason: signal!.reason };
    end();
  };
  const push = (value: T): void => {
    if (done) return;
    queue.push(value);
    wake?.();
  };
  if (signal?.aborted) abort();
  else {
    signal?.addEventListener('abort', abort, { once: true });
    unsubscribe = subscribe(push, end);
    // `end` may have run inside subscribe, before there was an unsubscribe to call.
    if (done) {
      unsubscribe();
      unsubscribe = undefined;
    }
  }
  return {
    async next(): Promise<IteratorResult<T>> {
      for (;;) {
        if (queue.length > 0) return { value: queue.shift()!, done: false };
        if (done) {
          if (aborted && onAbort === 'throw') throw aborted.reason;
          return { value: undefined, done: true };
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
    async return(): Promise<IteratorResult<T>> {
      end();
      queue.length = 0;
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
