/**
 * buildImage: an image from directories and a config, straight into a store (what `umoci repack` and
 * `crane append` do, and what go-containerregistry's `mutate.Append` + `mutate.Config` compose): each directory
 * becomes a layer through the unpack part's diff writer, then the config, the manifest and the name are written.
 * @module
 */
import { stat } from 'node:fs/promises';
import type { Provider } from '../content/index.js';
import { newError } from '../errors/index.js';
import {
  chainId,
  type Descriptor,
  type Digest,
  type HistoryEntry,
  hostPlatform,
  type ImageConfig,
  type ImageRunConfig,
  type Manifest,
  MEDIA_TYPES,
  normalizeReference,
  type Platform,
  parsePlatform,
} from '../oci/index.js';
import { logger, shortId } from '../util/debug.js';
import { errnoOf, fsError } from '../util/fs-error.js';
import { type BlobSink, type BuildLease, type WrittenLayer, writeBytesBlob, writeLayerBlob } from './build-blobs.js';
import type { IndexCallOptions, NamedImage } from './image-index.js';
import { type ImageDetails, readImage } from './read-image.js';

export type { BuildLease } from './build-blobs.js';

const log = logger('images:build');

/** The names of a store, as {@link buildImage} reads and records them; `LayoutIndex` satisfies it. */
export interface ImageNames {
  /** The record named `name` (a full normalised reference), or undefined. */
  get(name: string, options?: IndexCallOptions): Promise<NamedImage | undefined>;
  /** Names `target` as `name`, replacing what the name pointed at. */
  put(name: string, target: Descriptor, options?: IndexCallOptions): Promise<void>;
}

/**
 * What {@link buildImage} needs of a store; an `ImageStore` satisfies it. Blobs are written through `content`'s
 * writers (a failed write's ingest is aborted), a base image is read through it, and the name goes to `index`.
 */
export interface ImageBuildStore {
  readonly content: BlobSink & Provider;
  readonly index: ImageNames;
}

/** One layer to build: the tree `directory`, whole or as its difference from `lower`. */
export interface BuildLayer {
  /** The directory whose tree the layer holds (owners, modes, mtimes, xattrs, hardlinks as they are on disk). */
  directory: string;
  /**
   * A directory to diff against: only entries new or changed in `directory` go into the layer, and what
   * `directory` lacks becomes a whiteout (see `diffDirectories`). Default: none, the whole tree.
   */
  lower?: string;
  /** The history entry's `created_by`. Default `containerkit buildImage`. */
  createdBy?: string;
  /** The history entry's `comment`. Default: none. */
  comment?: string;
}

/** Options of {@link buildImage}. */
export interface BuildImageOptions {
  /** The layers to add, bottom first. Default none (then `base` is required: a config-only change). */
  layers?: readonly BuildLayer[];
  /**
   * The name of an image in the same store to append onto: its layers, config and history are kept, the new
   * layers go on top, its history gets one entry per new layer, and each field given in `config` replaces the
   * base's (fields not given are kept; `Env` and `Labels` are replaced whole, not merged). Default: none.
   */
  base?: string;
  /** The run config (`Cmd`, `Entrypoint`, `Env`, `WorkingDir`, `User`, `Labels`, `ExposedPorts`, …). Default `{}`. */
  config?: ImageRunConfig;
  /**
   * The image's platform. Default: the host's. With `base`, it only picks the manifest of a multi-platform base;
   * the config keeps the base's platform.
   */
  platform?: Platform | string;
  /** The image's and the history entries' `created`. Default: now. Fix it for reproducible digests. */
  created?: Date | string;
  /** The config's and the history entries' `author`. Default: none (the base's is kept). */
  author?: string;
  /** How layer blobs are compressed: `gzip` (default) or `none`. */
  compression?: 'gzip' | 'none';
  /** Annotations of the manifest (added to the base manifest's). Default: none. */
  annotations?: Record<string, string>;
  /**
   * Protects the blobs from a concurrent GC until the name is recorded: each digest is added before its commit.
   * Pass one from `createLease(store.root)` when a GC may run meanwhile. Default: none.
   */
  lease?: BuildLease;
  /** Cancels the build; it rejects with `signal.reason`, leaving no ingest and no name. */
  signal?: AbortSignal;
}

