import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AlreadyExistsError, NotFoundError, newError } from '../errors/index.js';
import { chainIds } from '../oci/chain-id.js';
import type { Digest } from '../oci/digest.js';
import type { Mount } from '../oci/mount.js';
import { logger, shortId } from '../util/debug.js';
import { type ApplyLayerOptions, applyLayer } from './apply-layer.js';
import type { CompressionOption } from './decompress.js';
import { withWritableTree } from './snapshot-mounts.js';
import type { SnapshotCallOptions, Snapshotter } from './snapshotter.js';

const log = logger('unpack:layers');

/** One layer to unpack: its diff_id and a way to read its blob (opened only when the layer must be applied). */
export interface LayerSource {
  /** The config's `rootfs.diff_ids` entry; verified over the uncompressed tar. */
  diffId: string;
  /** Opens the blob (compressed or not). Called at most once, only when the layer is not committed yet. */
  open(): Readable | AsyncIterable<Buffer> | Promise<Readable | AsyncIterable<Buffer>>;
  /** The blob's digest, verified when given. */
  digest?: string;
  /** The blob's size, verified with `digest`. */
  size?: number;
  /** Compression of the blob. Default `'auto'`. */
  compression?: CompressionOption;
}

/** The part of a {@link Snapshotter} the unpack loop uses; containerd's snapshots service fits through an adaptor. */
export interface LayerSnapshotter extends Pick<Snapshotter, 'prepare' | 'commit' | 'remove'> {
  /** What is known about `key`: only whether it is `committed` matters here. @throws a NotFound-category error when absent. */
  stat(key: string, options?: SnapshotCallOptions): Promise<{ kind: string }>;
}

/**
 * Applies `layer` into the active snapshot `key` (mounted by `mounts`), and fails, before the commit, unless the
 * applied tar's digest is `layer.diffId`.
 */
export type ApplyIntoSnapshot<L> = (key: string, mounts: Mount[], layer: L, options: { signal?: AbortSignal }) => Promise<void>;

