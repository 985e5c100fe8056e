import { type ClientMiddleware, Metadata } from 'nice-grpc';
import { newError } from '../errors/index.js';
import { anySignal } from '../util/abort.js';

/** The metadata key carrying the namespace of a call (containerd rejects namespaced calls without one). */
export const NAMESPACE_HEADER = 'containerd-namespace';
/** The metadata key naming the lease resources created by a call are attached to. */
export const LEASE_HEADER = 'containerd-lease';

/** Per-call options every containerd service method accepts. */
export interface ContainerdCallOptions {
  /** Cancels the call; it rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Aborts the call after this many ms (rejects with ERR_DEADLINE_EXCEEDED). */
  timeoutMs?: number;
  /** Aborts the call at this time. */
  deadline?: Date;
}

/**
 * Adds `containerd-namespace: <namespace>` (and `containerd-lease: <lease>` when given) to every call's metadata,
 * unless the call already set that header itself.
 */
export function headersMiddleware(namespace: string, lease?: string): ClientMiddleware {
  return async function* addHeaders(call, options) {
    const metadata = Metadata(options.metadata);
    if (!metadata.has(NAMESPACE_HEADER)) metadata.set(NAMESPACE_HEADER, namespace);
    if (lease !== undefined && !metadata.has(LEASE_HEADER)) metadata.set(LEASE_HEADER, lease);
    return yield* call.next(call.request, { ...options, metadata });
  };
}

/**
 * Turns the per-call `timeoutMs`/`deadline` options into an abort of the call's signal. When the deadline is what
 * ended the call, it rejects with ERR_DEADLINE_EXCEEDED (`details`: transport `grpc`, timeoutMs, method).
 */
export const deadlineMiddleware: ClientMiddleware<Pick<ContainerdCallOptions, 'timeoutMs' | 'deadline'>> = async function* deadline(call, options) {
  const { timeoutMs, deadline: at, ...rest } = options;
  let ms = timeoutMs;
  if (at !== undefined) {
    const left = Math.max(0, at.getTime() - Date.now());
    ms = ms === undefined ? left : Math.min(ms, left);
  }
  if (ms === undefined) return yield* call.next(call.request, rest);
  const timer = AbortSignal.timeout(ms);
  const signal = anySignal(rest.signal, timer);
  try {
    return yield* call.next(call.request, { ...rest, signal });
  } catch (err) {
    if (timer.aborted && !rest.signal?.aborted) {
      throw newError('ERR_DEADLINE_EXCEEDED', `containerd ${call.method.path}: no answer within ${ms} ms`, {
        cause: timer.reason,
        details: { transport: 'grpc', timeoutMs: ms, method: call.method.path },
      });
    }
    throw err;
  }
};
