import { newError } from '../errors/index.js';

/**
 * When and how often registry requests are retried: exponential backoff with jitter, for idempotent requests only
 * (GET, HEAD, DELETE, and PUT of a manifest), on network errors, 408, 429 and 5xx.
 */
export interface RetryPolicy {
  /** Total attempts including the first. Default 4; 1 turns retries off. */
  maxAttempts?: number;
  /** Delay before the first retry, in ms. Default 200. */
  baseDelayMs?: number;
  /** Cap of any single delay, in ms. Default 10000. */
  maxDelayMs?: number;
  /**
   * The longest `Retry-After` honoured, in ms; a registry asking for longer makes the call fail at once with its
   * error (ERR_REGISTRY_TOO_MANY_REQUESTS) instead of sleeping. Default 60000.
   */
  maxRetryAfterMs?: number;
}

/** A {@link RetryPolicy} with every default applied. */
export type ResolvedRetryPolicy = Required<RetryPolicy>;

/** The defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY_POLICY: ResolvedRetryPolicy = Object.freeze({
  maxAttempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
});

function check(value: unknown, name: string, min: number): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < min || !Number.isInteger(value))) {
    throw newError('ERR_INVALID_ARGUMENT', `${name} must be an integer ≥ ${min}, got ${String(value)}`);
  }
}

/**
 * Validates `policy` and fills in the defaults.
 * @throws ERR_INVALID_ARGUMENT naming the bad field.
 */
export function resolveRetryPolicy(policy: RetryPolicy = {}, name = 'options.retry'): ResolvedRetryPolicy {
  if (typeof policy !== 'object' || policy === null) throw newError('ERR_INVALID_ARGUMENT', `${name} must be an object`);
  check(policy.maxAttempts, `${name}.maxAttempts`, 1);
  check(policy.baseDelayMs, `${name}.baseDelayMs`, 0);
  check(policy.maxDelayMs, `${name}.maxDelayMs`, 0);
  check(policy.maxRetryAfterMs, `${name}.maxRetryAfterMs`, 0);
  return { ...DEFAULT_RETRY_POLICY, ...Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined)) };
}

/**
 * The delay before retry number `retry` (1 for the first retry): `base · 2^(retry−1)`, capped at `maxDelayMs`, then
 * "equal jitter" — half of it fixed, half random — so that many clients failing together do not come back together
 * but none retries immediately. `random` is injectable for tests (default Math.random, in [0, 1)).
 */
export function backoffDelay(retry: number, policy: ResolvedRetryPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const half = exp / 2;
  return Math.round(half + random() * half);
}

/**
 * The delay before retry number `retry` given the server's `Retry-After` (ms, when sent): the server's wish wins
 * when it is longer than the backoff; undefined when it asks for more than `maxRetryAfterMs` (do not retry).
 */
export function retryDelay(retry: number, policy: ResolvedRetryPolicy, retryAfterMs?: number, random?: () => number): number | undefined {
  const backoff = backoffDelay(retry, policy, random);
  if (retryAfterMs === undefined) return backoff;
  if (retryAfterMs > policy.maxRetryAfterMs) return undefined;
  return Math.max(backoff, retryAfterMs);
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'DELETE', 'PUT', 'OPTIONS']);

/**
 * Whether a request may be sent again: the method is idempotent and its body (if any) can be replayed. POST and
 * PATCH (upload sessions) never are; a PUT whose body is a one-shot stream is not either.
 */
export function isRetryableRequest(method: string, replayableBody: boolean): boolean {
  return IDEMPOTENT.has(method.toUpperCase()) && replayableBody;
}
