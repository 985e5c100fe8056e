import type { Writable } from 'node:stream';
import { newError } from '../../errors/index.js';
import { exportArchive } from '../../images/archive.js';
import type { Command } from '../command.js';
import { writeOutputFile } from '../files.js';
import { imageNotFound, openExistingStore } from '../store.js';

/** `containerkit save [-o FILE] [--format oci|docker] REF...`: writes images as a tarball (stdout without -o). */
export const saveCommand: Command = {
  name: 'save',
  summary: 'Save one or more images to a tar archive',
  usage: 'save [-o FILE] [--format oci|docker] REF [REF...]',
  options: { output: { type: 'string', short: 'o' }, format: { type: 'string' }, platform: { type: 'string' } },
  async run(ctx, args) {
    const refs = args.positionals;
    const format = args.values['format'] ?? 'oci';
    if (format !== 'oci' && format !== 'docker') throw newError('ERR_INVALID_ARGUMENT', '--format must be oci or docker');
    if (refs.length === 0) throw newError('ERR_INVALID_ARGUMENT', 'save needs at least one REF');
    const output = args.values['output'];
    const platform = args.values['platform'];
    const store = await openExistingStore(ctx);
    if (store === undefined) throw imageNotFound(refs[0]!);
    const options = { format, signal: ctx.signal, ...(typeof platform === 'string' ? { platform } : {}) } as const;
    if (typeof output !== 'string') {
      await exportArchive(store, refs, ctx.stdout as unknown as Writable, options);
      return;
    }
    // Written beside the target and renamed, so a failed save leaves no half-written archive.
    await writeOutputFile(output, (out) => exportArchive(store, refs, out, options));
  },
};
