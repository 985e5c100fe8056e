import { randomBytes } from 'node:crypto';
import { newError } from '../errors/index.js';
import { chainIds } from '../oci/chain-id.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import type { Platform } from '../oci/platform.js';
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
 * @internal Shared by {@link containerdUnpack} and `containerdPull`.
 * @throws ERR_DIGEST_MISMATCH when the applied tar's digest is not `diffId` (the half-made snapshot is removed).
 */
export async function unpackLayer(
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

/**
 * Unpacks image `name` (its content already in containerd) into committed snapshots named by chain ID, inside a
 * lease, and labels its config `containerd.io/gc.ref.snapshot.<snapshotter>` so GC keeps the snapshots while the
 * image lives; layers already unpacked are skipped. Returns the top chain ID (a container rootfs's parent).
 * @throws ERR_CONTAINERD_NOT_FOUND for an unknown image or missing content; ERR_DIGEST_MISMATCH;
 *   ERR_INVALID_MANIFEST; ERR_NO_MATCHING_PLATFORM.
 */
export async function containerdUnpack(client: ContainerdClient, name: string, options: ContainerdUnpackOptions = {}): Promise<string> {
  const { platform, snapshotter = client.snapshots.defaultSnapshotter, signal } = options;
  return client.inLease(async (c) => {
    const image = await resolveImage(c, name, { signal, ...(platform === undefined ? {} : { platform }) });
    const diffIds = image.config.rootfs.diff_ids;
    const chain = chainIds(diffIds);
    for (let i = 0; i < chain.length; i++) {
      await unpackLayer(c, image.manifest.layers[i]!, diffIds[i]!, chain[i]!, i === 0 ? '' : chain[i - 1]!, snapshotter, signal);
    }
    await c.content.setLabels(image.manifest.config.digest, gcSnapshotLabel(snapshotter, image.chainId), { signal });
    return image.chainId;
  });
}
