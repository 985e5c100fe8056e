import { newError } from '../errors/index.js';
import type { Mount } from '../oci/index.js';
import type { Any } from '../gen/google/protobuf/any.js';
import type { Mount as WireMount } from '../gen/containerd/types/mount.js';
import type { Timestamp } from '../gen/google/protobuf/timestamp.js';

// Wire (generated) ↔ domain conversions shared by the task client and the event decoder.

/** Seconds of Go's zero `time.Time` (0001-01-01T00:00:00Z), what a shim sends as `exited_at` of a live process. */
export const GO_ZERO_TIME_SECONDS = -62135596800n;

// Date's range is ±8.64e15 ms around the epoch.
const MAX_DATE_MS = 8_640_000_000_000_000n;

/**
 * A protobuf Timestamp as a Date (millisecond precision), or undefined when absent, Go's zero time (or earlier:
 * "never happened") or outside Date's range. Seconds are int64 (bigint), so negative values decode exactly.
 */
export function timestampToDate(timestamp: Timestamp | undefined): Date | undefined {
  if (timestamp === undefined || timestamp.seconds <= GO_ZERO_TIME_SECONDS) return undefined;
  const ms = timestamp.seconds * 1000n + BigInt(Math.floor(timestamp.nanos / 1_000_000));
  if (ms > MAX_DATE_MS || ms < -MAX_DATE_MS) return undefined;
  return new Date(Number(ms));
}

/** A Date as a protobuf Timestamp. @throws ERR_INVALID_ARGUMENT for an invalid Date. */
export function dateToTimestamp(date: Date): Timestamp {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw newError('ERR_INVALID_ARGUMENT', 'invalid Date');
  const seconds = Math.floor(ms / 1000);
  return { seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

/** The message name in an Any's type URL: `containerd.events.TaskExit` for both that and `types.googleapis.com/containerd.events.TaskExit`. */
export function typeNameOf(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}

/** An Any holding JSON (how containerd passes OCI structs such as a Process or LinuxResources). */
export function jsonAny(typeUrl: string, value: unknown): Any {
  return { typeUrl, value: Buffer.from(JSON.stringify(value), 'utf8') };
}

/** An Any holding a protobuf message's bytes. */
export function protoAny(typeUrl: string, value: Uint8Array): Any {
  return { typeUrl, value: Buffer.from(value.buffer, value.byteOffset, value.byteLength) };
}

/** A containerkit Mount on the wire. */
export function mountToWire(mount: Mount): WireMount {
  return { type: mount.type, source: mount.source, target: mount.target ?? '', options: [...mount.options] };
}

/** A wire Mount as a containerkit Mount (an empty target is left out). */
export function mountFromWire(mount: WireMount): Mount {
  return { type: mount.type, source: mount.source, ...(mount.target === '' ? {} : { target: mount.target }), options: [...mount.options] };
}
