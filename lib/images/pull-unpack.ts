/**
 * The pieces that let a pull unpack while it fetches: {@link BlobArrivals} tracks the blobs of a running pull and
 * reads a layer while it is still downloading (from its ingest file, then from the blob), and
 * {@link imageLayerSources} turns an image's layers into `unpackLayers` sources. A layer is then applied as its
 * bytes arrive, once the layer below it is applied, while the blobs above it are still downloading.
 * @module
 */
import type { Readable } from 'node:stream';
import type { ContentStore, IngestFollower, IngestReader, Provider } from '../content/index.js';
import { NotFoundError, newError } from '../errors/index.js';
import { checkLayerCount, type Descriptor, type ImageConfig, type Manifest } from '../oci/index.js';
import type { LayerSource, Snapshotter, UnpackLayersResult } from '../unpack/index.js';

/** Options of an unpack into a snapshotter: `ImageStore.unpack`, and `unpack` of `ImageStore.pull`. */
export interface ImageUnpackOptions {
  /** Per-layer limit on the uncompressed size (ERR_LAYER_TOO_LARGE). Default none. */
  maxUncompressedSize?: number;
  /** Labels put on every layer snapshot committed now. Default none. */
  labels?: Record<string, string>;
}

/** The `unpack` option of `ImageStore.pull`: where to unpack the pulled image, layer by layer. */
export interface PullUnpackOptions extends ImageUnpackOptions {
  /** Receives one committed snapshot per layer, named by its chain ID (an OverlaySnapshotter, a NativeSnapshotter…). */
  snapshotter: Snapshotter;
}

/**
 * What an unpack did: the stack's chain ID (the parent of a container's snapshot; absent for an image without
 * layers) and, per layer, whether it was applied now.
 */
export interface ImageUnpackResult extends Omit<UnpackLayersResult, 'chainId'> {
  chainId?: UnpackLayersResult['chainId'];
}

/** Throws ERR_INVALID_ARGUMENT, naming `name`, unless `value` is a {@link Snapshotter}. */
export function validateSnapshotter(value: unknown, name: string): void {
  const s = value as Partial<Snapshotter> | undefined;
  if (typeof s !== 'object' || s === null || typeof s.prepare !== 'function' || typeof s.commit !== 'function' || typeof s.stat !== 'function') {
    throw newError('ERR_INVALID_ARGUMENT', `${name} must be a Snapshotter`);
  }
}

/** Throws ERR_INVALID_ARGUMENT, naming `name`, unless `value` is usable {@link ImageUnpackOptions}. */
export function validateUnpackOptions(value: unknown, name: string): void {
  if (typeof value !== 'object' || value === null) throw newError('ERR_INVALID_ARGUMENT', `${name} must be an object`);
  const o = value as Partial<ImageUnpackOptions>;
  if (o.maxUncompressedSize !== undefined && (!Number.isSafeInteger(o.maxUncompressedSize) || o.maxUncompressedSize <= 0)) {
    throw newError('ERR_INVALID_ARGUMENT', `${name}.maxUncompressedSize must be a positive integer`);
  }
  if (o.labels !== undefined && (typeof o.labels !== 'object' || o.labels === null || Object.values(o.labels).some((v) => typeof v !== 'string'))) {
    throw newError('ERR_INVALID_ARGUMENT', `${name}.labels must map strings to strings`);
  }
}

/** Waits for a blob to be in the store; resolves at once for content that is known to be there. */
export type WhenStored = (descriptor: { digest: string }, signal?: AbortSignal) => Promise<void>;

/** Opens a layer blob for `unpackLayers`. */
export type OpenBlob = (descriptor: Descriptor, signal?: AbortSignal) => Promise<Readable | AsyncIterable<Buffer>>;

/** Where a pull's blobs can be read: committed ones by digest, ingests while they are written (LocalContentStore). */
export type FollowableStore = Provider & IngestFollower;

// Reads of a blob in progress hand on chunks of this size (PERFORMANCE.md: ≥ 1 MiB).
const FOLLOW_CHUNK = 1 << 20;

interface LiveIngest {
  ref: string;
  bytes: number;
  /** Bumped when the download starts over: a reader that already took bytes cannot go on. */
  generation: number;
}

/**
 * Tracks the blobs of a running pull: which are in the store ({@link BlobArrivals.stored}, after each
 * descriptor's fetch), how far a download in progress has written its ingest ({@link BlobArrivals.written}, fed by
 * fetchInto's `onWritten`), and when the fetching is over ({@link BlobArrivals.close}, either way). Readers wait with
 * {@link BlobArrivals.whenStored}, or read a blob while it downloads with {@link BlobArrivals.follow}.
 */
export class BlobArrivals {
  readonly #stored = new Set<string>();
  readonly #live = new Map<string, LiveIngest>();
  readonly #waiting = new Map<string, Array<() => void>>();
  #closed = false;

