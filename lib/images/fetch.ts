/**
 * The one place a registry {@link Fetcher} meets a content {@link Ingester}: {@link fetchHandler} makes sure a
 * descriptor's bytes are in the store — skipped when present, resumed from the ingest's offset when partly there,
 * verified, and (for manifests, indexes and configs) strictly parsed before they are committed.
 * @module
 */
import type { Ingester, IngestManager, Manager } from '../content/index.js';
import { AlreadyExistsError, newError } from '../errors/index.js';
import { type Descriptor, isConfigMediaType, MAX_IMAGE_CONFIG_SIZE, parseImageConfig, parseManifestOrIndex } from '../oci/index.js';
import type { Fetcher } from '../registry/index.js';
import { chunksOf } from '../util/stream-chunks.js';
import { hasChildren } from './children.js';
import type { Handler } from './handlers.js';
import type { Lease } from './leases.js';

/**
 * The roles of a content store a fetch uses: `info` (skip what is there), `writer` (an Ingester), and `abort` (give
 * the partial bytes back when the disk is full). LocalContentStore and containerd's content proxy both fit.
 */
export type FetchStore = Ingester & Pick<Manager, 'info'> & Pick<IngestManager, 'abort'>;

/** Status of one descriptor during a pull. */
export type PullStatus = 'waiting' | 'downloading' | 'verifying' | 'exists' | 'done';

/** A progress event of a pull, per descriptor. */
export interface PullProgress {
  /** The first 12 hex digits of the digest, as docker prints them. */
  id: string;
  descriptor: Descriptor;
  status: PullStatus;
  /** Bytes in the store so far (including a resumed prefix). */
  complete: number;
  total: number;
}

/** Options of {@link fetchHandler}. */
export interface FetchHandlerOptions {
  /** Called with progress per descriptor. */
  onProgress?: (event: PullProgress) => void;
  /** Digests are added to this lease before their writer opens, so GC keeps them. */
  lease?: Lease;
  /**
   * Called, while a download that started at byte 0 runs, with the number of bytes of `descriptor` in the ingest
   * `ingestRef` (0 when it starts, then after every write; a smaller number than before means the download started
   * over). Not called for a resumed download. What a reader that follows a blob in progress listens to. Default none.
   */
  onWritten?: (descriptor: Descriptor, ingestRef: string, bytes: number) => void;
  /**
   * The store hashes every byte it is sent and refuses a commit whose digest differs (containerd's content store,
   * as when ctr pulls): the Fetcher then checks only the size (`verify: 'size'`) and the writer keeps no hash of its
   * own, so the bytes are hashed once on this machine; chunks go to the writer as they arrived (such a store's writer
   * gathers them into its own requests, so joining them first would be one more copy). Never set it for a store that
   * trusts a verified source (LocalContentStore): nothing would check the digest. Default false.
   */
  storeVerifiesDigest?: boolean;
  /** Labels each committed blob gets, for a store that keeps labels (containerd: `containerd.io/distribution.source.*`). Default none. */
  labels?: Record<string, string>;
}

const RETRYABLE = new Set(['ERR_DIGEST_MISMATCH', 'ERR_SIZE_MISMATCH']);

/** The first 12 hex digits of a digest. */
export function shortDigest(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 13);
}

function isExists(err: unknown): boolean {
  return err instanceof AlreadyExistsError; // any store's "already there", containerd's included
}

/**
 * Refuses a manifest, index or config that fails the strict parser, before it is committed; a config whose
 * descriptor carries a `platform` (see `inheritPlatform`) must be for that platform.
 */
function checkDocument(descriptor: Descriptor, bytes: Buffer): void {
  if (hasChildren(descriptor.mediaType)) parseManifestOrIndex(bytes, { expected: descriptor });
  else if (isConfigMediaType(descriptor.mediaType))
    parseImageConfig(bytes, { expected: descriptor, ...(descriptor.platform === undefined ? {} : { platform: descriptor.platform }) });
}

/**
 * Ensures `descriptor` is in `store`, fetching the missing bytes with `fetcher`. Ingest refs are `fetch-<digest>`
 * and writers wait for each other, so concurrent pulls (in any process) download each blob once.
 * @throws ERR_DIGEST_MISMATCH / ERR_SIZE_MISMATCH after a second failed attempt; the parsers' codes for a bad
 *   manifest or config (never committed: ERR_INVALID_MANIFEST, ERR_MEDIA_TYPE_MISMATCH, ERR_DUPLICATE_JSON_KEY,
 *   ERR_PLATFORM_MISMATCH…); registry and store errors; `signal.reason` on abort.
 */
