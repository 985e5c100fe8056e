import { parseEnvFlag } from '../../engine/flags.js';
import { newError } from '../../errors/index.js';
import type { Command } from '../command.js';
import { withEngine } from '../engine.js';
import { parseLeadingOptions } from '../interspersed.js';
import { runFailure } from '../run-exit.js';

const EXEC_FLAGS = {
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
  env: { type: 'string', short: 'e', multiple: true },
  user: { type: 'string', short: 'u' },
  workdir: { type: 'string', short: 'w' },
  detach: { type: 'boolean', short: 'd' },
} as const satisfies Command['options'];

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/**
 * `containerkit exec [-i] [-t] [-e K=V] [-u USER] [-w DIR] CONTAINER COMMAND [ARG...]`: runs the command in the
 * running container and exits with its exit code; its stdout and stderr come apart (merged on stdout with `-t`).
 * `-i` sends the CLI's whole stdin (read to its end first), then EOF. 126/127 for a command that cannot be run.
 */
export const execCommand: Command = {
  name: 'exec',
  summary: 'Execute a command in a running container',
  usage: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]',
  options: EXEC_FLAGS,
  rawArgs: true,
  async run(ctx, args) {
    const parsed = parseLeadingOptions(args.positionals, EXEC_FLAGS, 1);
    const [ref] = parsed.positionals;
    if (ref === undefined || parsed.rest.length === 0)
      throw newError('ERR_INVALID_ARGUMENT', "exec needs a CONTAINER and a COMMAND; see 'containerkit help exec'");
    const v = parsed.values;
    if (v['detach'] === true) throw newError('ERR_INVALID_ARGUMENT', 'exec -d is not supported yet');
    const env = ((v['env'] as string[] | undefined) ?? []).map((e) => parseEnvFlag(e, ctx.env));
    const stdin = v['interactive'] === true ? await readAll(ctx.stdin) : undefined;
    try {
      const result = await withEngine(ctx, (engine) =>
        engine.exec(ref, parsed.rest, {
          tty: v['tty'] === true,
          signal: ctx.signal,
          ...(env.length > 0 ? { env } : {}),
          ...(typeof v['user'] === 'string' ? { user: v['user'] } : {}),
          ...(typeof v['workdir'] === 'string' ? { workdir: v['workdir'] } : {}),
          ...(stdin === undefined ? {} : { stdin }),
        }),
      );
      ctx.stdout.write(result.stdout);
      ctx.stderr.write(result.stderr);
      return result.exitCode;
    } catch (err) {
      const code = await runFailure(ctx, err, 'exec');
      return code === 125 ? 1 : code;
    }
  },
};
