import { WriteContentRequest } from '../gen/containerd/services/content/v1/content.js';

// Field 6 (`data`), wire type 2 (length-delimited).
const DATA_TAG = (6 << 3) | 2;
const ENCODED = Symbol('encoded');
const EMPTY = Buffer.alloc(0);

type PreEncoded = WriteContentRequest & { [ENCODED]?: Uint8Array };

function varintLength(n: number): number {
  let length = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    length++;
  }
  return length;
}

function putVarint(buf: Buffer, at: number, n: number): void {
  let p = at;
  for (; n >= 0x80; n = Math.floor(n / 0x80)) buf[p++] = (n & 0x7f) | 0x80;
  buf[p] = n;
}

/**
 * A WRITE request whose wire form is made now, in one buffer, with `data` copied into it once: the generated
 * encoder grows its buffer by doubling and slices the result (three copies of every MiB). The wire form goes into
 * `into` when it fits (a buffer the caller reuses once containerd has answered this request, so a long ingest does
 * not allocate its size again: every allocation of that size cost V8 major collections), else into a new buffer.
 * The returned request's `data` is a view into the wire form, so the caller may reuse its own data at once.
 */
export function encodedWriteRequest(request: WriteContentRequest, into?: Buffer): WriteContentRequest {
  const { data } = request;
  // Protobuf fields may come in any order: the small ones first, then the data.
  const head = WriteContentRequest.encode({ ...request, data: EMPTY }).finish();
  const at = head.length + 1 + varintLength(data.length);
  const wire = into !== undefined && into.length >= at + data.length ? into.subarray(0, at + data.length) : Buffer.allocUnsafe(at + data.length);
  wire.set(head, 0);
  wire[head.length] = DATA_TAG;
  putVarint(wire, head.length + 1, data.length);
  wire.set(data, at);
  const out: PreEncoded = { ...request, data: wire.subarray(at) };
  out[ENCODED] = wire;
  return out;
}

/**
 * A WRITE request whose data the caller already put into `wire` at `[at, at + length)` (gathered from several
 * writes): its other fields and the data's tag and length are encoded right before `at`, so the data is not copied
 * again. Falls back to {@link encodedWriteRequest} (one copy) when they do not fit in front of it.
 */
export function stagedWriteRequest(request: WriteContentRequest, wire: Buffer, at: number, length: number): WriteContentRequest {
  const data = wire.subarray(at, at + length);
  const head = WriteContentRequest.encode({ ...request, data: EMPTY }).finish();
  const start = at - head.length - 1 - varintLength(length);
  if (start < 0) return encodedWriteRequest({ ...request, data });
  wire.set(head, start);
  wire[start + head.length] = DATA_TAG;
  putVarint(wire, start + head.length + 1, length);
  const out: PreEncoded = { ...request, data };
  out[ENCODED] = wire.subarray(start, at + length);
  return out;
}

/** The wire form of a WRITE request: the one {@link encodedWriteRequest} made, or the generated encoder's. */
export function encodeWriteRequest(message: WriteContentRequest): Uint8Array {
  return (message as PreEncoded)[ENCODED] ?? WriteContentRequest.encode(message).finish();
}
