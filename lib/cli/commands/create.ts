import { newError } from '../../errors/index.js';
import type { Command } from '../command.js';
import { CREATE_FLAGS, createOptionsOf } from '../container-flags.js';
import { withEngine } from '../engine.js';
import { parseLeadingOptions } from '../interspersed.js';
import { runFailure } from '../run-exit.js';

/** `containerkit create [OPTIONS] IMAGE [COMMAND] [ARG...]`: docker create; prints the full id. Errors exit 125. */
export const createCommand: Command = {
  name: 'create',
  summary: 'Create a new container',
  usage: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]',
  options: CREATE_FLAGS,
  rawArgs: true,
  async run(ctx, args) {
    try {
      const parsed = parseLeadingOptions(args.positionals, CREATE_FLAGS, 1);
      const [image] = parsed.positionals;
      if (image === undefined) throw newError('ERR_INVALID_ARGUMENT', "create needs an IMAGE; see 'containerkit help create'");
      const options = await createOptionsOf(parsed.values, parsed.rest, ctx.env);
      const { id } = await withEngine(ctx, (engine) => engine.create(image, { ...options, autoRemove: parsed.values['rm'] === true, signal: ctx.signal }), {
        registry: true,
      });
      ctx.stdout.write(`${id}\n`);
      return 0;
    } catch (err) {
      return runFailure(ctx, err, 'create');
    }
  },
};
