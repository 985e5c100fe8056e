import { newError } from '../../errors/index.js';
import { logger } from '../../util/debug.js';
import { runAttached } from '../attached.js';
import type { Command } from '../command.js';
import { CREATE_FLAGS, createOptionsOf } from '../container-flags.js';
import { withEngine } from '../engine.js';
import { parseLeadingOptions } from '../interspersed.js';
import { runFailure } from '../run-exit.js';

const log = logger('cli:run');

const RUN_FLAGS = { ...CREATE_FLAGS, detach: { type: 'boolean', short: 'd' } } as const satisfies Command['options'];

/**
 * `containerkit run [OPTIONS] IMAGE [COMMAND] [ARG...]`: docker run over the Engine. Attached, the container's exit
 * code is the CLI's (see {@link runAttached} for streams, stdin, terminal and signals); `-d` prints the full id.
 * `--rm` removes it on every path (attached, by this process once the output is read, as docker's client did).
 * Errors before the container's exit: 125, or 126/127 for a command that cannot be run (see `runFailure`).
 */
export const runCommand: Command = {
  name: 'run',
  summary: 'Create and run a new container from an image',
  usage: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  options: RUN_FLAGS,
  rawArgs: true,
  async run(ctx, args) {
    try {
      const parsed = parseLeadingOptions(args.positionals, RUN_FLAGS, 1);
      const [image] = parsed.positionals;
      if (image === undefined) throw newError('ERR_INVALID_ARGUMENT', "run needs an IMAGE; see 'containerkit help run'");
      const v = parsed.values;
      const options = await createOptionsOf(v, parsed.rest, ctx.env);
      const rm = v['rm'] === true;
      // The shim's logger (binary://) takes no stdin: only a terminal (-t) copies one into the container today.
      if (options.stdin === true && options.tty !== true && v['detach'] !== true) {
        throw newError(
          'ERR_INVALID_ARGUMENT',
          "run -i needs -t for now: without a terminal the container's stdin cannot be attached (its output goes to the log)",
        );
      }
      return await withEngine(
        ctx,
        async (engine) => {
          if (v['detach'] === true) {
            const handle = await engine.run(image, { ...options, autoRemove: rm, detach: true, signal: ctx.signal });
            ctx.stdout.write(`${handle.id}\n`);
            return 0;
          }
          const { id } = await engine.create(image, { ...options, signal: ctx.signal });
          try {
            return await runAttached(ctx, engine, id, { start: true, stdin: options.stdin === true, tty: options.tty === true });
          } finally {
            if (rm) await engine.remove(id, { force: true }).catch((err: Error) => log('removing %s: %s', id, err.message));
          }
        },
        { registry: true },
      );
    } catch (err) {
      return runFailure(ctx, err, 'run');
    }
  },
};
