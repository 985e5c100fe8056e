import { newError } from '../errors/index.js';

/**
 * The media types containerkit knows, by role. OCI types are from the OCI image-spec (v1.1); Docker types are
 * from Docker's image manifest v2 schema 2. Schema 1 types are listed only so that they can be detected and
 * refused with a clear error (ERR_SCHEMA1_UNSUPPORTED).
 */
export const MEDIA_TYPES = {
  /** OCI image manifest. */
  OCI_MANIFEST: 'application/vnd.oci.image.manifest.v1+json',
  /** OCI image index (a list of manifests, usually one per platform). */
  OCI_INDEX: 'application/vnd.oci.image.index.v1+json',
  /** OCI image configuration. */
  OCI_CONFIG: 'application/vnd.oci.image.config.v1+json',
  /** OCI layer, uncompressed tar. */
  OCI_LAYER: 'application/vnd.oci.image.layer.v1.tar',
  /** OCI layer, gzip-compressed tar. */
  OCI_LAYER_GZIP: 'application/vnd.oci.image.layer.v1.tar+gzip',
  /** OCI layer, zstd-compressed tar. */
  OCI_LAYER_ZSTD: 'application/vnd.oci.image.layer.v1.tar+zstd',
  /** OCI non-distributable layer, uncompressed tar (deprecated by the spec, still found in the wild). */
  OCI_LAYER_NONDISTRIBUTABLE: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  /** OCI non-distributable layer, gzip-compressed tar. */
  OCI_LAYER_NONDISTRIBUTABLE_GZIP: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  /** OCI non-distributable layer, zstd-compressed tar. */
  OCI_LAYER_NONDISTRIBUTABLE_ZSTD: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  /** The OCI empty descriptor's type: the two bytes `{}`, used as a placeholder config or layer by artifacts. */
  OCI_EMPTY: 'application/vnd.oci.empty.v1+json',
  /** Docker image manifest v2, schema 2. */
  DOCKER_MANIFEST: 'application/vnd.docker.distribution.manifest.v2+json',
  /** Docker manifest list (Docker's counterpart of the OCI index). */
  DOCKER_MANIFEST_LIST: 'application/vnd.docker.distribution.manifest.list.v2+json',
  /** Docker container image configuration. */
  DOCKER_CONFIG: 'application/vnd.docker.container.image.v1+json',
  /** Docker layer, uncompressed tar (written by some tools, accepted by containerd). */
  DOCKER_LAYER: 'application/vnd.docker.image.rootfs.diff.tar',
  /** Docker layer, gzip-compressed tar: the usual Docker layer. */
  DOCKER_LAYER_GZIP: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  /** Docker layer, zstd-compressed tar (non-standard, accepted by containerd). */
  DOCKER_LAYER_ZSTD: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  /** Docker foreign layer, uncompressed tar: fetched from its `urls`, not pushed to registries. */
  DOCKER_LAYER_FOREIGN: 'application/vnd.docker.image.rootfs.foreign.diff.tar',
  /** Docker foreign layer, gzip-compressed tar (Windows base layers). */
  DOCKER_LAYER_FOREIGN_GZIP: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  /** Docker schema 1 manifest, unsigned. Detected only, never supported. */
  DOCKER_SCHEMA1_MANIFEST: 'application/vnd.docker.distribution.manifest.v1+json',
  /** Docker schema 1 manifest, signed (JWS). Detected only, never supported. */
  DOCKER_SCHEMA1_SIGNED_MANIFEST: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** One of the media types containerkit knows (see {@link MEDIA_TYPES}). Descriptors may carry any other string. */
export type MediaType = (typeof MEDIA_TYPES)[keyof typeof MEDIA_TYPES];

/** How a layer's tar stream is compressed. */
export type LayerCompression = 'gzip' | 'zstd' | 'none';

const M = MEDIA_TYPES;

const INDEX_TYPES: ReadonlySet<string> = new Set([M.OCI_INDEX, M.DOCKER_MANIFEST_LIST]);
const MANIFEST_TYPES: ReadonlySet<string> = new Set([M.OCI_MANIFEST, M.DOCKER_MANIFEST]);
const CONFIG_TYPES: ReadonlySet<string> = new Set([M.OCI_CONFIG, M.DOCKER_CONFIG]);
const SCHEMA1_TYPES: ReadonlySet<string> = new Set([M.DOCKER_SCHEMA1_MANIFEST, M.DOCKER_SCHEMA1_SIGNED_MANIFEST]);
const NON_DISTRIBUTABLE_TYPES: ReadonlySet<string> = new Set([
  M.OCI_LAYER_NONDISTRIBUTABLE,
  M.OCI_LAYER_NONDISTRIBUTABLE_GZIP,
  M.OCI_LAYER_NONDISTRIBUTABLE_ZSTD,
  M.DOCKER_LAYER_FOREIGN,
  M.DOCKER_LAYER_FOREIGN_GZIP,
]);
const LAYER_COMPRESSION: ReadonlyMap<string, LayerCompression> = new Map<string, LayerCompression>([
  [M.OCI_LAYER, 'none'],
  [M.OCI_LAYER_GZIP, 'gzip'],
  [M.OCI_LAYER_ZSTD, 'zstd'],
  [M.OCI_LAYER_NONDISTRIBUTABLE, 'none'],
  [M.OCI_LAYER_NONDISTRIBUTABLE_GZIP, 'gzip'],
  [M.OCI_LAYER_NONDISTRIBUTABLE_ZSTD, 'zstd'],
  [M.DOCKER_LAYER, 'none'],
  [M.DOCKER_LAYER_GZIP, 'gzip'],
  [M.DOCKER_LAYER_ZSTD, 'zstd'],
  [M.DOCKER_LAYER_FOREIGN, 'none'],
  [M.DOCKER_LAYER_FOREIGN_GZIP, 'gzip'],
]);
const KNOWN_TYPES: ReadonlySet<string> = new Set(Object.values(MEDIA_TYPES));

/**
 * The media types to send in `Accept` when resolving a reference, most preferred first: OCI index, OCI
 * manifest, Docker manifest list, Docker schema 2 manifest. Schema 1 is left out on purpose, so a registry that
 * can convert will not hand us a format we refuse.
 */
export const MANIFEST_ACCEPT: readonly MediaType[] = Object.freeze([M.OCI_INDEX, M.OCI_MANIFEST, M.DOCKER_MANIFEST_LIST, M.DOCKER_MANIFEST]);

/** {@link MANIFEST_ACCEPT} joined for an HTTP `Accept` header. */
export const MANIFEST_ACCEPT_HEADER: string = MANIFEST_ACCEPT.join(', ');

// RFC 6838 restricted names for type and subtype, which is what the OCI descriptor grammar asks for. Parameters
// (`; charset=…`) are not part of a descriptor's media type.
const MEDIA_TYPE_SYNTAX = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** Whether `value` is a syntactically valid media type (`type/subtype`, RFC 6838 names, no parameters). */
export function isWellFormedMediaType(value: unknown): value is string {
  return typeof value === 'string' && MEDIA_TYPE_SYNTAX.test(value);
}

/** Whether `mediaType` is one of the types listed in {@link MEDIA_TYPES}. */
export function isKnownMediaType(mediaType: string): mediaType is MediaType {
  return KNOWN_TYPES.has(mediaType);
}

/** Whether `mediaType` is an OCI image index or a Docker manifest list. */
export function isIndexMediaType(mediaType: string): boolean {
  return INDEX_TYPES.has(mediaType);
}

/** Whether `mediaType` is an OCI image manifest or a Docker schema 2 manifest (schema 1 is not). */
export function isManifestMediaType(mediaType: string): boolean {
  return MANIFEST_TYPES.has(mediaType);
}

/** Whether `mediaType` is an image configuration (OCI or Docker). Artifact configs are not. */
export function isConfigMediaType(mediaType: string): boolean {
  return CONFIG_TYPES.has(mediaType);
}

/** Whether `mediaType` is a Docker schema 1 manifest (which containerkit detects and refuses). */
export function isSchema1MediaType(mediaType: string): boolean {
  return SCHEMA1_TYPES.has(mediaType);
}

/** Whether `mediaType` is an image layer containerkit can unpack (any OCI or Docker layer type listed above). */
export function isLayerMediaType(mediaType: string): boolean {
  return LAYER_COMPRESSION.has(mediaType);
}

/**
 * Whether `mediaType` is a layer that must not be pushed to registries (OCI non-distributable, Docker foreign).
 * Such layers are fetched from their descriptor's `urls` and are usually left out when copying an image.
 */
export function isNonDistributableLayer(mediaType: string): boolean {
  return NON_DISTRIBUTABLE_TYPES.has(mediaType);
}

/** Same as {@link isNonDistributableLayer}; "foreign" is Docker's word for the same thing. */
export const isForeignLayer: (mediaType: string) => boolean = isNonDistributableLayer;

/**
 * The compression of a layer of type `mediaType`.
 *
 * @throws ERR_UNSUPPORTED_MEDIA_TYPE when `mediaType` is not a known layer type ({@link isLayerMediaType}),
 *   because guessing the compression of an unknown blob would unpack garbage.
 */
export function layerCompression(mediaType: string): LayerCompression {
  const compression = LAYER_COMPRESSION.get(mediaType);
  if (compression === undefined) {
    throw newError('ERR_UNSUPPORTED_MEDIA_TYPE', `${JSON.stringify(mediaType)} is not a known layer media type`, {
      details: { mediaType },
    });
  }
  return compression;
}
