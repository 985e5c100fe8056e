import type { Mount as WireMount } from '../gen/containerd/types/mount.js';
import type { Any } from '../gen/google/protobuf/any.js';
import type { Mount } from '../oci/index.js';

// Wire (generated) ↔ domain conversions shared by the task client and the event decoder.

// One Timestamp conversion for shim and containerd alike (util/timestamp.ts); re-exported under the names shim code uses.
export { dateToTimestamp, GO_ZERO_TIME_SECONDS, timestampToDate } from '../util/timestamp.js';

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
