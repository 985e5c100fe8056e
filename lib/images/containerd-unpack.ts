/**
 * Unpacking into a running containerd, as ctr's unpacker: the same layer loop as `ImageStore.unpack`
 * (`unpackLayers`), over containerd's snapshots service, with Diff.Apply as the way a layer goes in.
 * @module
 */

// Both pure (no gRPC): importing them does not load the containerd client.
import { gcSnapshotLabel } from '../containerd/gc-labels.js';
import { resolveImage } from '../containerd/image-rootfs.js';
import type { ContainerdClient } from '../containerd/index.js';
import { newError } from '../errors/index.js';
import type { Descriptor, Digest, Platform, ResolvedImageTarget } from '../oci/index.js';
import type { ApplyIntoSnapshot, LayerSnapshotter } from '../unpack/index.js';

/** Options of {@link containerdUnpackLayers}. */
export interface ContainerdUnpackLayersOptions {
  /** Default: the client's (`overlayfs`). */
  snapshotter?: string;
  /** Waits until a layer blob is in containerd's content store (a pull in progress). Default: it is there. */
  whenStored?: (layer: Descriptor, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
}

/** Options of {@link containerdUnpack}. */
export interface ContainerdUnpackOptions {
  /** Which platform of an index. Default: this host's. */
  platform?: Platform | string;
  /** Default: the client's (`overlayfs`). */
  snapshotter?: string;
  signal?: AbortSignal;
}

/** A layer as containerd applies it: its descriptor, with the config's diff_id. */
type ContainerdLayer = Descriptor & { diffId: string };

/** containerd's snapshots service, in one snapshotter, as the unpack loop's {@link LayerSnapshotter}. */
function snapshotsOf(c: ContainerdClient, snapshotter: string): LayerSnapshotter {
  return {
    prepare: (key, parent, o = {}) => c.snapshots.prepare(key, parent ?? '', { ...o, snapshotter }),
    commit: (name, key, o = {}) => c.snapshots.commit(name, key, { ...o, snapshotter }),
    remove: (key, o = {}) => c.snapshots.remove(key, { ...o, snapshotter }),
    stat: (key, o = {}) => c.snapshots.stat(key, { ...o, snapshotter }),
  };
}

/**
 * Diff.Apply of the layer blob (in containerd's content store, once `whenStored` says so) onto the prepared snapshot;
 * the applied tar's digest must be the diff_id. Labels the blob `containerd.io/uncompressed`, as ctr does.
 */
function diffApply(c: ContainerdClient, whenStored: ContainerdUnpackLayersOptions['whenStored']): ApplyIntoSnapshot<ContainerdLayer> {
  return async (_key, mounts, layer, { signal }) => {
    const { diffId, ...descriptor } = layer;
    await whenStored?.(descriptor, signal);
    const applied = await c.diff.apply(descriptor, mounts, { signal });
    if (applied.digest !== diffId) {
      throw newError('ERR_DIGEST_MISMATCH', `layer ${layer.digest} unpacked to ${applied.digest}, the config says ${diffId}`, {
        details: { layer: layer.digest, expected: diffId, actual: applied.digest },
      });
    }
    await c.content.setLabels(layer.digest, { 'containerd.io/uncompressed': diffId }, { signal });
  };
}

/**
 * Unpacks a resolved image's layers (`resolveImageTarget`'s result) into committed containerd snapshots named by
 * chain ID with `unpackLayers` (layers already committed are skipped; a failed layer's snapshot is removed), then
 * labels the config `containerd.io/gc.ref.snapshot.<snapshotter>` so GC keeps the snapshots while the image lives.
 * Call it inside a lease. Returns the top chain ID (undefined for an image without layers: nothing to unpack).
 * @throws ERR_DIGEST_MISMATCH when an applied layer's diff_id is not the config's; ERR_CONTAINERD_* from containerd;
 *   `signal.reason` on abort.
 */
export async function containerdUnpackLayers(
  client: ContainerdClient,
  image: Pick<ResolvedImageTarget, 'manifest' | 'config' | 'chainId'>,
  options: ContainerdUnpackLayersOptions = {},
): Promise<Digest | undefined> {
  const { snapshotter = client.snapshots.defaultSnapshotter, whenStored, signal } = options;
  const { manifest, config } = image;
  if (image.chainId === undefined) return undefined;
  const layers = manifest.layers.map((l, i): ContainerdLayer => ({ ...l, diffId: config.rootfs.diff_ids[i]! }));
  const { unpackLayers } = await import('../unpack/unpack-layers.js'); // loaded on first use, as ImageStore does
  await unpackLayers(snapshotsOf(client, snapshotter), layers, {
    apply: diffApply(client, whenStored),
    // Tells remote snapshotters which layer a prepare is for (ctr sets it too).
    activeLabels: (chainId) => ({ 'containerd.io/snapshot.ref': chainId }),
    ...(signal === undefined ? {} : { signal }),
  });
  await client.content.setLabels(manifest.config.digest, gcSnapshotLabel(snapshotter, image.chainId), { signal });
  return image.chainId;
}

/**
 * Unpacks image `name` (its content already in containerd) as {@link containerdUnpackLayers}, inside a lease, after
 * `resolveImage` read it. Returns the top chain ID (a container rootfs's parent), or undefined for an image without
 * layers.
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
