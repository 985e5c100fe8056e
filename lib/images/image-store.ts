/**
 * ImageStore: named images in an OCI image layout, on a {@link LocalContentStore}: pull, push, tag, untag, list,
 * get, delete, GC and verify.
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import { LocalContentStore } from '../content/index.js';
import { newError } from '../errors/index.js';
import { ANNOTATIONS, type Descriptor, hostPlatform, isIndexMediaType, normalizeReference, type Platform, type PullResult } from '../oci/index.js';
import type { ContentSource, Resolver } from '../registry/index.js';
import type { Snapshotter } from '../unpack/index.js';
import { childrenHandler } from './children.js';
import { fetchHandler, type PullProgress } from './fetch.js';
import { fetchAlongside, reportArrivals } from './fetch-alongside.js';
import { inheritPlatform, limitManifests } from './filters.js';
import { collectGarbage, type GcOptions, type GcResult, type VerifyOptions, type VerifyResult, verifyStore } from './gc.js';
import { composeHandlers, dispatch, type Handler, SKIP } from './handlers.js';
import { LayoutIndex, type NamedImage } from './image-index.js';
import { createLease, type Lease } from './leases.js';
import {
  BlobArrivals,
  type ImageUnpackOptions,
  type ImageUnpackResult,
  imageLayerSources,
  type OpenBlob,
  type PullUnpackOptions,
  storedBlobOpener,
  validateSnapshotter,
  validateUnpackOptions,
  type WhenStored,
} from './pull-unpack.js';
import { type ImageDetails, readImage } from './read-image.js';

export type { ImageDetails } from './read-image.js';

/** The typed events of an {@link ImageStore}. */
export interface ImageStoreEvents {
  /** Progress of a pull, per descriptor; `ref` is the normalised reference being pulled. */
  progress: (event: PullProgress & { ref: string }) => void;
}

/**
 * The registry access an {@link ImageStore} needs: a {@link Resolver} (and its fetchers) to pull, a whole-image push
 * to push. RegistryClient satisfies it.
 */
export interface ImageStoreRegistry extends Resolver {
  /** Pushes the image at `root`, children first, reading blobs from `source`; the root under `ref`'s tag. */
  pushImage(ref: string, root: Descriptor, source: ContentSource, options?: { signal?: AbortSignal }): Promise<unknown>;
}

/** Options of {@link ImageStore.open}. */
export interface ImageStoreOptions {
  /** The registry pull and push use (a RegistryClient). Without one they throw ERR_FAILED_PRECONDITION. */
  registry?: ImageStoreRegistry;
  signal?: AbortSignal;
}

/** Options of {@link ImageStore.pull}. */
export interface ImagePullOptions {
  /** Which platform of a multi-platform image to fetch. Default: the host's. */
  platform?: Platform | string;
  /** How many blobs to fetch at once. Default 4. */
  concurrency?: number;
  /** Called with progress per descriptor (also emitted as `progress` on {@link ImageStore.events}). */
  onProgress?: (event: PullProgress) => void;
  /**
   * Also unpack the image into `unpack.snapshotter` while it is fetched: each layer is applied (as the committed
   * snapshot named by its chain ID) once the layer below it is applied, reading its bytes as they are downloaded
   * (from the ingest, then the blob), so downloading and applying overlap; layers already committed are reused
   * without reading their blobs. The result's `unpack` holds the chain ID to prepare a container's snapshot on.
   * A snapshot is committed only after its diff_id was verified. Default: fetch only.
   */
  unpack?: PullUnpackOptions;
  signal?: AbortSignal;
}

/**
 * What {@link ImageStore.pull} returns: the {@link PullResult} every backend returns (`target` carries the image's
 * `org.opencontainers.image.ref.name` annotation, as {@link ImageStore.list} shows it; `chainId` is set with
 * `unpack`), and what the unpack did when `unpack` was asked for.
 */
export interface PulledImage extends PullResult {
  /** Present when the pull was given `unpack`. */
  unpack?: ImageUnpackResult;
}

/** Options of {@link ImageStore.unpack}. */
export interface ImageStoreUnpackOptions extends ImageUnpackOptions {
  /** Which platform of a multi-platform image. Default: the host's. */
  platform?: Platform | string;
  signal?: AbortSignal;
}

