/**
 * Reads a stored image down to its config: the target, the platform's manifest when the target is an index, and
 * the config, each parsed strictly and checked against its descriptor. ImageStore.get and buildImage share it.
 * @module
 */
import type { Provider } from '../content/index.js';
import { newError } from '../errors/index.js';
import {
  configPlatform,
  imageContentSize,
  parseImageConfig,
  parseManifestOrIndex,
  selectPlatform,
  type Descriptor,
  type ImageConfig,
  type Manifest,
  type Platform,
} from '../oci/index.js';
import { readBlob } from './children.js';
import type { NamedImage } from './image-index.js';
import type { WhenStored } from './pull-unpack.js';

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

/** Options of {@link readImage}. */
export interface ReadImageOptions {
  /** Which manifest of an index. */
  platform: Platform | string;
  signal?: AbortSignal | undefined;
  /** When given, each blob is read only once it resolves (a pull in progress). */
  whenStored?: WhenStored | undefined;
}

// Nested indexes deeper than this are refused rather than followed.
const MAX_INDEX_DEPTH = 4;
/** Configs are small; this bounds what a hostile one can make us buffer. */
const MAX_CONFIG_SIZE = 8 * 1024 * 1024;

/**
 * The image `name` (pointing at `target`) with its manifest, config, platform and size.
 * @throws ERR_NOT_FOUND when content is missing; ERR_NO_MATCHING_PLATFORM; ERR_INVALID_MANIFEST and the parsers'
 *   codes; ERR_SIZE_MISMATCH.
 */
export async function readImage(provider: Provider, name: string, target: Descriptor, options: ReadImageOptions): Promise<ImageDetails> {
  const { platform, signal, whenStored } = options;
  await whenStored?.(target, signal);
  let manifestDescriptor = target;
  let parsed = parseManifestOrIndex(await readBlob(provider, target, { signal }), { expected: target, strictMediaTypes: false });
  for (let depth = 0; parsed.kind === 'index'; depth++) {
    if (depth > MAX_INDEX_DEPTH) throw newError('ERR_INVALID_MANIFEST', `image ${name}: indexes nested too deep`);
    manifestDescriptor = selectPlatform(parsed.index.manifests.filter((m) => m.platform !== undefined), platform);
    await whenStored?.(manifestDescriptor, signal);
    parsed = parseManifestOrIndex(await readBlob(provider, manifestDescriptor, { signal }), { expected: manifestDescriptor, strictMediaTypes: false });
  }
  const manifest = parsed.manifest;
  await whenStored?.(manifest.config, signal);
  // A manifest chosen from an index must have a config for the platform it was chosen by.
  const selectedFor = manifestDescriptor.platform === undefined ? {} : { platform: manifestDescriptor.platform };
  const config = parseImageConfig(await readBlob(provider, manifest.config, { signal, maxSize: MAX_CONFIG_SIZE }), { expected: manifest.config, ...selectedFor });
  const size = imageContentSize(manifestDescriptor, manifest);
  return { name, target, manifestDescriptor, manifest, config, platform: configPlatform(config), size };
}
