import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { hasCode, newError } from '../errors/index.js';
import {
  type ExportArchiveOptions,
  exportArchive,
  type GcResult,
  type ImageDetails,
  ImageStore,
  type ImportArchiveOptions,
  type ImportArchiveResult,
  importArchive,
  type NamedImage,
  type PullProgress,
} from '../images/index.js';
import { chainIds, type Descriptor, hostPlatform, type Mount, normalizeReference, type Platform } from '../oci/index.js';
import type { RegistryClient } from '../registry/index.js';
import type { SnapshotInfo, Snapshotter } from '../unpack/index.js';
import { logger } from '../util/index.js';
import type { PullPolicy } from './create-options.js';
import { containerSnapshots, openSnapshotter, prepareRootfs, type RootfsCallOptions, releaseRootfs, type SnapshotterChoice } from './rootfs.js';

const log = logger('engine:images');

const POLICIES: readonly PullPolicy[] = ['missing', 'always', 'never'];

/** Options of {@link ImageService.ensureImage}. */
export interface EnsureImageOptions {
  /** Default `'missing'`. */
  pull?: PullPolicy;
  /** Which platform of a multi-platform image. Default: the host's. */
  platform?: Platform | string;
  /** How many blobs a pull fetches at once. Default: ImageStore's (4). */
  concurrency?: number;
  /** Progress of a pull, per descriptor. */
  onProgress?: (event: PullProgress) => void;
  signal?: AbortSignal;
}

/** An image with its manifest and config, and the chain ID of its layers (a container rootfs's parent once unpacked). */
export interface InspectedImage extends ImageDetails {
  /** The chain ID of the whole layer stack. */
  chainId: string;
}

/** An image ready to run: its layers are committed in the snapshotter under `chainId`. */
export interface RunnableImage extends InspectedImage {
  /** Whether this call pulled it. */
  pulled: boolean;
}

/** Options of {@link ImageService.removeImage}. */
export interface RemoveImageOptions {
  /** Remove the name even though containers use the image; their snapshots (and the layers below) stay. Default false. */
  force?: boolean;
  signal?: AbortSignal;
}

/** What {@link ImageService.removeImage} and {@link ImageService.prune} did. */
export interface ImageRemoval {
  /** Names removed. */
  untagged: string[];
  /** Committed layer snapshots removed (chain IDs). */
  snapshots: string[];
  /** The content GC's result; undefined when the image kept another name (nothing to collect). */
  gc: GcResult | undefined;
}

/** Options of {@link ImageService.open}. */
export interface OpenImageServiceOptions {
  /** The registry client pulls and pushes use. Without one, they throw ERR_FAILED_PRECONDITION. */
  registry?: RegistryClient;
  /** A snapshotter, or which one to open under the root (see `openSnapshotter`). Default `'auto'`. */
  snapshotter?: Snapshotter | SnapshotterChoice;
  signal?: AbortSignal;
}

/**
 * The Engine's image side: named images in an {@link ImageStore}, unpacked into a {@link Snapshotter} as
 * containers need them, and the containers' root filesystems as snapshots on them. Names are normalised as docker
 * does (`busybox` → `docker.io/library/busybox:latest`). An image is not removed from under a container: its
 * removal is refused (ERR_IMAGE_IN_USE) while a container's snapshot is built on it, and a snapshot in use is never
 * deleted, even with `force`.
 */
export class ImageService {
  readonly store: ImageStore;
  readonly snapshotter: Snapshotter;

  constructor(parts: { store: ImageStore; snapshotter: Snapshotter }) {
    this.store = parts.store;
    this.snapshotter = parts.snapshotter;
  }

  /**
   * Opens the image side of the engine root `root`: the store at `<root>/content`, the snapshotter under
   * `<root>/snapshots` (see `openSnapshotter`).
   * @throws ERR_INVALID_LAYOUT; ERR_UNSUPPORTED_PLATFORM for an overlay snapshotter that does not mount; ERR_IO.
   */
  static async open(root: string, options: OpenImageServiceOptions = {}): Promise<ImageService> {
    const { registry, signal, snapshotter = 'auto' } = options;
    const store = await ImageStore.open(join(root, 'content'), { registry, signal });
    const snaps = typeof snapshotter === 'string' ? await openSnapshotter(root, { snapshotter, signal }) : snapshotter;
    return new ImageService({ store, snapshotter: snaps });
  }