  #wake(digest: string): void {
    const wakers = this.#waiting.get(digest);
    this.#waiting.delete(digest);
    for (const wake of wakers ?? []) wake();
  }

  /** `digest` is in the store now. */
  stored(digest: string): void {
    this.#stored.add(digest);
    this.#wake(digest);
  }

  /** The download of `digest` into ingest `ref` (started at byte 0) has written `bytes` so far. */
  written(digest: string, ref: string, bytes: number): void {
    const current = this.#live.get(digest);
    const restarted = current !== undefined && (bytes < current.bytes || ref !== current.ref);
    this.#live.set(digest, { ref, bytes, generation: (current?.generation ?? 0) + (restarted ? 1 : 0) });
    this.#wake(digest);
  }

  /**
   * The fetching is over: wakes every waiter, whose read then finds the store as it is (ERR_NOT_FOUND for a blob
   * the pull did not get).
   */
  close(): void {
    this.#closed = true;
    for (const digest of [...this.#waiting.keys()]) this.#wake(digest);
  }

  /** Resolves at the next change for `digest` (or the close); rejects with `signal.reason` on abort. */
  #change(digest: string, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#closed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const wakers = this.#waiting.get(digest) ?? [];
      wakers.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      this.#waiting.set(digest, wakers);
    });
  }

  /** Resolves once `descriptor` is stored (or the fetching is over); rejects with `signal.reason` on abort. */
  readonly whenStored: WhenStored = async (descriptor, signal) => {
    signal?.throwIfAborted();
    while (!this.#closed && !this.#stored.has(descriptor.digest)) await this.#change(descriptor.digest, signal);
  };

  /**
   * The bytes of `descriptor` as they arrive: read from its ingest while this pull downloads it, then from the
   * blob; a blob that is stored already, or downloaded by someone else, or resumed, is read once stored. Chunks of
   * 1 MiB. The bytes are the verified ones the writer wrote (the Fetcher checks them as they stream; a wrong blob
   * fails the download, which aborts the reader's pull).
   * @throws ERR_DIGEST_MISMATCH when the download starts over after the reader took bytes; ERR_NOT_FOUND when the
   *   fetching ended without the blob; ERR_IO; `signal.reason` on abort.
   */
  async *follow(store: FollowableStore, descriptor: Descriptor, signal?: AbortSignal): AsyncGenerator<Buffer> {
    const { digest, size } = descriptor;
    let reader: Pick<IngestReader, 'read' | 'close'> | undefined;
    let generation: number | undefined;
    let pos = 0;
    try {
      while (pos < size) {
        signal?.throwIfAborted();
        const stored = this.#stored.has(digest) || this.#closed;
        const live = this.#live.get(digest);
        if (generation !== undefined && live !== undefined && live.generation !== generation) {
          throw newError('ERR_DIGEST_MISMATCH', `blob ${digest} was downloaded again while it was being read`, { details: { expectedDigest: digest } });
        }
        const limit = stored ? size : Math.min(live?.bytes ?? 0, size);
        if (pos >= limit) {
          await this.#change(digest, signal);
          continue;
        }
        if (reader === undefined) {
          try {
            reader = stored ? await store.readerAt(digest, { signal }) : await store.ingestReader(live!.ref, { signal });
          } catch (err) {
            if (err instanceof NotFoundError && !stored) {
              await this.#change(digest, signal); // committed meanwhile: the ingest is now the blob
              continue;
            }
            throw err;
          }
          generation = stored ? undefined : live!.generation;
        }
        const chunk = await reader.read(pos, Math.min(FOLLOW_CHUNK, limit - pos), { signal });
        if (chunk.length === 0)
          throw newError('ERR_SIZE_MISMATCH', `blob ${digest} ended after ${pos} of ${size} bytes`, { details: { expectedSize: size, actualSize: pos } });
        pos += chunk.length;
        yield chunk;
      }
    } finally {
      await reader?.close().catch(() => undefined);
    }
  }
}

/**
 * The `unpackLayers` sources of an image's layers, bottom first, each opened with `open` (which may wait for the
 * blob to arrive). The blob's digest is not checked again (the store verified it, and the applier verifies the
 * diff_id over the uncompressed tar, which no corrupt blob passes): a 200 MB layer is then hashed once less.
 * @throws ERR_INVALID_MANIFEST when the config's `rootfs.diff_ids` do not match the layers one to one.
 */
export function imageLayerSources(manifest: Manifest, config: ImageConfig, openBlob: OpenBlob, signal?: AbortSignal): LayerSource[] {
  checkLayerCount(manifest, config);
  const diffIds = config.rootfs.diff_ids;
  return manifest.layers.map((layer, i) => ({ diffId: diffIds[i]!, open: () => openBlob(layer, signal) }));
}

/** An {@link OpenBlob} over committed content: a stream of the blob from `content`. */
export function storedBlobOpener(content: Pick<ContentStore, 'readerAt'>): OpenBlob {
  return async (descriptor, signal) => {
    const reader = await content.readerAt(descriptor.digest, { signal });
    try {
      return reader.stream(0, signal ? { signal } : {});
    } finally {
      // The stream does not depend on the handle (ReaderAt.stream's contract).
      await reader.close();
    }
  };
}
