import { ImageService } from '../../engine/image-service.js';
import { openSnapshotter } from '../../engine/rootfs.js';
import { newError } from '../../errors/index.js';
import type { Command } from '../command.js';
import { forEachTarget } from '../each-target.js';
import { imageNotFound, openExistingStore } from '../store.js';

/**
 * `containerkit rmi [-f] REF...`: removes image names through the Engine's image side, so an image a container is
 * built on is refused (ERR_IMAGE_IN_USE) unless `-f`; an image's last name takes its unused layers and content with
 * it. Prints `Untagged:` and `Deleted:` lines as docker; exit 1 when any name failed.
 */
export const rmiCommand: Command = {
  name: 'rmi',
  summary: 'Remove one or more images',
  usage: 'rmi [OPTIONS] REF [REF...]',
  options: { force: { type: 'boolean', short: 'f' } },
  async run(ctx, args) {
    if (args.positionals.length === 0) throw newError('ERR_INVALID_ARGUMENT', 'rmi needs at least one REF');
    const store = await openExistingStore(ctx);
    if (store === undefined) throw imageNotFound(args.positionals[0]!);
    // The image side alone: no shim is needed to tell which containers' snapshots an image carries.
    const images = new ImageService({ store, snapshotter: await openSnapshotter(ctx.root, { signal: ctx.signal }) });
    const force = args.values['force'] === true;
    return forEachTarget(ctx, 'rmi', args.positionals, async (ref) => {
      const removed = await images.removeImage(ref, { force, signal: ctx.signal });
      return [`Untagged: ${ref}`, ...(removed.gc?.removed ?? []).map((d) => `Deleted: ${d}`)];
    });
  },
};