/** What {@link buildImage} wrote and named. */
export interface BuildImageResult {
  /** The full normalised name recorded (`docker.io/library/app:latest`). */
  name: string;
  /** The manifest's descriptor: what `name` points at. */
  manifestDescriptor: Descriptor;
  manifest: Manifest;
  configDescriptor: Descriptor;
  config: ImageConfig;
  /** The layers this build wrote (the base's not included), with their diff IDs. */
  layers: WrittenLayer[];
  /** Every layer's diff ID, base first (the config's `rootfs.diff_ids`). */
  diffIds: Digest[];
  /** The chain ID of the whole stack: the snapshot a container's rootfs is prepared on. */
  chainId: Digest;
}

const DEFAULT_CREATED_BY = 'containerkit buildImage';
const RUN_CONFIG_KEYS: ReadonlySet<string> = new Set([
  'User',
  'ExposedPorts',
  'Env',
  'Entrypoint',
  'Cmd',
  'Volumes',
  'WorkingDir',
  'Labels',
  'StopSignal',
  'ArgsEscaped',
  'Healthcheck',
  'Shell',
  'OnBuild',
]);

function invalid(message: string): never {
  throw newError('ERR_INVALID_ARGUMENT', `buildImage: ${message}`);
}

function checkString(value: unknown, what: string): void {
  if (value !== undefined && (typeof value !== 'string' || value === '')) invalid(`${what} must be a non-empty string`);
}

