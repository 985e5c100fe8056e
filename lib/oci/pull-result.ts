/**
 * What a pull hands to the next step, with the same field names whichever backend pulled (`ImageStore.pull`,
 * `containerdPull`): the spec is made from `config`, a container's rootfs snapshot is prepared on `chainId`.
 * @module
 */
import type { Descriptor } from './descriptor.js';
import type { Digest } from './digest.js';
import type { ImageConfig } from './image-config.js';

/** The result of a pull, common to every backend; a backend's result may add its own fields. */
export interface PullResult {
  /** The normalised reference pulled, e.g. `docker.io/library/busybox:latest`: the image's name in the store. */
  name: string;
  /** The descriptor the reference resolved to (an index or a manifest). */
  target: Descriptor;
  /** The platform's manifest (the target itself when it is a manifest). */
  manifestDescriptor: Descriptor;
  /** The image config, parsed and checked against the manifest. */
  config: ImageConfig;
  /** The top layer's chain ID: set when the pull unpacked the image and the image has layers. */
  chainId?: Digest;
}
