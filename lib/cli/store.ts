import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { type ContainerkitError, newError } from '../errors/index.js';
// image-store.ts, not the images barrel: the verbs that only read the store must not load more than it.
import { ImageStore, type ImageStoreRegistry } from '../images/image-store.js';
import { normalizeReference } from '../oci/reference.js';
import { errnoOf, fsError } from '../util/fs-error.js';
import type { CliContext } from './command.js';

/** The image store's layout directory under the engine root. */
export function storeDir(ctx: CliContext): string {
  return join(ctx.root, 'content');
}

/**
 * Opens (creating it when missing) the image store at `<root>/content`, for the verbs that add to it (pull, load).
 * `registry` is the client pull and push use; the caller closes it.
 */
export function openCliStore(ctx: CliContext, registry?: ImageStoreRegistry): Promise<ImageStore> {
  return ImageStore.open(storeDir(ctx), { registry, signal: ctx.signal });
}

/**
 * Opens the image store at `<root>/content` only when it exists, for the verbs that read it or remove from it:
 * undefined when there is none, and nothing is created (docker lists no images on a fresh host; it does not make
 * one). @throws ERR_IO when the root cannot be read.
 */
export async function openExistingStore(ctx: CliContext, registry?: ImageStoreRegistry): Promise<ImageStore | undefined> {
  const layout = join(storeDir(ctx), 'oci-layout');
  try {
    await access(layout);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return undefined;
    throw fsError(err, 'read the image store', storeDir(ctx));
  }
  return ImageStore.open(storeDir(ctx), { registry, signal: ctx.signal });
}

/** The error the store gives for an image it does not have, for a store that does not exist. */
export function imageNotFound(ref: string): ContainerkitError {
  const name = normalizeReference(ref).toString();
  return newError('ERR_IMAGE_NOT_FOUND', `image ${name} not found`, { details: { name } });
}
