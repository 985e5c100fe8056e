import type { Readable } from 'node:stream';
import { importArchive } from '../../images/archive-import.js';
import type { Command } from '../command.js';
import { openInputFile } from '../files.js';
import { printable } from '../output.js';
import { openCliStore } from '../store.js';

/** `containerkit load [-i FILE] [--name REPO]`: loads images from an OCI or docker tarball (stdin without -i). */
export const loadCommand: Command = {
  name: 'load',
  summary: 'Load images from a tar archive',
  usage: 'load [-i FILE] [--name REPO]',
  options: { input: { type: 'string', short: 'i' }, name: { type: 'string' } },
  async run(ctx, args) {
    const file = args.values['input'] ?? args.positionals[0];
    const name = args.values['name'];
    // Opened before the store, so a missing file is a coded error and creates no store.
    const input = typeof file === 'string' ? await openInputFile(file) : (ctx.stdin as Readable);
    const store = await openCliStore(ctx).catch((err: unknown) => {
      input.destroy();
      throw err;
    });
    const result = await importArchive(store.content, input, { signal: ctx.signal, ...(typeof name === 'string' ? { name } : {}) });
    for (const image of result.imported) ctx.stdout.write(`Loaded image: ${printable(image.name)}\n`);
    for (const entry of result.unnamed)
      ctx.stdout.write(`Loaded image ID (no name): ${entry.digest}${entry.refName ? ` (ref.name ${printable(JSON.stringify(entry.refName))})` : ''}\n`);
  },
};
