import { newError } from '../../errors/index.js';
import type { ImageDetails } from '../../images/image-store.js';
import type { Command } from '../command.js';
import { printableJson } from '../output.js';
import { imageNotFound, openExistingStore } from '../store.js';

/** docker's `image inspect` document of a stored image (the fields containerkit has). */
export function imageInspectDoc(d: ImageDetails): Record<string, unknown> {
  return {
    Id: d.manifest.config.digest,
    RepoTags: [d.name],
    RepoDigests: [`${d.name.replace(/:[^:/]+$/, '')}@${d.target.digest}`],
    Created: d.config.created,
    Architecture: d.platform.architecture,
    Os: d.platform.os,
    ...(d.platform.variant ? { Variant: d.platform.variant } : {}),
    Size: d.size,
    Config: d.config.config ?? {},
    RootFS: { Type: 'layers', Layers: d.config.rootfs.diff_ids },
    Descriptor: d.target,
    Manifest: d.manifestDescriptor,
  };
}

/** `containerkit image inspect REF...`: prints a JSON array describing each image, like docker. */
export const imageCommand: Command = {
  name: 'image',
  summary: 'Manage images (image inspect REF...)',
  usage: 'image inspect REF [REF...]',
  options: {},
  async run(ctx, args) {
    const [sub, ...refs] = args.positionals;
    if (sub !== 'inspect' || refs.length === 0) throw newError('ERR_INVALID_ARGUMENT', 'usage: image inspect REF [REF...]');
    const store = await openExistingStore(ctx);
    const out = [];
    for (const ref of refs) {
      if (store === undefined) throw imageNotFound(ref);
      out.push(imageInspectDoc(await store.get(ref, { signal: ctx.signal })));
    }
    ctx.stdout.write(`${printableJson(out, 4)}\n`);
  },
};
