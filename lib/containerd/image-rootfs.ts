import type { Descriptor } from '../oci/descriptor.js';
import type { Platform } from '../oci/platform.js';
import type { PlatformMatcher } from '../oci/platform-matcher.js';
import { type ResolvedImageTarget, resolveImageTarget } from '../oci/resolve-image.js';
import type { ContentProxy } from './content-proxy.js';
import type { ImageRecord, ImagesService } from './images.js';
import type { ContainerdCallOptions } from './middleware.js';

/** Options of {@link resolveImage}. */
export interface ResolveImageOptions extends ContainerdCallOptions {
  /** Which platform of an index. Default: this host's. */
  platform?: Platform | string | PlatformMatcher;
}

/**
 * An image of containerd, read down to its config: what a container's spec and rootfs are made from. `chainId` (the
 * committed snapshot a container's rootfs is prepared on) is absent for an image without layers.
 */
export interface ResolvedImage extends ResolvedImageTarget {
  record: ImageRecord;
}

/**
 * Reads image `name` from containerd: its record, then `resolveImageTarget` over containerd's content (the platform's
 * manifest and config, each verified against its descriptor, and the chain IDs), as the Go client's
 * `image.RootFS` + `identity.ChainID`.
 * @throws ERR_CONTAINERD_NOT_FOUND for an unknown image or missing content; ERR_NO_MATCHING_PLATFORM;
 *   ERR_PLATFORM_MISMATCH; ERR_INVALID_MANIFEST (as `resolveImageTarget`: nesting, another diff_ids count than layers).
 */
export async function resolveImage(
  services: { images: ImagesService; content: Pick<ContentProxy, 'readAll'> },
  name: string,
  options: ResolveImageOptions = {},
): Promise<ResolvedImage> {
  const { platform, ...call } = options;
  const record = await services.images.get(name, call);
  const read = (d: Descriptor): Promise<Buffer> => services.content.readAll(d.digest, call);
  const resolved = await resolveImageTarget(record.target, read, {
    ...(platform === undefined ? {} : { platform }),
    ...(call.signal ? { signal: call.signal } : {}),
  });
  return { record, ...resolved };
}
