import { hasCode, newError } from '../../errors/index.js';
import type { Command } from '../command.js';
import { printable, printableJson } from '../output.js';
import { readContainers } from '../reader.js';
import { openExistingStore } from '../store.js';
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
    // Containers first, all of them (a stale record makes the reader's pass run again on an Engine).
    const found = await readContainers(ctx, async (view) => {
      const out = new Map<string, unknown>();
      for (const ref of args.positionals) {
        try {
          out.set(ref, await view.inspect(ref, { signal: ctx.signal }));
        } catch (err) {
          if (!hasCode(err, 'ERR_NO_SUCH_CONTAINER')) throw err;
        }
      }
      return out;
    });
    const store = args.positionals.every((ref) => found.has(ref)) ? undefined : await openExistingStore(ctx);
    let missing = false;
    const docs: unknown[] = [];
    for (const ref of args.positionals) {
      if (found.has(ref)) {
        docs.push(found.get(ref));
        continue;
      }
      try {
        if (store === undefined) throw newError('ERR_IMAGE_NOT_FOUND', 'no image store');
        docs.push(imageInspectDoc(await store.get(ref, { signal: ctx.signal })));
      } catch (err) {
        if (!hasCode(err, 'ERR_IMAGE_NOT_FOUND') && !hasCode(err, 'ERR_INVALID_REFERENCE') && !hasCode(err, 'ERR_NOT_FOUND')) throw err;
        missing = true;
        ctx.stderr.write(`Error: No such object: ${printable(ref)}\n`);
      }
    }
    ctx.stdout.write(`${printableJson(docs, 4)}\n`);
    return missing ? 1 : 0;
  },
};