/** RFC 3339 with whole seconds written without `.000`, as docker and buildkit write it. */
function formatCreated(created: Date | string | undefined): string {
  const date = created === undefined ? new Date() : created instanceof Date ? created : new Date(created);
  if (Number.isNaN(date.getTime())) invalid('options.created must be a valid date');
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

/** Every option checked before anything is written (a bad value is ERR_INVALID_ARGUMENT). */
function validate(store: unknown, name: unknown, options: BuildImageOptions): void {
  const s = store as Partial<ImageBuildStore> | null;
  const c = s?.content;
  if (
    typeof c?.writer !== 'function' ||
    typeof c.readerAt !== 'function' ||
    typeof c.abort !== 'function' ||
    typeof s?.index?.get !== 'function' ||
    typeof s.index.put !== 'function'
  ) {
    invalid('store must have content (writer, readerAt, abort) and index (get, put)');
  }
  if (typeof name !== 'string' || name === '') invalid('name must be a non-empty string');
  if (typeof options !== 'object' || options === null) invalid('options must be an object');
  const { layers = [], base, config = {}, compression = 'gzip', annotations, lease, signal, author } = options;
  if (!Array.isArray(layers)) invalid('options.layers must be an array');
  layers.forEach((layer: unknown, i) => {
    if (typeof layer !== 'object' || layer === null) invalid(`options.layers[${i}] must be an object`);
    const l = layer as BuildLayer;
    if (typeof l.directory !== 'string' || l.directory === '') invalid(`options.layers[${i}].directory must be a non-empty string`);
    checkString(l.lower, `options.layers[${i}].lower`);
    checkString(l.createdBy, `options.layers[${i}].createdBy`);
    if (l.comment !== undefined && typeof l.comment !== 'string') invalid(`options.layers[${i}].comment must be a string`);
  });
  checkString(base, 'options.base');
  checkString(author, 'options.author');
  if (layers.length === 0 && base === undefined) invalid('an image needs options.layers or options.base');
  if (typeof config !== 'object' || config === null || Array.isArray(config)) invalid('options.config must be an object');
  const p = options.platform as Partial<Platform> | string | undefined;
  if (p !== undefined && typeof p !== 'string' && (typeof p !== 'object' || p === null || typeof p.os !== 'string' || typeof p.architecture !== 'string')) {
    invalid('options.platform must be a platform string or an object with os and architecture');
  }
  for (const key of Object.keys(config)) if (!RUN_CONFIG_KEYS.has(key)) invalid(`options.config.${key} is not an image config field`);
  if (compression !== 'gzip' && compression !== 'none') invalid('options.compression must be gzip or none');
  if (annotations !== undefined && (typeof annotations !== 'object' || annotations === null || Object.values(annotations).some((v) => typeof v !== 'string'))) {
    invalid('options.annotations must map strings to strings');
  }
  if (lease !== undefined && typeof (lease as Partial<BuildLease> | null)?.add !== 'function') invalid('options.lease must have an add() method');
  if (signal !== undefined && !(signal instanceof AbortSignal)) invalid('options.signal must be an AbortSignal');
}

/** Fails with ERR_NOT_FOUND / ERR_INVALID_ARGUMENT before any blob is written, rather than after some layers. */
async function checkDirectory(path: string, what: string): Promise<void> {
  const st = await stat(path).catch((err: unknown) => {
    throw errnoOf(err) === 'ENOENT'
      ? newError('ERR_NOT_FOUND', `buildImage: ${what} ${path} does not exist`, { cause: err, details: { path } })
      : fsError(err, 'inspect', path);
  });
  if (!st.isDirectory()) invalid(`${what} ${path} is not a directory`);
}

async function readBase(store: ImageBuildStore, ref: string, platform: Platform | string, signal: AbortSignal | undefined): Promise<ImageDetails> {
  const name = normalizeReference(ref).toString();
  const record = await store.index.get(name, { signal });
  if (record === undefined) throw newError('ERR_IMAGE_NOT_FOUND', `buildImage: base image ${name} not found`, { details: { name } });
  return readImage(store.content, name, record.target, { platform, signal });
}

// Docker layer types and their OCI names for the same bytes: a built image is always an OCI one, which every
// reader of an OCI layout lists (skopeo and umoci skip index entries of Docker types).
const OCI_LAYER_TYPES: ReadonlyMap<string, string> = new Map([
  [MEDIA_TYPES.DOCKER_LAYER, MEDIA_TYPES.OCI_LAYER],
  [MEDIA_TYPES.DOCKER_LAYER_GZIP, MEDIA_TYPES.OCI_LAYER_GZIP],
  [MEDIA_TYPES.DOCKER_LAYER_ZSTD, MEDIA_TYPES.OCI_LAYER_ZSTD],
  [MEDIA_TYPES.DOCKER_LAYER_FOREIGN, MEDIA_TYPES.OCI_LAYER_NONDISTRIBUTABLE],
  [MEDIA_TYPES.DOCKER_LAYER_FOREIGN_GZIP, MEDIA_TYPES.OCI_LAYER_NONDISTRIBUTABLE_GZIP],
]);

function asOciLayer(layer: Descriptor): Descriptor {
  const mediaType = OCI_LAYER_TYPES.get(layer.mediaType);
  return mediaType === undefined ? layer : { ...layer, mediaType };
}

/** The given run-config fields over the base's; `undefined` values are not given. */
function mergeRunConfig(base: ImageRunConfig | null | undefined, given: ImageRunConfig): ImageRunConfig {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(given)) if (value !== undefined) out[key] = value;
  return out as ImageRunConfig;
}

/**
 * Builds an image into `store` and names it `name`: each of `options.layers` becomes a layer (a tar of the
 * directory, or of its difference from `lower`, compressed as asked), on top of `options.base`'s layers when
 * given; then the config (`rootfs.diff_ids`, one history entry per new layer, the run config), an OCI image
 * manifest (always: a Docker schema 2 base's layers are listed under their OCI media types, same bytes), and the
 * name in the store's index, last. Blobs are verified by the content writer before they appear under their
 * digest; a failure or an abort removes the ingest being written and records no name (layers committed before
 * it stay, unnamed, for GC; pass `lease` to keep them from a GC that runs during the build).
 *
 * Reproducible: the diff writer orders entries bytewise and takes owners, modes and whole-second mtimes from the
 * files, and the JSON is written in a fixed key order, so the same trees (mtimes included) with the same
 * `created` and options give the same digests. To get the same digests from trees made at different times, set
 * their mtimes first (e.g. `touch -h -d @0` on every entry).
 *
 * @param name a reference (`app`, `registry:5000/team/app:v1`), recorded normalised.
 * @throws ERR_INVALID_ARGUMENT for bad options; ERR_INVALID_REFERENCE for a bad name or base; ERR_NOT_FOUND for a
 *   missing directory; ERR_IMAGE_NOT_FOUND for an unknown base; ERR_NO_MATCHING_PLATFORM, ERR_INVALID_MANIFEST
 *   from the base; the diff writer's and the store's errors (ERR_IO…); `signal.reason` on abort.
 */
