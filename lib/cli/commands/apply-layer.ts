import { newError } from '../../errors/index.js';
import { type ApplyLayerOptions, applyLayer } from '../../unpack/index.js';
import type { Command } from '../command.js';
import { openInputFile } from '../files.js';
import { printable } from '../output.js';

/**
 * `containerkit apply-layer [--diff-id D] [--digest D] [--overlay] LAYER_FILE DEST`: applies one layer blob (gzip,
 * zstd or plain tar, detected from its first bytes) onto the directory DEST, whiteouts included, with every path
 * contained in DEST. A refused layer exits 1 with `containerkit: <reason> (<code>)`.
 */
export const applyLayerCommand: Command = {
  name: 'apply-layer',
  summary: 'Apply one image layer blob (gzip, zstd or tar) onto a directory',
  usage: 'apply-layer [--diff-id DIGEST] [--digest DIGEST] [--overlay] LAYER_FILE DEST',
  options: {
    'diff-id': { type: 'string' },
    digest: { type: 'string' },
    overlay: { type: 'boolean' },
  },
  async run(ctx, args) {
    const [layer, dest, ...extra] = args.positionals;
    if (layer === undefined || dest === undefined || extra.length > 0) throw newError('ERR_INVALID_ARGUMENT', 'apply-layer takes LAYER_FILE and DEST');
    const diffId = args.values['diff-id'];
    const digest = args.values.digest;
    const options: ApplyLayerOptions = {
      compression: 'auto',
      whiteoutFormat: args.values.overlay === true ? 'overlay' : 'apply',
      signal: ctx.signal,
      ...(typeof diffId === 'string' ? { expectedDiffId: diffId } : {}),
      ...(typeof digest === 'string' ? { expectedDigest: digest } : {}),
    };
    const result = await applyLayer(dest, await openInputFile(layer), options);
    ctx.stdout.write(`${result.diffId} ${result.compression} ${result.uncompressedSize}\n`);
    for (const skipped of result.skipped) ctx.stderr.write(`containerkit: skipped ${printable(`${JSON.stringify(skipped.path)}: ${skipped.reason}`)}\n`);
  },
};
