/**
 * The one way to read an image down to its rootfs: target → platform manifest → config → chain ID, with one set of
 * rules, over an injected read function (a content store, containerd's content, a pull in progress). Pure: the only
 * I/O is what `read` does.
 * @module
 */
import { newError } from '../errors/index.js';
import { chainIds as chainIdsOf } from './chain-id.js';
import type { Descriptor } from './descriptor.js';
import type { Digest } from './digest.js';
import type { ImageConfig } from './image-config.js';
import type { Manifest } from './manifest.js';
import { MAX_IMAGE_CONFIG_SIZE, MAX_MANIFEST_SIZE, parseImageConfig, parseManifestOrIndex } from './parse.js';
import { hostPlatform, type Platform } from './platform.js';
import { type PlatformMatcher, selectPlatform } from './platform-matcher.js';

/**
 * How many indexes may stand on the path from an image's target to its manifest, the target included (an index of
 * indexes of manifests is 2). Deeper nesting is refused with ERR_INVALID_MANIFEST: no tool writes more than two
 * levels, and each level is one more document a hostile registry can make us read. The stricter of the limits the
 * earlier copies had (4 and 5); containerd pulls allowed none at all, which refused real nested indexes.
 */
export const MAX_INDEX_DEPTH = 4;

/**
 * Reads a blob's bytes by descriptor. The resolver calls it only for descriptors whose `size` is within the
 * document caps, and parses what it returns against the descriptor (size, media type), so it need not check them.
 */
export type BlobReader = (descriptor: Descriptor) => Promise<Uint8Array>;

/** Options of {@link resolveImageTarget}. */
export interface ResolveImageTargetOptions {
  /** Which manifest of an index: the best match by the platform matcher's rules. Default: this host's platform. */
  platform?: Platform | string | PlatformMatcher;
  /** Checked before each read; the resolver then rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** An image read down to its config and chain IDs: what a container's spec and rootfs are made from. */
export interface ResolvedImageTarget {
  /** The descriptor the resolution started at (an index or a manifest). */
  target: Descriptor;
  /** The platform's manifest descriptor (the target itself when it is a manifest). */
  manifestDescriptor: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
  /** The chain ID of each layer, bottom first (a committed layer snapshot's name); empty for an image without layers. */
  chainIds: Digest[];
  /** The chain ID of the top layer (the parent of a container's rootfs snapshot); undefined without layers. */
  chainId?: Digest;
}

function tooLarge(descriptor: Descriptor, cap: number): never {
  throw newError('ERR_MANIFEST_TOO_LARGE', `${descriptor.mediaType} ${descriptor.digest} is ${descriptor.size} bytes, above ${cap}`, {
    details: { digest: descriptor.digest, size: descriptor.size, maxSize: cap },
  });
}

async function readDocument(read: BlobReader, descriptor: Descriptor, cap: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
  signal?.throwIfAborted();
  if (descriptor.size > cap) tooLarge(descriptor, cap);
  const bytes = await read(descriptor);
  signal?.throwIfAborted();
  return bytes;
}

/**
 * Throws ERR_INVALID_MANIFEST (`details.field` `rootfs.diff_ids`) unless the config lists one diff_id per layer of
 * the manifest. An image with no layers (docker's `FROM scratch` with only metadata) passes.
 */
export function checkLayerCount(manifest: Pick<Manifest, 'layers'>, config: Pick<ImageConfig, 'rootfs'>): void {
  const layers = manifest.layers.length;
  const diffIds = config.rootfs.diff_ids.length;
  if (layers !== diffIds) {
    throw newError('ERR_INVALID_MANIFEST', `image config lists ${diffIds} diff_ids for ${layers} layers`, {
      details: { field: 'rootfs.diff_ids', layers, diffIds },
    });
  }
}

/**
 * Reads the image at `target` down to its config, with `read` for the bytes:
 * - an index is resolved to its best entry for `platform` (entries without a platform never match), following at
 *   most {@link MAX_INDEX_DEPTH} indexes;
 * - each document is parsed strictly against the descriptor it was reached by (media types other than layers'
 *   are not enforced: a store keeps content it cannot run);
 * - the config must be for the platform its index entry promised (ERR_PLATFORM_MISMATCH) and list one diff_id per
 *   layer ({@link checkLayerCount}); an image with no layers is valid and has no chain ID.
 * @throws ERR_NO_MATCHING_PLATFORM; ERR_PLATFORM_MISMATCH; ERR_INVALID_MANIFEST (malformed, nested too deep, layer
 *   count); ERR_MANIFEST_TOO_LARGE; the parsers' other codes; what `read` throws; `signal.reason` on abort.
 */
export async function resolveImageTarget(target: Descriptor, read: BlobReader, options: ResolveImageTargetOptions = {}): Promise<ResolvedImageTarget> {
  const { platform = hostPlatform(), signal } = options;
  let manifestDescriptor = target;
  let doc = parseManifestOrIndex(await readDocument(read, target, MAX_MANIFEST_SIZE, signal), { expected: target, strictMediaTypes: false });
  for (let indexes = 1; doc.kind === 'index'; indexes++) {
    if (indexes > MAX_INDEX_DEPTH) {
      throw newError('ERR_INVALID_MANIFEST', `image ${target.digest}: more than ${MAX_INDEX_DEPTH} nested indexes`, { details: { digest: target.digest } });
    }
    manifestDescriptor = selectPlatform(doc.index.manifests, platform);
    const bytes = await readDocument(read, manifestDescriptor, MAX_MANIFEST_SIZE, signal);
    doc = parseManifestOrIndex(bytes, { expected: manifestDescriptor, strictMediaTypes: false });
  }
  const manifest = doc.manifest;
  // A manifest chosen from an index must have a config for the platform it was chosen by.
  const selectedFor = manifestDescriptor.platform === undefined ? {} : { platform: manifestDescriptor.platform };
  const configBytes = await readDocument(read, manifest.config, MAX_IMAGE_CONFIG_SIZE, signal);
  const config = parseImageConfig(configBytes, { expected: manifest.config, ...selectedFor });
  checkLayerCount(manifest, config);
  const chainIds = chainIdsOf(config.rootfs.diff_ids);
  const top = chainIds.at(-1);
  return { target, manifestDescriptor, manifest, config, chainIds, ...(top === undefined ? {} : { chainId: top }) };
}
