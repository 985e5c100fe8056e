import type { Descriptor } from './descriptor.js';
import { isConfigMediaType } from './media-types.js';

/**
 * An image manifest: OCI image manifest or Docker schema 2 manifest (OCI image-spec `manifest.md`). Also the shape
 * of OCI artifacts, which set `artifactType` or use a non-image config. Parsed manifests keep any extra fields.
 */
export interface Manifest {
  /** Always 2. Schema 1 is refused by the parser. */
  schemaVersion: 2;
  /** The manifest's own media type. Optional for OCI (then known from the descriptor), set by Docker. */
  mediaType?: string;
  /** The type of artifact this manifest describes, when it is not a runnable image. */
  artifactType?: string;
  /** The image configuration (or the artifact's config, often the OCI empty descriptor). */
  config: Descriptor;
  /** The layers, base first. May be empty for artifacts. */
  layers: Descriptor[];
  /** The manifest this one refers to (referrers API: signatures, SBOMs, attestations). */
  subject?: Descriptor;
  /** Arbitrary metadata; see `ANNOTATIONS`. */
  annotations?: Record<string, string>;
}

/**
 * An image index: OCI image index or Docker manifest list (OCI image-spec `image-index.md`). Also the format of an
 * OCI layout's `index.json`. Parsed indexes keep any extra fields.
 */
export interface ImageIndex {
  /** Always 2. */
  schemaVersion: 2;
  /** The index's own media type. Optional for OCI, set by Docker. */
  mediaType?: string;
  /** The type of artifact this index describes, when it is one. */
  artifactType?: string;
  /** The manifests (or nested indexes) listed, usually one per platform, with `platform` set. */
  manifests: Descriptor[];
  /** The manifest this one refers to (referrers API). */
  subject?: Descriptor;
  /** Arbitrary metadata; see `ANNOTATIONS`. */
  annotations?: Record<string, string>;
}

/**
 * Whether `manifest` describes a runnable image rather than an artifact: it has no `artifactType` and its config
 * is an image configuration (OCI or Docker). Only images have layers an unpacker may apply.
 */
export function isImageManifest(manifest: Pick<Manifest, 'artifactType' | 'config'>): boolean {
  return manifest.artifactType === undefined && isConfigMediaType(manifest.config.mediaType);
}

/** The bytes an image occupies as stored: its manifest (`descriptor`), config and layers (compressed). */
export function imageContentSize(descriptor: Pick<Descriptor, 'size'>, manifest: Pick<Manifest, 'config' | 'layers'>): number {
  return descriptor.size + manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
}
