import type { Command } from '../command.js';
import { openExistingStore } from '../store.js';

/** `containerkit gc [--dry-run]`: removes blobs no image, lease or root references, and stale ingests. */
export const gcCommand: Command = {
  name: 'gc',
  summary: 'Remove unreferenced content',
  usage: 'gc [--dry-run]',
  options: { 'dry-run': { type: 'boolean' } },
  async run(ctx, args) {
    const store = await openExistingStore(ctx);
    const result =
      store === undefined ? { removed: [], freedBytes: 0, ingests: [] } : await store.gc({ dryRun: args.values['dry-run'] === true, signal: ctx.signal });
    for (const d of result.removed) ctx.stdout.write(`${args.values['dry-run'] === true ? 'would remove' : 'removed'}: ${d}\n`);
    ctx.stdout.write(`${result.removed.length} blobs, ${result.freedBytes} bytes; ${result.ingests.length} ingests\n`);
  },
};
