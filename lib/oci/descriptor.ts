import type { Digest } from './digest.js';
import type { Platform } from './platform.js';

/**
 * The `platform` object of a descriptor in an index, as it appears on the wire (OCI image-spec `image-index.md`):
 * a {@link Platform} plus the spec's reserved `features`.
 */
export interface DescriptorPlatform extends Platform {
  /** Reserved by the spec for future use. */
  features?: string[];
}

/**
 * A content descriptor: the typed, sized, content-addressed pointer that links manifests, indexes, configs and
 * layers (OCI image-spec `descriptor.md`). Parsed descriptors keep any extra fields they carried.
 */
export interface Descriptor {
  /** The media type of the referenced content. Any well-formed media type; see `MEDIA_TYPES` for known ones. */
  mediaType: string;
  /** The digest of the referenced bytes. */
  digest: Digest;
  /** The size of the referenced bytes; a non-negative safe integer. */
  size: number;
  /** Where the content may also be downloaded from (non-distributable / foreign layers). */
  urls?: string[];
  /** Arbitrary metadata. Keys in {@link ANNOTATIONS} have defined meanings. */
  annotations?: Record<string, string>;
  /** The platform an index entry is for. Only meaningful on entries of an index's `manifests`. */
  platform?: DescriptorPlatform;
  /** The artifact type of the referenced manifest, when it is an artifact. */
  artifactType?: string;
  /** The referenced content itself, base64-encoded (RFC 4648), embedded to save a round trip. */
  data?: string;
}

/**
 * Well-known annotation keys (OCI image-spec `annotations.md`). containerkit's own store names images with
 * {@link ANNOTATIONS.REF_NAME} in its `index.json`, as OCI image layouts do.
 */
export const ANNOTATIONS = {
  /** Date and time the image was built (RFC 3339). */
  CREATED: 'org.opencontainers.image.created',
  /** Contact details of the people or organisation responsible for the image. */
  AUTHORS: 'org.opencontainers.image.authors',
  /** URL to find more information on the image. */
  URL: 'org.opencontainers.image.url',
  /** URL to get documentation on the image. */
  DOCUMENTATION: 'org.opencontainers.image.documentation',
  /** URL to get the source code for building the image. */
  SOURCE: 'org.opencontainers.image.source',
  /** Version of the packaged software. */
  VERSION: 'org.opencontainers.image.version',
  /** Source control revision identifier of the packaged software. */
  REVISION: 'org.opencontainers.image.revision',
  /** Name of the distributing entity. */
  VENDOR: 'org.opencontainers.image.vendor',
  /** License(s) of the contained software, as an SPDX expression. */
  LICENSES: 'org.opencontainers.image.licenses',
  /** Name of a reference (a tag, or a fully qualified reference) for the target, used in OCI layouts' index.json. */
  REF_NAME: 'org.opencontainers.image.ref.name',
  /** Human-readable title of the image. */
  TITLE: 'org.opencontainers.image.title',
  /** Human-readable description of the software packaged in the image. */
  DESCRIPTION: 'org.opencontainers.image.description',
  /** Digest of the image this image is based on. */
  BASE_DIGEST: 'org.opencontainers.image.base.digest',
  /** Image reference of the image this image is based on. */
  BASE_NAME: 'org.opencontainers.image.base.name',
  /** containerd's key for the full image name of an entry in an exported OCI archive. */
  CONTAINERD_IMAGE_NAME: 'io.containerd.image.name',
} as const;

/** One of the well-known annotation keys listed in {@link ANNOTATIONS}. */
export type WellKnownAnnotation = (typeof ANNOTATIONS)[keyof typeof ANNOTATIONS];

/**
 * What the descriptor some bytes were fetched through says about them; the parsers check the bytes against it.
 * Any {@link Descriptor} fits. `size`, when given, must equal the byte length.
 */
export interface ExpectedContent {
  /** The media type the descriptor (or the registry's Content-Type) announced. */
  mediaType: string;
  /** The size the descriptor announced. */
  size?: number;
}
