import { hasCode, newError } from '../../errors/index.js';
import type { Command } from '../command.js';
import { withEngine } from '../engine.js';
import { printable, printableJson } from '../output.js';
import { imageInspectDoc } from './image.js';

/**
 * `containerkit inspect NAME...`: each name as a container first, then as an image (docker's order), printed as
 * one JSON array; a name that is neither prints `Error: No such object: NAME` on stderr and the exit code is 1.
 */
export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'Return low-level information on containers and images',
  usage: 'inspect NAME [NAME...]',
  options: {},
  async run(ctx, args) {
    if (args.positionals.length === 0) throw newError('ERR_INVALID_ARGUMENT', 'inspect needs at least one NAME');
    let missing = false;
    const docs = await withEngine(ctx, async (engine) => {
      const out: unknown[] = [];
      for (const ref of args.positionals) {
        try {
          out.push(await engine.inspect(ref, { signal: ctx.signal }));
          continue;
        } catch (err) {
          if (!hasCode(err, 'ERR_NO_SUCH_CONTAINER')) throw err;
        }
        try {
          out.push(imageInspectDoc(await engine.inspectImage(ref, { signal: ctx.signal })));
        } catch (err) {
          if (!hasCode(err, 'ERR_IMAGE_NOT_FOUND') && !hasCode(err, 'ERR_INVALID_REFERENCE')) throw err;
          missing = true;
          ctx.stderr.write(`Error: No such object: ${printable(ref)}\n`);
        }
      }
      return out;
    });
    ctx.stdout.write(`${printableJson(docs, 4)}\n`);
    return missing ? 1 : 0;
  },
};
