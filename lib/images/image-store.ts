/**
 * ImageStore: named images in an OCI image layout, on a {@link LocalContentStore}: pull, push, tag, untag, list,
 * get, delete, GC and verify.
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import { LocalContentStore } from '../content/index.js';
import { newError } from '../errors/index.js';
import {
  ANNOTATIONS,
  hostPlatform,
  isIndexMediaType,
  normalizeReference,
  parseImageConfig,
  parseManifestOrIndex,
  selectPlatform,
  type Descriptor,
  type ImageConfig,
  type Manifest,
  type Platform,
} from '../oci/index.js';
import type { RegistryClient } from '../registry/index.js';
import { childrenHandler, readBlob } from './children.js';
import { fetchHandler, type PullProgress } from './fetch.js';
import { limitManifests } from './filters.js';
import { collectGarbage, verifyStore, type GcOptions, type GcResult, type VerifyOptions, type VerifyResult } from './gc.js';
import { composeHandlers, dispatch } from './handlers.js';
import { LayoutIndex, type NamedImage } from './image-index.js';
import { createLease } from './leases.js';

/** The typed events of an {@link ImageStore}. */
export interface ImageStoreEvents {
  /** Progress of a pull, per descriptor; `ref` is the normalised reference being pulled. */
  progress: (event: PullProgress & { ref: string }) => void;
}

/** Options of {@link ImageStore.open}. */
export interface ImageStoreOptions {
  /** The registry client pull and push use. Without one they throw ERR_FAILED_PRECONDITION. */
  registry?: RegistryClient;
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
  signal?: AbortSignal;
}

/** An image as {@link ImageStore.get} returns it. */
export interface ImageDetails extends NamedImage {
  /** The platform manifest (chosen for `platform` when the target is an index). */
  manifestDescriptor: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
  platform: Platform;
  /** Bytes of the manifest, config and layers (compressed, as stored). */
  size: number;
}

function validateConcurrency(value: unknown): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || (value as number) < 1)) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.concurrency must be an integer >= 1');
  }
}

/**
 * Named images in an OCI image layout directory that skopeo and umoci read too. Any number of processes may
 * open one directory; index updates are locked and atomic, blob writes are per-digest exclusive and verified.
 */
export class ImageStore {
  /** Pull progress (typed eventemitter3 map). */
  readonly events = new EventEmitter<ImageStoreEvents>();
  readonly index: LayoutIndex;

  private constructor(readonly content: LocalContentStore, readonly registry: RegistryClient | undefined) {
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

  #registry(): RegistryClient {
    if (this.registry === undefined) throw newError('ERR_FAILED_PRECONDITION', 'this ImageStore was opened without a registry client');
    return this.registry;
  }

  /**
   * Pulls `ref` (`busybox`, `host:port/repo:tag`, `repo@sha256:…`): resolves it, fetches the missing content of
   * the wanted platform (concurrently, verified, resumable), checks the config's `diff_ids` against the layers, and
   * names the image. Content already present is not requested. Holds a lease while it runs, so GC keeps its blobs.
   * @returns the record of the image.
   * @throws ERR_INVALID_REFERENCE, ERR_INVALID_ARGUMENT; ERR_NO_MATCHING_PLATFORM; ERR_INVALID_MANIFEST (never
   *   recorded); ERR_DIGEST_MISMATCH; registry errors; ERR_IO (ENOSPC…); `signal.reason` on abort.
   */
  async pull(ref: string, options: ImagePullOptions = {}): Promise<NamedImage> {
    const { platform = hostPlatform(), concurrency = 4, onProgress, signal } = options;
    validateConcurrency(concurrency);
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
      const handler = composeHandlers(
        fetchHandler(this.content, fetcher, { onProgress: progress, lease }),
        limitManifests(childrenHandler(this.content), platform, 1),
      );
      await dispatch(handler, [resolved.descriptor], { concurrency, signal });
      const details = await this.#details(name, resolved.descriptor, platform, signal);
      if (details.config.rootfs.diff_ids.length !== details.manifest.layers.length) {
        throw newError('ERR_INVALID_MANIFEST', `image ${name}: config lists ${details.config.rootfs.diff_ids.length} diff_ids for ${details.manifest.layers.length} layers`);
      }
      const target: Descriptor = { mediaType: resolved.descriptor.mediaType, digest: resolved.descriptor.digest, size: resolved.descriptor.size };
      await this.index.put(name, target, { signal });
      return { name, target: { ...target, annotations: { [ANNOTATIONS.REF_NAME]: name } } };
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  async #details(name: string, target: Descriptor, platform: Platform | string, signal?: AbortSignal): Promise<ImageDetails> {
    let manifestDescriptor = target;
    let parsed = parseManifestOrIndex(await readBlob(this.content, target, { signal }), { expected: target, strictMediaTypes: false });
    for (let depth = 0; parsed.kind === 'index'; depth++) {
      if (depth > 4) throw newError('ERR_INVALID_MANIFEST', `image ${name}: indexes nested too deep`);
      manifestDescriptor = selectPlatform(parsed.index.manifests.filter((m) => m.platform !== undefined), platform);
      parsed = parseManifestOrIndex(await readBlob(this.content, manifestDescriptor, { signal }), { expected: manifestDescriptor, strictMediaTypes: false });
    }
    const manifest = parsed.manifest;
    const config = parseImageConfig(await readBlob(this.content, manifest.config, { signal, maxSize: 8 * 1024 * 1024 }), { expected: manifest.config });
    const size = manifestDescriptor.size + manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
    const imagePlatform: Platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
    return { name, target, manifestDescriptor, manifest, config, platform: imagePlatform, size };
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
    await registry.pushImage(name, plain, {
      read: async (d) => {
        const reader = await this.content.readerAt(d.digest);
        const stream = reader.stream(0);
        stream.once('close', () => void reader.close());
        return stream;
      },
    }, { signal: options.signal });
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
