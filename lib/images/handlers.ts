/**
 * Handlers for walking content graphs (manifests → configs and layers), after containerd's `images/handlers.go`:
 * a {@link Handler} maps a descriptor to its children; {@link walk} visits depth-first, one at a time;
 * {@link dispatch} visits siblings in parallel under a limit, and the first error cancels the rest. Pull, push,
 * GC marking and export are compositions of handlers.
 * @module
 */
import { newError } from '../errors/index.js';
import type { Descriptor } from '../oci/index.js';
import { Semaphore } from '../util/index.js';

/** Returned by a handler to leave a descriptor's subtree out (its children are not visited). */
export const SKIP: unique symbol = Symbol.for('containerkit.images.skip');

/** What a handler gets besides the descriptor. */
export interface HandlerContext {
  /** Aborted when the walk is cancelled or (in {@link dispatch}) when a sibling failed. */
  signal: AbortSignal;
}

/** Maps a descriptor to the descriptors to visit next; may do I/O (fetch, read, record). */
export type Handler = (descriptor: Descriptor, context: HandlerContext) => Promise<Descriptor[] | typeof SKIP | void> | Descriptor[] | typeof SKIP | void;

/** Options of {@link walk} and {@link dispatch}. */
export interface WalkOptions {
  /** Cancels the walk; it rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of {@link dispatch}. */
export interface DispatchOptions extends WalkOptions {
  /** How many handler calls may run at once. Default 4. */
  concurrency?: number;
}

/**
 * Runs the handlers in order on each descriptor and returns all their children, concatenated. A handler returning
 * {@link SKIP} stops the chain and skips the subtree.
 */
export function composeHandlers(...handlers: Handler[]): Handler {
  return async (descriptor, context) => {
    const children: Descriptor[] = [];
    for (const handler of handlers) {
      const result = await handler(descriptor, context);
      if (result === SKIP) return SKIP;
      if (result) children.push(...result);
    }
    return children;
  };
}

/**
 * Visits `roots` and their descendants depth-first, one handler call at a time.
 * Rejects with the first handler error, or `signal.reason` on abort.
 */
export async function walk(handler: Handler, roots: readonly Descriptor[], options: WalkOptions = {}): Promise<void> {
  const signal = options.signal ?? new AbortController().signal;
  for (const descriptor of roots) {
    signal.throwIfAborted();
    const children = await handler(descriptor, { signal });
    if (children && children !== SKIP && children.length > 0) await walk(handler, children, { signal });
  }
}

/**
 * Visits `roots` and their descendants with up to `concurrency` handler calls at once (siblings in parallel,
 * children as soon as their parent's handler returned). The first error aborts the signal handed to the other
 * calls and is what the promise rejects with, after every started call has settled.
 * @throws ERR_INVALID_ARGUMENT for a bad `concurrency`.
 */
export async function dispatch(handler: Handler, roots: readonly Descriptor[], options: DispatchOptions = {}): Promise<void> {
  const { concurrency = 4, signal: outer } = options;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw newError('ERR_INVALID_ARGUMENT', 'options.concurrency must be an integer >= 1');
  outer?.throwIfAborted();
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(outer!.reason);
  outer?.addEventListener('abort', onAbort, { once: true });
  const limiter = new Semaphore(concurrency);
  let firstError: { error: unknown } | undefined;
  const visit = async (descriptors: readonly Descriptor[]): Promise<void> => {
    await Promise.all(
      descriptors.map(async (descriptor) => {
        try {
          const children = await limiter.run(async () => {
            controller.signal.throwIfAborted();
            return handler(descriptor, { signal: controller.signal });
          });
          if (children && children !== SKIP && children.length > 0) await visit(children);
        } catch (error) {
          firstError ??= { error };
          if (!controller.signal.aborted) controller.abort(error);
        }
      }),
    );
  };
  try {
    await visit(roots);
  } finally {
    outer?.removeEventListener('abort', onAbort);
  }
  if (outer?.aborted) throw outer.reason;
  if (firstError) throw firstError.error;
}
