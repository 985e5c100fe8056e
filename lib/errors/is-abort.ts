/**
 * Whether `err` is the rejection of a cancelled operation: an `AbortError` (DOMException or Node's own) or a
 * `TimeoutError` from `AbortSignal.timeout`. Cancelled operations reject with `signal.reason`, never with a
 * coded containerkit error.
 */
export function isAbortError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const name = (err as { name?: unknown }).name;
  return name === 'AbortError' || name === 'TimeoutError' || (err as { code?: unknown }).code === 'ABORT_ERR';
}
