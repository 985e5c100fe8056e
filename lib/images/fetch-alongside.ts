/**
 * A pull's fetch walk and a reader of what it fetches, run side by side: the reader (resolve the image, unpack its
 * layers) takes each blob as soon as the walk has stored it, so fetching and reading overlap. `ImageStore.pull` and
 * `containerdPull` are both this, over their own content store.
 * @module
 */
import type { Descriptor } from '../oci/index.js';
import { dispatch, type Handler } from './handlers.js';
import type { BlobArrivals } from './pull-unpack.js';

/** Tells `arrivals` when `handler` (a fetch handler) has put a descriptor in the store. */
export function reportArrivals(handler: Handler, arrivals: BlobArrivals): Handler {
  return async (descriptor, context) => {
    const result = await handler(descriptor, context);
    arrivals.stored(descriptor.digest);
    return result;
  };
}

/** Options of {@link fetchAlongside}. */
export interface FetchAlongsideOptions {
  /** How many handler calls of the walk may run at once. */
  concurrency: number;
  signal?: AbortSignal | undefined;
}

/**
 * Dispatches `handler` (which must report to `arrivals`, see {@link reportArrivals}) from `root`, and runs `read`
 * meanwhile; `read` waits for blobs with `arrivals.whenStored`. The first failure of either aborts the signal the
 * other was given; both are awaited, so nothing is left running when this rejects. Resolves with what `read` did.
 * @throws the first failure; `signal.reason` on abort.
 */
export async function fetchAlongside<T>(
  handler: Handler,
  root: Descriptor,
  arrivals: BlobArrivals,
  read: (signal: AbortSignal) => Promise<T>,
  options: FetchAlongsideOptions,
): Promise<T> {
  const { concurrency, signal: outer } = options;
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(outer!.reason);
  if (outer?.aborted) onAbort();
  else outer?.addEventListener('abort', onAbort, { once: true });
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown): never => {
    failure ??= { error };
    if (!controller.signal.aborted) controller.abort(error);
    throw error;
  };
  const signal = controller.signal;
  try {
    const fetching = dispatch(handler, [root], { concurrency, signal })
      .catch(fail)
      .finally(() => arrivals.close());
    const reading = read(signal).catch(fail);
    const [, done] = await Promise.allSettled([fetching, reading]);
    if (outer?.aborted) throw outer.reason;
    if (failure !== undefined) throw failure.error;
    return (done as PromiseFulfilledResult<T>).value;
  } finally {
    outer?.removeEventListener('abort', onAbort);
  }
}