/** Options of {@link unpackLayers}. */
export interface UnpackLayersOptions {
  /** Per-layer uncompressed size limit (ERR_LAYER_TOO_LARGE). Default none. */
  maxUncompressedSize?: number;
  /** Labels put on every committed layer snapshot. Default none. */
  labels?: Record<string, string>;
  /** Labels of the active snapshot a layer is applied into, besides `labels`, by the chain ID it will be. Default none. */
  activeLabels?: (chainId: string) => Record<string, string>;
  /** Cancels the unpack; the snapshot being filled is removed. Rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** What {@link unpackLayers} did. */
export interface UnpackLayersResult {
  /** The chain ID of the whole stack: the parent to `prepare` a container's snapshot on. */
  chainId: Digest;
  /** Per layer, bottom first: its chain ID and whether it was applied now (false: it was committed already). */
  layers: Array<{ chainId: Digest; applied: boolean }>;
}

/**
 * Unpacks an image's layers into `snapshotter`, each as the committed snapshot named by its chain ID: for each
 * layer not committed yet, `prepare` on the previous chain ID, apply the blob into the tree its mounts describe
 * (an overlay's upper dir with `whiteoutFormat: 'overlay'`, a bind's source, else a temporary mount of them, as
 * containerd's applier does), `commit` under the chain ID. Layers already committed are reused without opening
 * their blobs, so unpacking an image twice applies nothing.
 * With `apply`, the same loop runs over any {@link LayerSnapshotter} and layer type (containerd: Diff.Apply of the
 * layer's descriptor).
 *
 * @throws ERR_INVALID_ARGUMENT for bad arguments; the errors of {@link applyLayer} (digest and diff_id mismatches,
 *   hostile layers) and of the snapshotter. A failed layer's snapshot is removed; layers committed before it stay.
 *   Rejects with `signal.reason` on abort.
 */
export function unpackLayers(snapshotter: Snapshotter, layers: readonly LayerSource[], options?: UnpackLayersOptions): Promise<UnpackLayersResult>;
export function unpackLayers<L extends { diffId: string }>(
  snapshotter: LayerSnapshotter,
  layers: readonly L[],
  options: UnpackLayersOptions & { apply: ApplyIntoSnapshot<L> },
): Promise<UnpackLayersResult>;
export async function unpackLayers(
  snapshotter: LayerSnapshotter,
  layers: ReadonlyArray<{ diffId: string }>,
  options: UnpackLayersOptions & { apply?: ApplyIntoSnapshot<never> } = {},
): Promise<UnpackLayersResult> {
  if (typeof snapshotter !== 'object' || snapshotter === null || typeof snapshotter.prepare !== 'function') {
    throw newError('ERR_INVALID_ARGUMENT', 'snapshotter must be a Snapshotter');
  }
  if (!Array.isArray(layers) || layers.length === 0) throw newError('ERR_INVALID_ARGUMENT', 'layers must be a non-empty array');
  const { signal, maxUncompressedSize, labels, activeLabels } = options;
  const apply = (options.apply as ApplyIntoSnapshot<unknown> | undefined) ?? applyIntoMounts(maxUncompressedSize);
  if (options.apply === undefined) {
    layers.forEach((l, i) => {
      if (typeof l !== 'object' || l === null || typeof (l as LayerSource).open !== 'function')
        throw newError('ERR_INVALID_ARGUMENT', `layers[${i}].open must be a function`);
    });
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw newError('ERR_INVALID_ARGUMENT', 'options.signal must be an AbortSignal');
  const chains = chainIds(layers.map((l) => l.diffId));
  signal?.throwIfAborted();
  const out: UnpackLayersResult['layers'] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const chain = chains[i]!;
    const parent = i === 0 ? undefined : chains[i - 1];
    if (await exists(snapshotter, chain, signal)) {
      out.push({ chainId: chain, applied: false });
      continue;
    }
    const key = `extract-${randomBytes(6).toString('hex')}-${chain}`;
    const prepareLabels = { ...labels, ...activeLabels?.(chain) };
    const mounts = await snapshotter.prepare(key, parent, {
      ...(Object.keys(prepareLabels).length > 0 ? { labels: prepareLabels } : {}),
      ...(signal ? { signal } : {}),
    });
    try {
      await apply(key, mounts, layer, signal ? { signal } : {});
      try {
        await snapshotter.commit(chain, key, { ...(labels ? { labels } : {}), ...(signal ? { signal } : {}) });
      } catch (err) {
        // Another unpack committed the same layer first: theirs is as good as ours.
        if (!(err instanceof AlreadyExistsError)) throw err;
        await snapshotter.remove(key);
      }
    } catch (err) {
      await snapshotter.remove(key).catch((e: unknown) => log('cannot remove %s: %s', key, (e as Error).message));
      throw err;
    }
    log('layer %d committed as %s', i, shortId(chain));
    out.push({ chainId: chain, applied: true });
  }
  return { chainId: chains[chains.length - 1]!, layers: out };
}

/**
 * The default {@link ApplyIntoSnapshot}: the blob applied as a tar into the tree the snapshot's mounts describe
 * (an overlay's upper dir or a bind's source directly, else a temporary mount of them).
 */
function applyIntoMounts(maxUncompressedSize: number | undefined): ApplyIntoSnapshot<LayerSource> {
  return async (_key, mounts, layer, { signal }) => {
    await withWritableTree(
      mounts,
      async (dir, whiteoutFormat) => {
        const applyOptions: ApplyLayerOptions = {
          whiteoutFormat,
          expectedDiffId: layer.diffId,
          compression: layer.compression ?? 'auto',
          ...(layer.digest === undefined ? {} : { expectedDigest: layer.digest }),
          ...(layer.digest !== undefined && layer.size !== undefined ? { expectedSize: layer.size } : {}),
          ...(maxUncompressedSize === undefined ? {} : { maxUncompressedSize }),
          ...(signal === undefined ? {} : { signal }),
        };
        await applyLayer(dir, await layer.open(), applyOptions);
      },
      signal === undefined ? {} : { signal },
    );
  };
}

async function exists(snapshotter: LayerSnapshotter, name: string, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    const info = await snapshotter.stat(name, { signal });
    return info.kind === 'committed';
  } catch (err) {
    if (err instanceof NotFoundError) return false; // whatever the snapshotter's own code
    throw err;
  }
}
