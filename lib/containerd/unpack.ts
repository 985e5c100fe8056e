import { randomBytes } from 'node:crypto';
import { newError } from '../errors/index.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import type { Platform } from '../oci/platform.js';
import type { ResolvedImageTarget } from '../oci/resolve-image.js';
import type { ContainerdClient } from './containerd-client.js';
import { isAlreadyExists, isNotFound } from './errors.js';
import { gcSnapshotLabel } from './gc-labels.js';
import { resolveImage } from './image-rootfs.js';

/** Options of {@link containerdUnpack}. */
export interface ContainerdUnpackOptions {
  /** Which platform of an index. Default: this host's. */
  platform?: Platform | string;
  /** Default: the client's (`overlayfs`). */
  snapshotter?: string;
  signal?: AbortSignal;
}

/**
 * Applies one layer blob (already in containerd's content store) with Diff.Apply onto the snapshot `parent` and
 * commits it as `chain`; a layer already committed is skipped, one committed concurrently by someone else counts
 * as done. Labels the blob `containerd.io/uncompressed`. Call it inside a lease.
 * @throws ERR_DIGEST_MISMATCH when the applied tar's digest is not `diffId` (the half-made snapshot is removed).
 */
async function unpackLayer(
  c: ContainerdClient,
  layer: Descriptor,
  diffId: Digest,
  chain: string,
  parent: string,
  snapshotter: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  try {
    await c.snapshots.stat(chain, { snapshotter, signal });
    return; // already unpacked
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const key = `extract-${randomBytes(6).toString('hex')} ${chain}`;
  const mounts = await c.snapshots.prepare(key, parent, { snapshotter, labels: { 'containerd.io/snapshot.ref': chain }, signal });
  try {
    const applied = await c.diff.apply(layer, mounts, { signal });
    if (applied.digest !== diffId) {
      throw newError('ERR_DIGEST_MISMATCH', `layer ${layer.digest} unpacked to ${applied.digest}, the config says ${diffId}`, {
        details: { layer: layer.digest, expected: diffId, actual: applied.digest },
      });
    }
    await c.snapshots.commit(chain, key, { snapshotter, signal });
  } catch (err) {
    await c.snapshots.remove(key, { snapshotter }).catch(() => undefined);
    if (isAlreadyExists(err)) return; // unpacked concurrently
    throw err;
  }
  await c.content.setLabels(layer.digest, { 'containerd.io/uncompressed': diffId }, { signal });
}

/** Options of {@link containerdUnpackLayers}. */
export interface ContainerdUnpackLayersOptions {
  /** Default: the client's (`overlayfs`). */
  snapshotter?: string;
  /** Waits until a layer blob is in containerd's content store (a pull in progress). Default: it is there. */
  whenStored?: (layer: Descriptor, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
}

/**
 * Unpacks a resolved image's layers (`resolveImageTarget`'s result) into committed snapshots named by chain ID,
 * bottom first, each once it is stored and the layer below it is committed, then labels the config
 * `containerd.io/gc.ref.snapshot.<snapshotter>`. Call it inside a lease. Returns the top chain ID (undefined for an
 * image without layers: nothing to unpack, no label).
 * @throws ERR_DIGEST_MISMATCH when an applied layer's diff_id is not the config's; ERR_CONTAINERD_* from containerd;
 *   `signal.reason` on abort.
 */
export async function containerdUnpackLayers(
  client: ContainerdClient,
  image: Pick<ResolvedImageTarget, 'manifest' | 'config' | 'chainIds' | 'chainId'>,
  options: ContainerdUnpackLayersOptions = {},
): Promise<Digest | undefined> {
  const { snapshotter = client.snapshots.defaultSnapshotter, whenStored, signal } = options;
  const { manifest, config, chainIds } = image;
  for (let i = 0; i < chainIds.length; i++) {
    const layer = manifest.layers[i]!;
    await whenStored?.(layer, signal);
    await unpackLayer(client, layer, config.rootfs.diff_ids[i]!, chainIds[i]!, i === 0 ? '' : chainIds[i - 1]!, snapshotter, signal);
  }
  if (image.chainId !== undefined) await client.content.setLabels(manifest.config.digest, gcSnapshotLabel(snapshotter, image.chainId), { signal });
  return image.chainId;
}

/**
 * Unpacks image `name` (its content already in containerd) into committed snapshots named by chain ID, inside a
 * lease, and labels its config `containerd.io/gc.ref.snapshot.<snapshotter>` so GC keeps the snapshots while the
 * image lives; layers already unpacked are skipped. Returns the top chain ID (a container rootfs's parent), or
 * undefined for an image without layers (nothing to unpack).
 * @throws ERR_CONTAINERD_NOT_FOUND for an unknown image or missing content; ERR_DIGEST_MISMATCH;
 *   ERR_INVALID_MANIFEST; ERR_NO_MATCHING_PLATFORM; ERR_PLATFORM_MISMATCH.
 */
export async function containerdUnpack(client: ContainerdClient, name: string, options: ContainerdUnpackOptions = {}): Promise<Digest | undefined> {
  const { platform, snapshotter = client.snapshots.defaultSnapshotter, signal } = options;
  return client.inLease(async (c) => {
    const image = await resolveImage(c, name, { signal, ...(platform === undefined ? {} : { platform }) });
    return containerdUnpackLayers(c, image, { snapshotter, ...(signal ? { signal } : {}) });
  });
}