function validateConcurrency(value: unknown): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || (value as number) < 1)) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.concurrency must be an integer >= 1');
  }
}

/** An unpack's result, with the manifest and config it read. */
interface DetailsAndUnpack {
  details: ImageDetails;
  unpacked: ImageUnpackResult;
}

/** Adds a descriptor's children to `lease` in one update, before any of them is fetched. */
function leaseChildren(handler: Handler, lease: Lease): Handler {
  return async (descriptor, context) => {
    const children = await handler(descriptor, context);
    if (children && children !== SKIP && children.length > 0)
      await lease.add(
        children.map((c) => c.digest),
        { signal: context.signal },
      );
    return children;
  };
}

/** The unpacker, loaded on first use so that a store that never unpacks does not load it. */
async function loadUnpackLayers(): Promise<typeof import('../unpack/unpack-layers.js').unpackLayers> {
  return (await import('../unpack/unpack-layers.js')).unpackLayers;
}

/**
 * Named images in an OCI image layout directory that skopeo and umoci read too. Any number of processes may
 * open one directory; index updates are locked and atomic, blob writes are per-digest exclusive and verified.
 */
export class ImageStore {
  /** Pull progress (typed eventemitter3 map). */
  readonly events = new EventEmitter<ImageStoreEvents>();
  readonly index: LayoutIndex;

  private constructor(
    readonly content: LocalContentStore,
    readonly registry: ImageStoreRegistry | undefined,
  ) {
    this.index = new LayoutIndex(content.root);
  }

  /**
   * Opens (creating if needed) the layout at `dir`.
   * @throws ERR_INVALID_LAYOUT; ERR_IO; ERR_INVALID_ARGUMENT.
   */
  static async open(dir: string, options: ImageStoreOptions = {}): Promise<ImageStore> {
    const content = await LocalContentStore.open(dir, { signal: options.signal });
    return new ImageStore(content, options.registry);
  }

  /** The layout directory. */
  get root(): string {
    return this.content.root;
  }

