import type { ShimEvent } from './events.js';

/** An async iterator over events that ends when `finish` is called (or rejects with the abort reason). */
export function eventIterator(subscribe: (push: (e: ShimEvent) => void) => () => void, register: (finish: () => void) => () => void, signal?: AbortSignal): AsyncIterableIterator<ShimEvent> {
  const queue: ShimEvent[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  const unsubscribe = subscribe((e) => {
    queue.push(e);
    wake?.();
  });
  const finish = (): void => {
    if (done) return;
    done = true;
    unsubscribe();
    unregister();
    signal?.removeEventListener('abort', finish);
    wake?.();
  };
  const unregister = register(finish);
  signal?.addEventListener('abort', finish, { once: true });
  if (signal?.aborted) finish();
  return {
    async next(): Promise<IteratorResult<ShimEvent>> {
      for (;;) {
        if (queue.length > 0) return { value: queue.shift()!, done: false };
        if (done) {
          if (signal?.aborted) throw signal.reason;
          return { value: undefined, done: true };
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
    async return(): Promise<IteratorResult<ShimEvent>> {
      finish();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
