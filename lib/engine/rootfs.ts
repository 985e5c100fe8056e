import { join } from 'node:path';
import { ContainerkitError, hasCode, newError } from '../errors/index.js';
import type { Mount } from '../oci/index.js';
import { NativeSnapshotter, OverlaySnapshotter, type SnapshotInfo, type Snapshotter } from '../unpack/index.js';
import { logger } from '../util/index.js';

// Containers' root filesystems as snapshots: the snapshotter an engine root uses, and one active snapshot per
// container, keyed by the container id, on the chain ID of its image.

const log = logger('engine:rootfs');

/** The label that names the container an active snapshot belongs to. */
export const CONTAINER_LABEL = 'containerkit.container';

/** Which snapshotter: overlayfs, the copying fallback, or the best that works here. */
export type SnapshotterChoice = 'overlay' | 'native' | 'auto';

/** Options of {@link openSnapshotter}. */
export interface OpenSnapshotterOptions {
  /** Default `'auto'`: overlay, or native where overlayfs does not mount under the root. */
  snapshotter?: SnapshotterChoice;
  signal?: AbortSignal;
}

/**
 * The snapshotter of the engine root `root`: `overlay` under `<root>/snapshots`, or `native` under
 * `<root>/snapshots-native` (apart, so the two never read each other's metadata). With `'auto'`, overlay when the
 * kernel mounts it there (probed once per boot), else native.
 * @throws ERR_UNSUPPORTED_PLATFORM for `'overlay'` where overlayfs does not mount; ERR_INVALID_ARGUMENT; ERR_IO.
 */
export async function openSnapshotter(root: string, options: OpenSnapshotterOptions = {}): Promise<Snapshotter> {
  const { snapshotter = 'auto', signal } = options;
  if (!['overlay', 'native', 'auto'].includes(snapshotter)) throw newError('ERR_INVALID_ARGUMENT', "options.snapshotter must be 'overlay', 'native' or 'auto'");
  if (snapshotter === 'native') return new NativeSnapshotter(join(root, 'snapshots-native'));
  try {
    return await OverlaySnapshotter.open(join(root, 'snapshots'), { signal });
  } catch (err) {
    if (snapshotter === 'auto' && hasCode(err, 'ERR_UNSUPPORTED_PLATFORM')) {
      log('overlay does not mount under %s (%s); using native', root, (err as Error).message);
      return new NativeSnapshotter(join(root, 'snapshots-native'));
    }
    throw err;
  }
}

/** Options of the rootfs calls. */
export interface RootfsCallOptions {
  signal?: AbortSignal;
}

/**
 * The mounts of container `containerId`'s root filesystem: a writable snapshot keyed by the id on `chainId` (the
 * image's unpacked stack). A container that has one already (it is started again) gets its existing snapshot, so
 * its changes survive a restart as in docker.
 * @throws ERR_NOT_FOUND when `chainId` is not unpacked; ERR_ALREADY_EXISTS when the key is taken by a snapshot on
 *   another parent or of another kind; the snapshotter's errors.
 */
export async function prepareRootfs(snapshotter: Snapshotter, containerId: string, chainId: string, options: RootfsCallOptions = {}): Promise<Mount[]> {
  const { signal } = options;
  const existing = await snapshotter.stat(containerId, { signal }).catch((err: unknown) => {
    if (hasCode(err, 'ERR_NOT_FOUND')) return undefined;
    throw err;
  });
  if (existing !== undefined) {
    if (existing.kind !== 'active' || existing.parent !== chainId) {
      throw newError('ERR_ALREADY_EXISTS', `snapshot ${containerId} exists on ${existing.parent ?? 'no parent'} (${existing.kind})`, {
        details: { key: containerId },
      });
    }
    return snapshotter.mounts(containerId, { signal });
  }
  return snapshotter.prepare(containerId, chainId, { labels: { [CONTAINER_LABEL]: containerId }, signal });
}

/**
 * Removes container `containerId`'s snapshot and its changes. Nothing to do when it has none.
 * @throws ERR_SNAPSHOT_MOUNTED while it is mounted (its task still exists: remove the task first).
 */
export async function releaseRootfs(snapshotter: Snapshotter, containerId: string, options: RootfsCallOptions = {}): Promise<void> {
  try {
    await snapshotter.remove(containerId, { signal: options.signal });
  } catch (err) {
    if (err instanceof ContainerkitError && err.code === 'ERR_NOT_FOUND') return;
    throw err;
  }
}

/** The containers' snapshots (active ones labelled with their container), by container id. */
export async function containerSnapshots(snapshotter: Snapshotter, options: RootfsCallOptions = {}): Promise<Map<string, SnapshotInfo>> {
  const out = new Map<string, SnapshotInfo>();
  for (const info of await snapshotter.walk({ signal: options.signal })) {
    const id = info.labels[CONTAINER_LABEL];
    if (info.kind !== 'committed' && id !== undefined) out.set(id, info);
  }
  return out;
}