  /**
   * Makes `ref` ready to run, by `pull`'s policy: `'missing'` pulls it unless the store has it, `'always'` pulls
   * (fetching only what changed), `'never'` uses what the store has. Then it is unpacked (layers already committed
   * are reused, so this is cheap the second time).
   * @throws ERR_IMAGE_NOT_FOUND with `'never'` and no such image (`details.name`); ERR_INVALID_REFERENCE;
   *   ERR_INVALID_ARGUMENT; the pull's and the unpack's errors (registry, ERR_NO_MATCHING_PLATFORM…); `signal.reason`.
   */
  async ensureImage(ref: string, options: EnsureImageOptions = {}): Promise<RunnableImage> {
    const { pull = 'missing', platform = hostPlatform(), concurrency, onProgress, signal } = options;
    if (!POLICIES.includes(pull)) throw newError('ERR_INVALID_ARGUMENT', `options.pull must be one of ${POLICIES.join(', ')}`);
    const name = normalizeReference(ref).toString();
    signal?.throwIfAborted();
    const present = (await this.store.index.get(name, { signal })) !== undefined;
    if (pull === 'never' && !present) throw newError('ERR_IMAGE_NOT_FOUND', `No such image: ${name}`, { details: { name } });
    const pulled = pull === 'always' || !present;
    if (pulled) {
      await this.store.pull(name, {
        platform,
        signal,
        unpack: { snapshotter: this.snapshotter },
        ...(concurrency === undefined ? {} : { concurrency }),
        ...(onProgress === undefined ? {} : { onProgress }),
      });
    } else {
      await this.store.unpack(name, this.snapshotter, { platform, signal });
    }
    return { ...(await this.inspect(name, { platform, signal })), pulled };
  }

  /**
   * The image `ref` with its manifest, config and chain ID (not unpacked by this call).
   * @throws ERR_IMAGE_NOT_FOUND; ERR_NOT_FOUND for missing content; ERR_NO_MATCHING_PLATFORM.
   */
  async inspect(ref: string, options: { platform?: Platform | string; signal?: AbortSignal } = {}): Promise<InspectedImage> {
    const details = await this.store.get(ref, options);
    const chain = chainIds(details.config.rootfs.diff_ids);
    const top = chain.at(-1);
    if (top === undefined) throw newError('ERR_INVALID_MANIFEST', `image ${details.name} has no layers`, { details: { name: details.name } });
    return { ...details, chainId: top };
  }

  /** Every named image. */
  list(options: { signal?: AbortSignal } = {}): Promise<NamedImage[]> {
    return this.store.list(options);
  }

  /** Names image `source` also `target`. @throws ERR_IMAGE_NOT_FOUND; ERR_INVALID_REFERENCE. */
  tag(source: string, target: string, options: { signal?: AbortSignal } = {}): Promise<NamedImage> {
    return this.store.tag(source, target, options);
  }

  /** Pushes image `ref` to its registry. @throws ERR_IMAGE_NOT_FOUND; registry errors. */
  push(ref: string, options: { signal?: AbortSignal } = {}): Promise<Descriptor> {
    return this.store.push(ref, undefined, options);
  }

  /** Reads an image archive (`docker save` or OCI) into the store (`docker load`). */
  load(input: Readable, options: ImportArchiveOptions = {}): Promise<ImportArchiveResult> {
    return importArchive(this.store.content, input, options);
  }

  /** Writes images `refs` as an archive to `out` (`docker save`; `format: 'docker'` for docker's layout). */
  save(refs: readonly string[], out: Writable, options: ExportArchiveOptions = {}): Promise<void> {
    return exportArchive(this.store, refs, out, options);
  }

