/**
 * Garbage collection and fsck of a layout store. GC marks from the roots — every `index.json` entry, every
 * unexpired lease, every root a caller passes (snapshots, containers) — through manifests and indexes, then
 * sweeps unmarked blobs and stale ingests, all under the GC lock that lease updates also take.
 * @module
 */
import { createHash } from 'node:crypto';
import type { LocalContentStore, Provider } from '../content/index.js';
import { type Descriptor, MAX_MANIFEST_SIZE, parseManifestOrIndex } from '../oci/index.js';
// Single util files, not the barrel: `containerkit images` loads this module and nothing it does not need.
import { logger } from '../util/debug.js';
import { withLock } from '../util/lock.js';
import { childrenOf, hasChildren, readBlob } from './children.js';
import type { LayoutIndex } from './image-index.js';
import { activeLeases, gcLockPath, pruneLeases } from './leases.js';

const log = logger('images:gc');

/** Options of {@link collectGarbage}. */
export interface GcOptions {
  /** More roots to keep (with their subtrees when present): snapshots' layers, containers' images… */
  roots?: readonly Descriptor[] | readonly string[];
  /** Ingests not written to for this long (ms) and not held by a writer are removed. Default 24 h. */
  ingestMaxAgeMs?: number;
  /** Report what would go without removing anything. Default false. */
  dryRun?: boolean;
  signal?: AbortSignal;
}

/** What a GC run did. */
export interface GcResult {
  /** Digests of blobs removed (or that would be, with `dryRun`). */
  removed: string[];
  /** Bytes freed. */
  freedBytes: number;
  /** Refs of ingests removed. */
  ingests: string[];
  /** Blobs kept. */
  kept: number;
}

async function mark(store: LocalContentStore, roots: Array<{ digest: string; mediaType?: string }>, signal?: AbortSignal): Promise<Set<string>> {
  const marked = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    signal?.throwIfAborted();
    const { digest, mediaType } = queue.pop()!;
    if (marked.has(digest)) continue;
    marked.add(digest);
    if (mediaType !== undefined && !hasChildren(mediaType)) continue;
    // A root known only by digest (a lease entry) may be a manifest: try to read it as one.
    const info = await store.info(digest, { signal }).catch(() => undefined);
    if (info === undefined || info.size > MAX_MANIFEST_SIZE) continue;
    const bytes = await readBlob(store, info, { signal }).catch(() => undefined);
    if (bytes === undefined) continue;
    try {
      const parsed = parseManifestOrIndex(bytes, { strictMediaTypes: false });
      queue.push(...(parsed.kind === 'index' ? parsed.index.manifests : [parsed.manifest.config, ...parsed.manifest.layers]));
    } catch {
      // not a manifest: a leaf
    }
  }
  return marked;
}

/**
 * Marks and sweeps (see the module comment). Never removes what a live lease names, nor the subtree of any root.
 * @throws ERR_LOCK_TIMEOUT when the GC lock stays held; ERR_INVALID_LAYOUT; ERR_IO.
 */
export async function collectGarbage(store: LocalContentStore, index: LayoutIndex, options: GcOptions = {}): Promise<GcResult> {
  const { roots = [], ingestMaxAgeMs = 24 * 60 * 60 * 1000, dryRun = false, signal } = options;
  signal?.throwIfAborted();
  return withLock(
    gcLockPath(store.root),
    async () => {
      await pruneLeases(store.root);
      const leases = await activeLeases(store.root);
      const all = [
        ...(await index.read({ signal })).manifests,
        ...leases.flatMap((l) => l.digests.map((digest) => ({ digest }))),
        ...roots.map((r) => (typeof r === 'string' ? { digest: r } : r)),
      ];
      const marked = await mark(store, all, signal);
      const result: GcResult = { removed: [], freedBytes: 0, ingests: [], kept: 0 };
      const doomed: Array<{ digest: string; size: number }> = [];
      await store.walk(
        (info) => {
          if (marked.has(info.digest)) result.kept++;
          else doomed.push(info);
        },
        { signal },
      );
      for (const blob of doomed) {
        if (!dryRun) await store.delete(blob.digest).catch(() => undefined);
        result.removed.push(blob.digest);
        result.freedBytes += blob.size;
      }
      if (!dryRun) result.ingests = await store.pruneIngests(ingestMaxAgeMs, { signal });
      return result;
    },
    { signal, timeoutMs: 120_000 },
  );
}

/** Options of {@link verifyStore}. */
export interface VerifyOptions {
  /** Delete blobs whose bytes do not match their digest. Default false. */
  removeCorrupt?: boolean;
  signal?: AbortSignal;
}

/** What {@link verifyStore} found. */
export interface VerifyResult {
  /** Blobs re-hashed. */
  checked: number;
  /** Blobs whose bytes do not hash to their name. */
  corrupt: string[];
  /** Digests referenced from named images (through manifests and indexes) but absent. */
  missing: string[];
  /** Corrupt blobs removed (with `removeCorrupt`). */
  removed: string[];
}

/** The digest of a stored blob's bytes, read through the store (a Provider), never by the blob's path. */
async function hashBlob(store: Provider, digest: string, algorithm: 'sha256' | 'sha512', signal?: AbortSignal): Promise<string> {
  const reader = await store.readerAt(digest, { signal });
  try {
    const hash = createHash(algorithm);
    for await (const chunk of reader.stream(0, signal ? { signal } : {})) hash.update(chunk as Buffer);
    return `${algorithm}:${hash.digest('hex')}`;
  } finally {
    await reader.close();
  }
}

/**
 * Re-hashes every blob, and walks every named image for missing content (like `fsck`).
 * @throws ERR_INVALID_LAYOUT; ERR_IO.
 */
export async function verifyStore(store: LocalContentStore, index: LayoutIndex, options: VerifyOptions = {}): Promise<VerifyResult> {
  const { removeCorrupt = false, signal } = options;
  const result: VerifyResult = { checked: 0, corrupt: [], missing: [], removed: [] };
  const blobs: string[] = [];
  await store.walk((info) => void blobs.push(info.digest), { signal });
  for (const digest of blobs) {
    signal?.throwIfAborted();
    const algorithm = digest.slice(0, digest.indexOf(':')) as 'sha256' | 'sha512';
    const computed = await hashBlob(store, digest, algorithm, signal).catch((err: unknown) => {
      if (signal?.aborted) throw signal.reason;
      log('cannot read %s: %s', digest, (err as Error).message);
      return undefined;
    });
    result.checked++;
    if (computed !== digest) {
      result.corrupt.push(digest);
      if (removeCorrupt) {
        await store.delete(digest).catch(() => undefined);
        result.removed.push(digest);
      }
    }
  }
  const corrupt = new Set(result.corrupt);
  const seen = new Set<string>();
  const queue: Descriptor[] = [...(await index.read({ signal })).manifests];
  while (queue.length > 0) {
    const d = queue.pop()!;
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    if (!blobs.includes(d.digest)) {
      result.missing.push(d.digest);
      continue;
    }
    if (corrupt.has(d.digest)) continue;
    queue.push(...(await childrenOf(store, d, { signal }).catch(() => [] as Descriptor[])));
  }
  return result;
}
