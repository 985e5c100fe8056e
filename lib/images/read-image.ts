/**
 * Reads a stored image down to its config: the target, the platform's manifest when the target is an index, and
 * the config, each parsed strictly and checked against its descriptor. ImageStore.get and buildImage share it.
 * @module
 */
import type { Provider } from '../content/index.js';
import {
  configPlatform,
  type Descriptor,
  type ImageConfig,
  imageContentSize,
  MAX_IMAGE_CONFIG_SIZE,
  type Manifest,
  type Platform,
  resolveImageTarget,
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

/**
 * The image `name` (pointing at `target`) with its manifest, config, platform and size, resolved by
 * `resolveImageTarget` (its rules: nested index depth, platform match, one diff_id per layer) over `provider`.
 * @throws ERR_NOT_FOUND when content is missing; ERR_NO_MATCHING_PLATFORM; ERR_PLATFORM_MISMATCH;
 *   ERR_INVALID_MANIFEST and the parsers' codes; ERR_SIZE_MISMATCH.
 */
export async function readImage(provider: Provider, name: string, target: Descriptor, options: ReadImageOptions): Promise<ImageDetails> {
  const { platform, signal, whenStored } = options;
  const read = async (descriptor: Descriptor): Promise<Buffer> => {
    await whenStored?.(descriptor, signal);
    // The resolver bounds each document's size by its kind before it asks.
    return readBlob(provider, descriptor, { signal, maxSize: MAX_IMAGE_CONFIG_SIZE });
  };
  const { manifestDescriptor, manifest, config } = await resolveImageTarget(target, read, { platform, signal });
  const size = imageContentSize(manifestDescriptor, manifest);
  return { name, target, manifestDescriptor, manifest, config, platform: configPlatform(config), size };
}
