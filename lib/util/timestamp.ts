import { newError } from '../errors/index.js';

/**
 * The shape of a `google.protobuf.Timestamp` as ts-proto generates it (int64 seconds as bigint). Structural, so
 * util needs no import of the generated code.
 */
export interface ProtoTimestamp {
  /** Seconds since the epoch; negative before 1970. */
  seconds: bigint;
  /** Always 0..999,999,999 and counted forwards, even for times before 1970 (-1.5 s is seconds -2, nanos 5e8). */
  nanos: number;
}

/** Seconds of Go's zero `time.Time` (0001-01-01T00:00:00Z): what containerd and shims send for "never" (a live process's `exited_at`). */
export const GO_ZERO_TIME_SECONDS = -62135596800n;

// Date's range is ±8.64e15 ms around the epoch.
const MAX_DATE_MS = 8_640_000_000_000_000n;

/**
 * A protobuf Timestamp as a Date (millisecond precision, nanoseconds truncated towards the past), or `undefined`
 * when absent, Go's zero time or earlier ("never happened"), or outside Date's range. Times before 1970 are
 * real times: seconds is int64, and nanos count forwards from it
 * (https://protobuf.dev/reference/protobuf/google.protobuf/#timestamp).
 */
export function timestampToDate(timestamp: ProtoTimestamp | undefined): Date | undefined {
  if (timestamp === undefined || timestamp.seconds <= GO_ZERO_TIME_SECONDS) return undefined;
  const ms = timestamp.seconds * 1000n + BigInt(Math.floor(timestamp.nanos / 1_000_000));
  if (ms > MAX_DATE_MS || ms < -MAX_DATE_MS) return undefined;
  return new Date(Number(ms));
}

/**
 * A Date as a protobuf Timestamp: seconds rounded down and non-negative nanos, as the spec requires for times
 * before 1970 too. @throws ERR_INVALID_ARGUMENT for an invalid Date.
 */
export function dateToTimestamp(date: Date): ProtoTimestamp {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw newError('ERR_INVALID_ARGUMENT', 'invalid Date');
  const seconds = Math.floor(ms / 1000);
  return { seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}
