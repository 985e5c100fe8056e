import { newError } from '../../errors/index.js';
import { RegistryClient } from '../../registry/registry-client.js';
import type { Command } from '../command.js';
import { imageNotFound, openExistingStore } from '../store.js';

/** `containerkit push REF`: pushes a stored image to its registry. */
export const pushCommand: Command = {
  name: 'push',
  summary: 'Upload an image to a registry',
  usage: 'push REF',
  options: {},
  async run(ctx, args) {
    const [ref, ...extra] = args.positionals;
    if (ref === undefined || extra.length > 0) throw newError('ERR_INVALID_ARGUMENT', 'push takes exactly one REF');
    const registry = new RegistryClient();
    try {
      const store = await openExistingStore(ctx, registry);
      if (store === undefined) throw imageNotFound(ref);
      const root = await store.push(ref, undefined, { signal: ctx.signal });
      ctx.stdout.write(`digest: ${root.digest} size: ${root.size}\n`);
    } finally {
      registry.close();
    }
  },
};