  /**
   * Removes the name `ref` (docker `rmi`). When it was the image's last name, its layer snapshots that no other
   * image and no container uses are removed and the store's garbage collected.
   * @throws ERR_IMAGE_NOT_FOUND; ERR_IMAGE_IN_USE (a Conflict; `details.containers`) when it was the last name and a
   *   container's snapshot is built on it, unless `force` (which removes the name and keeps every snapshot in use).
   */
  async removeImage(ref: string, options: RemoveImageOptions = {}): Promise<ImageRemoval> {
    const { force = false, signal } = options;
    const name = normalizeReference(ref).toString();
    const record = await this.store.index.get(name, { signal });
    if (record === undefined) throw newError('ERR_IMAGE_NOT_FOUND', `No such image: ${name}`, { details: { name } });
    const others = (await this.store.list({ signal })).filter((i) => i.name !== name);
    if (others.some((i) => i.target.digest === record.target.digest)) {
      await this.store.untag(name, { signal });
      return { untagged: [name], snapshots: [], gc: undefined };
    }
    const chain = await this.#chainOf(name, signal);
    const top = chain.at(-1);
    const users = [...(await containerSnapshots(this.snapshotter, { signal }))]
      .filter(([, info]) => top !== undefined && info.parent === top)
      .map(([id]) => id);
    if (users.length > 0 && !force) {
      throw newError('ERR_IMAGE_IN_USE', `conflict: unable to remove ${name}: container ${users.join(', ')} is using it`, {
        details: { name, containers: users },
      });
    }
    const gc = await this.store.delete(name, { signal });
    const snapshots = await this.#removeUnused([...chain].reverse(), others, signal);
    return { untagged: [name], snapshots, gc };
  }

  /**
   * Removes every committed layer snapshot that no named image and no container uses, then collects the store's
   * garbage (content no name reaches).
   */
  async prune(options: { signal?: AbortSignal } = {}): Promise<ImageRemoval> {
    const { signal } = options;
    const images = await this.store.list({ signal });
    const committed = (await this.snapshotter.walk({ signal })).filter((s) => s.kind === 'committed').map((s) => s.name);
    const snapshots = await this.#removeUnused(committed, images, signal);
    return { untagged: [], snapshots, gc: await this.store.gc({ signal }) };
  }

  /** See `prepareRootfs`: container `containerId`'s snapshot on `chainId`. */
  prepareRootfs(containerId: string, chainId: string, options: RootfsCallOptions = {}): Promise<Mount[]> {
    return prepareRootfs(this.snapshotter, containerId, chainId, options);
  }

  /** See `releaseRootfs`: removes container `containerId`'s snapshot (refused while mounted). */
  releaseRootfs(containerId: string, options: RootfsCallOptions = {}): Promise<void> {
    return releaseRootfs(this.snapshotter, containerId, options);
  }

  // The chain IDs of an image's layers, bottom first; [] when it cannot be read for this host (another platform).
  async #chainOf(name: string, signal: AbortSignal | undefined): Promise<string[]> {
    try {
      return chainIds((await this.store.get(name, { signal })).config.rootfs.diff_ids);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      log('no layers of %s for this host: %s', name, (err as Error).message);
      return [];
    }
  }

  /**
   * Removes the committed snapshots among `candidates` that `images` do not reach and no other snapshot is built
   * on, children before parents. One refused by the snapshotter (a pull committing on it meanwhile, a mount) stays.
   */
  async #removeUnused(candidates: string[], images: NamedImage[], signal: AbortSignal | undefined): Promise<string[]> {
    const kept = new Set<string>();
    for (const image of images) for (const id of await this.#chainOf(image.name, signal)) kept.add(id);
    const removed: string[] = [];
    for (;;) {
      const all = await this.snapshotter.walk({ signal });
      const byName = new Map(all.map((s): [string, SnapshotInfo] => [s.name, s]));
      const parents = new Set(all.flatMap((s) => (s.parent === undefined ? [] : [s.parent])));
      const next = candidates.find((c) => !kept.has(c) && !removed.includes(c) && byName.get(c)?.kind === 'committed' && !parents.has(c));
      if (next === undefined) return removed;
      try {
        await this.snapshotter.remove(next, { signal });
        removed.push(next);
      } catch (err) {
        if (!hasCode(err, 'ERR_FAILED_PRECONDITION') && !hasCode(err, 'ERR_SNAPSHOT_MOUNTED') && !hasCode(err, 'ERR_NOT_FOUND')) throw err;
        log('kept snapshot %s: %s', next, (err as Error).message);
        kept.add(next);
      }
    }
  }
}