export async function buildImage(store: ImageBuildStore, name: string, options: BuildImageOptions = {}): Promise<BuildImageResult> {
  validate(store, name, options);
  const { layers = [], base, config = {}, compression = 'gzip', annotations, lease, signal, author } = options;
  const fullName = normalizeReference(name).toString();
  const platform = typeof options.platform === 'string' ? parsePlatform(options.platform) : (options.platform ?? hostPlatform());
  const created = formatCreated(options.created);
  if (base !== undefined) normalizeReference(base);
  signal?.throwIfAborted();
  for (const [i, layer] of layers.entries()) {
    await checkDirectory(layer.directory, `options.layers[${i}].directory`);
    if (layer.lower !== undefined) await checkDirectory(layer.lower, `options.layers[${i}].lower`);
  }
  const from = base === undefined ? undefined : await readBase(store, base, platform, signal);
  if (from !== undefined)
    await lease?.add([from.manifestDescriptor.digest, from.manifest.config.digest, ...from.manifest.layers.map((l) => l.digest)], { signal });
  const layerType = compression === 'gzip' ? MEDIA_TYPES.OCI_LAYER_GZIP : MEDIA_TYPES.OCI_LAYER;

  const written: WrittenLayer[] = [];
  for (const layer of layers) {
    const w = await writeLayerBlob(store.content, layer, { compression, mediaType: layerType, lease, signal });
    log('layer %s (diff_id %s) from %s', shortId(w.descriptor.digest), shortId(w.diffId), layer.directory);
    written.push(w);
  }

  const diffIds = [...(from?.config.rootfs.diff_ids ?? []), ...written.map((w) => w.diffId)];
  const history: HistoryEntry[] = [
    ...(from?.config.history ?? []),
    ...layers.map((l) => ({
      created,
      created_by: l.createdBy ?? DEFAULT_CREATED_BY,
      ...(author ? { author } : {}),
      ...(l.comment !== undefined ? { comment: l.comment } : {}),
    })),
  ];
  const runConfig = mergeRunConfig(from?.config.config, config);
  // Base keys keep their order and place (a spread replaces values in place), so JSON of equal inputs is equal.
  const imageConfig: ImageConfig = from
    ? { ...from.config, created, ...(author ? { author } : {}), config: runConfig, rootfs: { type: 'layers', diff_ids: diffIds }, history }
    : {
        created,
        ...(author ? { author } : {}),
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        config: runConfig,
        rootfs: { type: 'layers', diff_ids: diffIds },
        history,
      };
  const configDescriptor = await writeBytesBlob(store.content, Buffer.from(JSON.stringify(imageConfig)), MEDIA_TYPES.OCI_CONFIG, { lease, signal });

  const manifestAnnotations = { ...from?.manifest.annotations, ...annotations };
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.OCI_MANIFEST,
    config: configDescriptor,
    layers: [...(from?.manifest.layers ?? []).map(asOciLayer), ...written.map((w) => w.descriptor)],
    ...(Object.keys(manifestAnnotations).length > 0 ? { annotations: manifestAnnotations } : {}),
  };
  const manifestDescriptor = await writeBytesBlob(store.content, Buffer.from(JSON.stringify(manifest)), manifest.mediaType!, { lease, signal });
  signal?.throwIfAborted();
  await store.index.put(fullName, manifestDescriptor, { signal });
  log('built %s → %s (%d layers, %d new)', fullName, shortId(manifestDescriptor.digest), manifest.layers.length, written.length);
  return {
    name: fullName,
    manifestDescriptor,
    manifest,
    configDescriptor,
    config: imageConfig,
    layers: written,
    diffIds,
    chainId: chainId(diffIds),
  };
}
