import { newError } from '../../errors/index.js';
import type { Command } from '../command.js';
import { imageNotFound, openExistingStore } from '../store.js';

/** `containerkit rmi REF...`: removes image names, then collects unreferenced content. */
export const rmiCommand: Command = {
  name: 'rmi',
  summary: 'Remove one or more images',
  usage: 'rmi REF [REF...]',
  options: {},
  async run(ctx, args) {
    if (args.positionals.length === 0) throw newError('ERR_INVALID_ARGUMENT', 'rmi needs at least one REF');
    const store = await openExistingStore(ctx);
    if (store === undefined) throw imageNotFound(args.positionals[0]!);
    for (const ref of args.positionals) {
      await store.untag(ref, { signal: ctx.signal });
      ctx.stdout.write(`Untagged: ${ref}\n`);
    }
    const result = await store.gc({ signal: ctx.signal });
    for (const digest of result.removed) ctx.stdout.write(`Deleted: ${digest}\n`);
  },
};
