import type { Command } from '../command.js';
import { openExistingStore } from '../store.js';

/** `containerkit verify [--remove-corrupt]`: re-hashes every blob; exits 1 when any is corrupt or missing. */
export const verifyCommand: Command = {
  name: 'verify',
  summary: 'Check every stored blob against its digest',
  usage: 'verify [--remove-corrupt]',
  options: { 'remove-corrupt': { type: 'boolean' } },
  async run(ctx, args) {
    const store = await openExistingStore(ctx);
    const empty = { checked: 0, corrupt: [], missing: [], removed: [] };
    const result = store === undefined ? empty : await store.verify({ removeCorrupt: args.values['remove-corrupt'] === true, signal: ctx.signal });
    for (const d of result.corrupt) ctx.stdout.write(`corrupt: ${d}${result.removed.includes(d) ? ' (removed)' : ''}\n`);
    for (const d of result.missing) ctx.stdout.write(`missing: ${d}\n`);
    ctx.stdout.write(`checked ${result.checked} blobs: ${result.corrupt.length} corrupt, ${result.missing.length} missing\n`);
    return result.corrupt.length + result.missing.length > 0 ? 1 : 0;
  },
};
