import { newError } from '../errors/index.js';
import type { Descriptor as PbDescriptor } from '../gen/containerd/types/descriptor.js';
import type { Mount as PbMount } from '../gen/containerd/types/mount.js';
import type { Any } from '../gen/google/protobuf/any.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import type { Mount } from '../oci/mount.js';

/** A protobuf `Any` in domain form: the type URL and the encoded bytes. */
export interface AnyValue {
  typeUrl: string;
  value: Uint8Array;
}

/** The type URL containerd uses for an OCI runtime spec carried as JSON. */
export const SPEC_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Spec';
/** The type URL containerd uses for an OCI process spec (exec) carried as JSON. */
export const PROCESS_SPEC_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Process';

/** int64 → number; throws ERR_CONTAINERD_INTERNAL past 2^53 (never expected for sizes and offsets). */
export function toNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw newError('ERR_CONTAINERD_INTERNAL', `containerd sent an integer beyond 2^53: ${value}`);
  }
  return Number(value);
}

/**
 * Timestamp ↔ Date, the one conversion in util/timestamp.ts (Go's zero time is `undefined`; times before 1970 are
 * real times), under the names containerd code uses.
 */
export { dateToTimestamp as fromDate, timestampToDate as toDate } from '../util/timestamp.js';

/** Any → {@link AnyValue} (undefined stays undefined). */
export function toAny(any: Any | undefined): AnyValue | undefined {
  return any === undefined ? undefined : { typeUrl: any.typeUrl, value: new Uint8Array(any.value) };
}

/** {@link AnyValue} → Any. */
export function fromAny(any: AnyValue | undefined): Any | undefined {
  return any === undefined ? undefined : { typeUrl: any.typeUrl, value: Buffer.from(any.value) };
}

/** A JSON document as an Any of `typeUrl` (how containerd carries runtime specs). */
export function jsonAny(typeUrl: string, value: unknown): AnyValue {
  return { typeUrl, value: Buffer.from(JSON.stringify(value)) };
}

/** Wire descriptor → OCI descriptor (annotations only when there are some). */
export function toDescriptor(d: PbDescriptor | undefined): Descriptor | undefined {
  if (d === undefined) return undefined;
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest as Digest, size: toNumber(d.size) };
  if (Object.keys(d.annotations).length > 0) out.annotations = { ...d.annotations };
  return out;
}

/** OCI descriptor → wire descriptor (urls, platform and data have no field there and are dropped). */
export function fromDescriptor(d: Descriptor): PbDescriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: BigInt(d.size), annotations: { ...(d.annotations ?? {}) } };
}

/** Wire mount → {@link Mount}. */
export function toMount(m: PbMount): Mount {
  const out: Mount = { type: m.type, source: m.source, options: [...m.options] };
  if (m.target !== '') out.target = m.target;
  return out;
}

/** {@link Mount} → wire mount. */
export function fromMount(m: Mount): PbMount {
  return { type: m.type, source: m.source, target: m.target ?? '', options: [...m.options] };
}