export async function fetchInto(
  store: FetchStore,
  fetcher: Fetcher,
  descriptor: Descriptor,
  options: FetchHandlerOptions & { signal?: AbortSignal } = {},
): Promise<void> {
  const { signal, onProgress, lease, onWritten, storeVerifiesDigest = false, labels } = options;
  const id = shortDigest(descriptor.digest);
  const emit = (status: PullStatus, complete: number): void => onProgress?.({ id, descriptor, status, complete, total: descriptor.size });
  // Leased before the existence check: a blob already present but referenced by nothing else could otherwise be
  // swept by a GC before this pull records its image.
  await lease?.add([descriptor.digest], { signal });
  const present = await store.info(descriptor.digest, { signal }).then(
    () => true,
    () => false,
  );
  if (present) return emit('exists', descriptor.size);
  const document = hasChildren(descriptor.mediaType) || isConfigMediaType(descriptor.mediaType);
  if (document && descriptor.size > MAX_IMAGE_CONFIG_SIZE) {
    throw newError('ERR_MANIFEST_TOO_LARGE', `${descriptor.mediaType} ${descriptor.digest} is ${descriptor.size} bytes`);
  }
  const fetchOptions = storeVerifiesDigest ? { verify: 'size' as const } : {};
  const commitOptions = { signal, ...(labels === undefined ? {} : { labels }) };
  // A second attempt, on a fresh writer (a failed commit may end the first one's stream), starts from byte 0.
  for (let attempt = 0; ; attempt++) {
    let writer;
    try {
      // The Fetcher (or, with storeVerifiesDigest, the store) verifies what it streams (its contract), so the writer
      // need not hash it a second time.
      writer = await store.writer({
        ref: `fetch-${descriptor.digest}`,
        expected: { digest: descriptor.digest, size: descriptor.size },
        lockTimeoutMs: Infinity,
        sourceVerified: true,
        signal,
      });
    } catch (err) {
      if (isExists(err)) return emit('exists', descriptor.size);
      throw err;
    }
    let diskFull = false;
    try {
      let offset = (await writer.status()).offset;
      // Manifests are fetched whole (no Range), and a prefix longer than the blob is garbage.
      if (attempt > 0 || (document && offset > 0) || offset > descriptor.size) {
        await writer.truncate(0);
        offset = 0;
      }
      const chunks: Buffer[] = [];
      const report = offset === 0 ? onWritten : undefined;
      report?.(descriptor, writer.ref, 0);
      if (offset < descriptor.size) {
        emit('downloading', offset);
        const stream = await fetcher.fetch(descriptor, { offset, signal, ...fetchOptions });
        let complete = offset;
        let last = 0;
        // A local file writer gains from the larger writes the stream's iterator makes of what queued up while it
        // waited; a store that gathers its own requests gets the chunks as they came (no joining copy).
        const source: AsyncIterable<Buffer> = storeVerifiesDigest ? chunksOf(stream) : (stream as AsyncIterable<Buffer>);
        for await (const chunk of source) {
          await writer.write(chunk, { signal });
          if (document) chunks.push(chunk);
          complete += chunk.length;
          report?.(descriptor, writer.ref, complete);
          const now = Date.now();
          if (now - last > 100) {
            last = now;
            emit('downloading', complete);
          }
        }
      }
      emit('verifying', descriptor.size);
      try {
        if (document) checkDocument(descriptor, Buffer.concat(chunks));
        await writer.commit(descriptor.size, descriptor.digest, commitOptions);
        return emit('done', descriptor.size);
      } catch (err) {
        if (isExists(err)) return emit('exists', descriptor.size);
        if (attempt > 0 || !RETRYABLE.has((err as { code?: string }).code ?? '')) throw err;
        // a bad resumed prefix: start over once
      }
    } catch (err) {
      // Out of space: give the partial bytes back rather than keep them for a resume.
      const errno = (err as { details?: { errno?: string } }).details?.errno;
      diskFull = errno === 'ENOSPC' || errno === 'EDQUOT';
      throw err;
    } finally {
      await writer.close();
      if (diskFull) await store.abort(writer.ref).catch(() => undefined);
    }
  }
}

/** A {@link Handler} that runs {@link fetchInto} on each descriptor (and returns no children). */
export function fetchHandler(store: FetchStore, fetcher: Fetcher, options: FetchHandlerOptions = {}): Handler {
  return async (descriptor, { signal }) => {
    await fetchInto(store, fetcher, descriptor, { ...options, signal });
  };
}
