/**
 * The blob writers of {@link buildImage}: a layer streamed from a directory diff straight into a content writer,
 * and small JSON blobs (config, manifest). Each blob becomes visible under its digest only through `commit()`,
 * which verifies size and digest; a failed write removes its ingest, so nothing half-written stays behind.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Ingester, IngestManager, Writer } from '../content/index.js';
import { AlreadyExistsError } from '../errors/index.js';
import type { Descriptor, Digest } from '../oci/index.js';
import { diffDirectories } from '../unpack/index.js';
import { digestBuffer } from '../util/digest-stream.js';

/** Where built blobs go: open writers, and drop the ingest of a write that failed. */
export type BlobSink = Ingester & Pick<IngestManager, 'abort'>;

/** Digests GC must keep until the image is named; a `Lease` from `createLease(store.root)` satisfies it. */
export interface BuildLease {
  add(digests: readonly string[], options?: { signal?: AbortSignal }): Promise<void>;
}

/** A layer written to the store. */
export interface WrittenLayer {
  descriptor: Descriptor;
  diffId: Digest;
}

// Any store's "already there" (local ERR_ALREADY_EXISTS, containerd's ERR_CONTAINERD_ALREADY_EXISTS) is one category.
function isAlreadyExists(err: unknown): boolean {
  return err instanceof AlreadyExistsError;
}

/** Commits `writer`; a blob committed meanwhile (by another build of the same bytes) is success. */
async function commit(writer: Writer, size: number, digest: string, signal: AbortSignal | undefined): Promise<void> {
  await writer.commit(size, digest, { signal }).catch((err: unknown) => {
    if (!isAlreadyExists(err)) throw err;
  });
}

/** Closes a failed writer and removes its ingest; cleanup errors must not hide the original one. */
async function discard(content: BlobSink, writer: Writer): Promise<void> {
  await writer.close().catch(() => undefined);
  await content.abort(writer.ref).catch(() => undefined);
}

/** Adapts a content {@link Writer} to a byte stream sink, one awaited write per chunk (backpressure). */
function writerStream(writer: Writer, signal: AbortSignal | undefined): Writable {
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, callback) {
      writer.write(chunk, { signal }).then(() => callback(), callback);
    },
  });
}

/**
 * Writes the layer that turns `lower` (none: the empty tree) into `directory`, through the unpack part's diff
 * writer. The digest is only known at the end, so the ingest has a random ref; the digest joins `lease` before
 * the commit, so a GC between commit and naming keeps it.
 */
export async function writeLayerBlob(
  content: BlobSink,
  layer: { directory: string; lower?: string | undefined },
  options: { compression: 'gzip' | 'none'; mediaType: string; lease?: BuildLease | undefined; signal?: AbortSignal | undefined },
): Promise<WrittenLayer> {
  const { compression, mediaType, lease, signal } = options;
  const writer = await content.writer({ ref: `build-layer-${randomUUID()}`, signal });
  try {
    const result = await diffDirectories(layer.lower, layer.directory, writerStream(writer, signal), { compression, ...(signal ? { signal } : {}) });
    await lease?.add([result.digest], { signal });
    await commit(writer, result.size, result.digest, signal);
    return { descriptor: { mediaType, digest: result.digest as Digest, size: result.size }, diffId: result.diffId as Digest };
  } catch (err) {
    await discard(content, writer);
    throw signal?.aborted ? signal.reason : err;
  }
}

/** Writes `bytes` as a blob of `mediaType` (a no-op when it is stored already) and returns its descriptor. */
export async function writeBytesBlob(
  content: BlobSink,
  bytes: Buffer,
  mediaType: string,
  options: { lease?: BuildLease | undefined; signal?: AbortSignal | undefined },
): Promise<Descriptor> {
  const { lease, signal } = options;
  const computed = digestBuffer(bytes);
  const descriptor: Descriptor = { mediaType, digest: `${computed.algorithm}:${computed.hex}` as Digest, size: bytes.length };
  await lease?.add([descriptor.digest], { signal });
  let writer: Writer;
  try {
    // Waits for a concurrent build writing the same bytes rather than failing; its lock has stale detection.
    writer = await content.writer({
      ref: `build-${descriptor.digest}`,
      expected: { digest: descriptor.digest, size: descriptor.size },
      lockTimeoutMs: Infinity,
      signal,
    });
  } catch (err) {
    if (isAlreadyExists(err)) return descriptor;
    throw err;
  }
  try {
    await writer.truncate(0); // a leftover ingest of this ref holds these bytes or a prefix: start over
    await writer.write(bytes, { signal });
    await commit(writer, descriptor.size, descriptor.digest, signal);
    return descriptor;
  } catch (err) {
    await discard(content, writer);
    throw signal?.aborted ? signal.reason : err;
  }
}