  #registry(): ImageStoreRegistry {
    if (this.registry === undefined) throw newError('ERR_FAILED_PRECONDITION', 'this ImageStore was opened without a registry client');
    return this.registry;
  }

  /**
   * Pulls `ref` (`busybox`, `host:port/repo:tag`, `repo@sha256:…`): resolves it, fetches the missing content of
   * the wanted platform (concurrently, verified, resumable), checks the config's `diff_ids` against the layers, and
   * names the image. Content already present is not requested. Holds a lease while it runs, so GC keeps its blobs.
   * With `unpack`, also unpacks the image into a snapshotter while fetching (see {@link ImagePullOptions.unpack}); the
   * image is named only once both are done, and a failure of either stops the other (a layer being applied is
   * removed, layers committed before it stay for the next attempt).
   * @returns the record of the image, with `unpack` (the chain ID and what was applied) when asked.
   * @throws ERR_INVALID_REFERENCE, ERR_INVALID_ARGUMENT; ERR_NO_MATCHING_PLATFORM; ERR_INVALID_MANIFEST,
   *   ERR_MEDIA_TYPE_MISMATCH, ERR_DUPLICATE_JSON_KEY, ERR_PLATFORM_MISMATCH (the document is never stored, the image
   *   never named); ERR_DIGEST_MISMATCH; registry errors; ERR_IO (ENOSPC…); with `unpack`, the unpacker's and the
   *   snapshotter's errors (ERR_LAYER_TOO_LARGE, ERR_PATH_ESCAPE…); `signal.reason` on abort.
   */
  async pull(ref: string, options: ImagePullOptions = {}): Promise<PulledImage> {
    const { platform = hostPlatform(), concurrency = 4, onProgress, unpack, signal } = options;
    validateConcurrency(concurrency);
    if (unpack !== undefined) {
      validateUnpackOptions(unpack, 'options.unpack');
      validateSnapshotter(unpack.snapshotter, 'options.unpack.snapshotter');
    }
    const name = normalizeReference(ref).toString();
    const registry = this.#registry();
    signal?.throwIfAborted();
    const resolved = await registry.resolve(name, { signal });
    const lease = await createLease(this.root, { digests: [resolved.descriptor.digest], labels: { pull: name }, signal });
    try {
      const fetcher = registry.fetcher(name);
      const progress = (event: PullProgress): void => {
        onProgress?.(event);
        this.events.emit('progress', { ...event, ref: name });
      };
      const arrivals = unpack === undefined ? undefined : new BlobArrivals();
      const fetch = fetchHandler(this.content, fetcher, {
        onProgress: progress,
        lease,
        ...(arrivals === undefined ? {} : { onWritten: (d: Descriptor, ingestRef: string, bytes: number) => arrivals.written(d.digest, ingestRef, bytes) }),
      });
      const handler = composeHandlers(
        arrivals === undefined ? fetch : reportArrivals(fetch, arrivals),
        leaseChildren(inheritPlatform(limitManifests(childrenHandler(this.content), platform, 1)), lease),
      );
      let unpacked: ImageUnpackResult | undefined;
      let details: ImageDetails | undefined;
      if (unpack === undefined || arrivals === undefined) {
        await dispatch(handler, [resolved.descriptor], { concurrency, signal });
      } else {
        // The unpack reads the manifest and config as soon as they are stored, then applies each layer as its bytes arrive.
        const follow: OpenBlob = async (layer, s) => arrivals.follow(this.content, layer, s);
        ({ details, unpacked } = await fetchAlongside(
          handler,
          resolved.descriptor,
          arrivals,
          (s) => this.#unpackDetails(name, resolved.descriptor, platform, unpack.snapshotter, unpack, arrivals.whenStored, follow, s),
          { concurrency, signal },
        ));
      }
      // An unpack has read the manifest and config already.
      details ??= await this.#details(name, resolved.descriptor, platform, signal);
      const target: Descriptor = { mediaType: resolved.descriptor.mediaType, digest: resolved.descriptor.digest, size: resolved.descriptor.size };
      await this.index.put(name, target, { signal });
      return {
        name,
        target: { ...target, annotations: { [ANNOTATIONS.REF_NAME]: name } },
        manifestDescriptor: details.manifestDescriptor,
        config: details.config,
        ...(unpacked?.chainId === undefined ? {} : { chainId: unpacked.chainId }),
        ...(unpacked === undefined ? {} : { unpack: unpacked }),
      };
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  async #unpackDetails(
    name: string,
    target: Descriptor,
    platform: Platform | string,
    snapshotter: Snapshotter,
    options: ImageUnpackOptions,
    whenStored: WhenStored,
    openBlob: OpenBlob,
    signal: AbortSignal | undefined,
  ): Promise<DetailsAndUnpack> {
    const details = await this.#details(name, target, platform, signal, whenStored);
    const layers = imageLayerSources(details.manifest, details.config, openBlob, signal);
    if (layers.length === 0) return { details, unpacked: { layers: [] } }; // FROM scratch: nothing to unpack
    const unpackLayers = await loadUnpackLayers();
    const unpacked = await unpackLayers(snapshotter, layers, {
      ...(options.maxUncompressedSize === undefined ? {} : { maxUncompressedSize: options.maxUncompressedSize }),
      ...(options.labels === undefined ? {} : { labels: options.labels }),
      ...(signal === undefined ? {} : { signal }),
    });
    return { details, unpacked };
  }

  /**
   * Unpacks the image `ref`, already in this store, into `snapshotter`: one committed snapshot per layer, named by
   * its chain ID; layers already committed are reused without reading their blobs, so a second call applies
   * nothing. {@link ImageStore.pull} with `unpack` does the same while fetching.
   * @returns the chain ID of the whole stack (the parent of a container's snapshot) and, per layer, whether it was
   *   applied now.
   * @throws ERR_IMAGE_NOT_FOUND; ERR_NOT_FOUND when a blob is missing; ERR_NO_MATCHING_PLATFORM; ERR_INVALID_MANIFEST;
   *   ERR_INVALID_ARGUMENT; the unpacker's and the snapshotter's errors (a failed layer's snapshot is removed);
   *   `signal.reason` on abort.
   */
  async unpack(ref: string, snapshotter: Snapshotter, options: ImageStoreUnpackOptions = {}): Promise<ImageUnpackResult> {
    validateSnapshotter(snapshotter, 'snapshotter');
    validateUnpackOptions(options, 'options');
    const { platform = hostPlatform(), signal } = options;
    signal?.throwIfAborted();
    const record = await this.#record(ref, signal);
    const { unpacked } = await this.#unpackDetails(
      record.name,
      record.target,
      platform,
      snapshotter,
      options,
      () => Promise.resolve(),
      storedBlobOpener(this.content),
      signal,
    );
    return unpacked;
  }

  /** The image's manifest and config; with `whenStored`, each blob is read only once it is stored (during a pull). */
  #details(name: string, target: Descriptor, platform: Platform | string, signal?: AbortSignal, whenStored?: WhenStored): Promise<ImageDetails> {
    return readImage(this.content, name, target, { platform, signal, whenStored });
  }

  /** Every named image, in index order. */
  list(options: { signal?: AbortSignal } = {}): Promise<NamedImage[]> {
    return this.index.list(options);
  }

  async #record(ref: string, signal?: AbortSignal): Promise<NamedImage> {
    const name = normalizeReference(ref).toString();
    const record = await this.index.get(name, { signal });
    if (record === undefined) throw newError('ERR_IMAGE_NOT_FOUND', `image ${name} not found`, { details: { name } });
    return record;
  }

  /**
   * The image `ref` with its manifest, config, platform and size.
   * @throws ERR_IMAGE_NOT_FOUND; ERR_NOT_FOUND when content is missing; ERR_NO_MATCHING_PLATFORM.
   */
  async get(ref: string, options: { platform?: Platform | string; signal?: AbortSignal } = {}): Promise<ImageDetails> {
    const record = await this.#record(ref, options.signal);
    return this.#details(record.name, record.target, options.platform ?? hostPlatform(), options.signal);
  }

  /** Names the image `source` also as `target`. @throws ERR_IMAGE_NOT_FOUND; ERR_INVALID_REFERENCE. */
  async tag(source: string, target: string, options: { signal?: AbortSignal } = {}): Promise<NamedImage> {
    const record = await this.#record(source, options.signal);
    const name = normalizeReference(target).toString();
    const { annotations: _drop, ...rest } = record.target;
    await this.index.put(name, rest, options);
    return { name, target: { ...rest, annotations: { [ANNOTATIONS.REF_NAME]: name } } };
  }

  /** Removes the name `ref` (content stays until GC). @throws ERR_IMAGE_NOT_FOUND. */
  async untag(ref: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const name = normalizeReference(ref).toString();
    if (!(await this.index.remove(name, options))) throw newError('ERR_IMAGE_NOT_FOUND', `image ${name} not found`, { details: { name } });
  }

  /** Deletes the image `ref`: removes its name, then collects garbage unless `gc: false`. @throws ERR_IMAGE_NOT_FOUND. */
  async delete(ref: string, options: { gc?: boolean; signal?: AbortSignal } = {}): Promise<GcResult | undefined> {
    await this.untag(ref, options);
    return options.gc === false ? undefined : this.gc({ signal: options.signal });
  }

  /**
   * Pushes the image `ref` (or `target`, a descriptor in this store) to the registry under `ref`.
   * @throws ERR_IMAGE_NOT_FOUND; ERR_FAILED_PRECONDITION without a registry; registry errors.
   */
  async push(ref: string, target?: Descriptor, options: { signal?: AbortSignal } = {}): Promise<Descriptor> {
    const registry = this.#registry();
    const name = normalizeReference(ref).toString();
    const root = target ?? (await this.#record(name, options.signal)).target;
    const { annotations: _drop, ...plain } = root;
    await registry.pushImage(
      name,
      plain,
      {
        read: async (d) => {
          const reader = await this.content.readerAt(d.digest);
          const stream = reader.stream(0);
          stream.once('close', () => void reader.close());
          return stream;
        },
      },
      { signal: options.signal },
    );
    return plain;
  }

  /** Mark-and-sweep GC (see {@link collectGarbage}). */
  gc(options: GcOptions = {}): Promise<GcResult> {
    return collectGarbage(this.content, this.index, options);
  }

  /** Re-hashes every blob and finds missing content (see {@link verifyStore}). */
  verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    return verifyStore(this.content, this.index, options);
  }

  /** Whether `target` is an index (a multi-platform image). */
  static isIndex(target: Descriptor): boolean {
    return isIndexMediaType(target.mediaType);
  }
}
