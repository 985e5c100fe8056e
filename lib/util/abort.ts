/** Throws `signal.reason` when the signal is already aborted (call before starting work and inside loops). */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}

/** Resolves after `ms`, or rejects with `signal.reason` as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One signal that aborts when any of the given ones does; `undefined` entries are ignored. */
export function anySignal(...signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  return AbortSignal.any(present);
}

/** A signal that aborts after `ms` (if given) or when `signal` does. */
export function withTimeout(signal: AbortSignal | undefined, ms: number | undefined): AbortSignal | undefined {
  return anySignal(signal, ms === undefined ? undefined : AbortSignal.timeout(ms));
}

/**
 * Settles like `promise`, or rejects with `signal.reason` as soon as the signal aborts (the promise itself goes
 * on; only this wait for it ends). Without a signal, `promise` itself.
 */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined); // a later rejection must not go unhandled
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * Calls `fn(signal.reason)` once when `signal` aborts, or right away (synchronously) when it already has, and
 * returns the function that removes the listener: call it when the guarded work ends (idempotent), so a
 * long-lived signal does not keep `fn`, and what it closes over, alive. Without a signal, a no-op.
 * The synchronous call covers a signal that aborted during an `await` between the caller's own check and this
 * call, which a bare `addEventListener('abort')` would never report.
 */
export function onAbort(signal: AbortSignal | undefined, fn: (reason: unknown) => void): () => void {
  if (signal === undefined) return () => undefined;
  if (signal.aborted) {
    fn(signal.reason);
    return () => undefined;
  }
  const listener = (): void => fn(signal.reason);
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}
