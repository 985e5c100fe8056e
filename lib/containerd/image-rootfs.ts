import { newError } from '../errors/index.js';
import { chainId } from '../oci/chain-id.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { ImageConfig } from '../oci/image-config.js';
import type { Manifest } from '../oci/manifest.js';
import { parseImageConfig, parseManifestOrIndex } from '../oci/parse.js';
import { selectPlatform } from '../oci/platform-matcher.js';
import { hostPlatform, type Platform } from '../oci/platform.js';
import type { ContentProxy } from './content-proxy.js';
import type { ImageRecord, ImagesService } from './images.js';
import type { ContainerdCallOptions } from './middleware.js';

/** Options of {@link resolveImage}. */
export interface ResolveImageOptions extends ContainerdCallOptions {
  /** Which platform of an index. Default: this host's. */
  platform?: Platform | string;
}

/** An image of containerd, read down to its config: what a container's spec and rootfs are made from. */
export interface ResolvedImage {
  record: ImageRecord;
  /** The platform's manifest descriptor (the target itself when it is a manifest). */
  manifestDescriptor: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
  /** The chain ID of the top layer: the committed snapshot a container's rootfs is prepared on. */
  chainId: string;
}

// Nested indexes deeper than this are refused rather than followed.
const MAX_INDEX_DEPTH = 4;

/**
 * Reads image `name` from containerd: its record, the platform's manifest and config (each verified against its
 * descriptor), and the rootfs chain ID, as the Go client's `image.RootFS` + `identity.ChainID`.
 * @throws ERR_CONTAINERD_NOT_FOUND for an unknown image or missing content; ERR_NO_MATCHING_PLATFORM;
 *   ERR_INVALID_MANIFEST for an image whose config lists no layers or another count than its manifest.
 */
export async function resolveImage(
  services: { images: ImagesService; content: ContentProxy },
  name: string,
  options: ResolveImageOptions = {},
): Promise<ResolvedImage> {
  const { platform = hostPlatform(), ...call } = options;
  const record = await services.images.get(name, call);
  let manifestDescriptor = record.target;
  let doc = parseManifestOrIndex(await services.content.readAll(manifestDescriptor.digest, call), { expected: manifestDescriptor, strictMediaTypes: false });
  for (let depth = 0; doc.kind === 'index'; depth++) {
    if (depth >= MAX_INDEX_DEPTH) throw newError('ERR_INVALID_MANIFEST', `image ${name}: indexes nested too deep`);
    manifestDescriptor = selectPlatform(doc.index.manifests, platform);
    doc = parseManifestOrIndex(await services.content.readAll(manifestDescriptor.digest, call), { expected: manifestDescriptor, strictMediaTypes: false });
  }
  const manifest = doc.manifest;
  const selectedFor = manifestDescriptor.platform === undefined ? {} : { platform: manifestDescriptor.platform };
  const config = parseImageConfig(await services.content.readAll(manifest.config.digest, call), { expected: manifest.config, ...selectedFor });
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length === 0 || diffIds.length !== manifest.layers.length) {
    throw newError('ERR_INVALID_MANIFEST', `image ${name}: ${manifest.layers.length} layers but ${diffIds.length} diff_ids`, { details: { name } });
  }
  return { record, manifestDescriptor, manifest, config, chainId: chainId(diffIds) };
}
