import { newError } from '../../errors/index.js';
import type { Command } from '../command.js';
import { imageNotFound, openExistingStore } from '../store.js';

/** `containerkit tag SOURCE TARGET`: names a stored image also as TARGET. */
export const tagCommand: Command = {
  name: 'tag',
  summary: 'Create a tag TARGET that refers to SOURCE',
  usage: 'tag SOURCE TARGET',
  options: {},
  async run(ctx, args) {
    const [source, target, ...extra] = args.positionals;
    if (source === undefined || target === undefined || extra.length > 0) throw newError('ERR_INVALID_ARGUMENT', 'tag takes SOURCE and TARGET');
    const store = await openExistingStore(ctx);
    if (store === undefined) throw imageNotFound(source);
    await store.tag(source, target, { signal: ctx.signal });
  },
};
