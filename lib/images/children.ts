/**
 * The handler that finds a descriptor's children by reading it from a content {@link Provider}: an index's
 * manifests, a manifest's config and layers; blobs have none.
 * @module
 */
import type { Provider } from '../content/index.js';
import { newError } from '../errors/index.js';
import { type Descriptor, isIndexMediaType, isManifestMediaType, MAX_MANIFEST_SIZE, parseManifestOrIndex } from '../oci/index.js';
import type { Handler } from './handlers.js';

/** Whether `mediaType` is a manifest or an index (content with children). */
export function hasChildren(mediaType: string): boolean {
  return isManifestMediaType(mediaType) || isIndexMediaType(mediaType);
}

/**
 * Reads a whole blob (at most `maxSize` bytes) and checks it has `descriptor.size` bytes.
 * @throws ERR_NOT_FOUND; ERR_SIZE_MISMATCH; ERR_MANIFEST_TOO_LARGE above `maxSize`.
 */
export async function readBlob(
  provider: Provider,
  descriptor: Pick<Descriptor, 'digest' | 'size'>,
  options: { signal?: AbortSignal; maxSize?: number } = {},
): Promise<Buffer> {
  const { maxSize = MAX_MANIFEST_SIZE, signal } = options;
  const reader = await provider.readerAt(descriptor.digest, { signal });
  try {
    if (reader.size > maxSize) throw newError('ERR_MANIFEST_TOO_LARGE', `blob ${descriptor.digest} is ${reader.size} bytes, above ${maxSize}`);
    if (reader.size !== descriptor.size) {
      throw newError('ERR_SIZE_MISMATCH', `blob ${descriptor.digest} has ${reader.size} bytes, descriptor says ${descriptor.size}`, {
        details: { expectedSize: descriptor.size, actualSize: reader.size },
      });
    }
    return await reader.read(0, reader.size, { signal });
  } finally {
    await reader.close();
  }
}

/**
 * The children of `descriptor` read from `provider`: parsed strictly (`strictMediaTypes: false`, since a store
 * must keep content it cannot run). Blobs that are neither manifests nor indexes have no children.
 * @throws ERR_NOT_FOUND when the manifest is not in the store; the parser's codes.
 */
export async function childrenOf(provider: Provider, descriptor: Descriptor, options: { signal?: AbortSignal } = {}): Promise<Descriptor[]> {
  if (!hasChildren(descriptor.mediaType)) return [];
  const bytes = await readBlob(provider, descriptor, options);
  const parsed = parseManifestOrIndex(bytes, { expected: descriptor, strictMediaTypes: false });
  return parsed.kind === 'index' ? parsed.index.manifests : [parsed.manifest.config, ...parsed.manifest.layers];
}

/** A {@link Handler} returning {@link childrenOf} each descriptor. */
export function childrenHandler(provider: Provider): Handler {
  return (descriptor, { signal }) => childrenOf(provider, descriptor, { signal });
}
