import { newError } from '../../errors/index.js';
import type { Command } from '../command.js';
import { printableJson } from '../output.js';
import { imageNotFound, openExistingStore } from '../store.js';

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
      const d = await store.get(ref, { signal: ctx.signal });
      out.push({
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
      });
    }
    ctx.stdout.write(`${printableJson(out, 4)}\n`);
  },
};
