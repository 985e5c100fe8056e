import { newError } from '../../errors/index.js';
import type { Command } from '../command.js';
import { openReader } from '../reader.js';
import { parseTimeFlag } from '../time-text.js';

/**
 * `containerkit logs [-f] [--since T] [--until T] [--tail N|all] [-t] CONTAINER`: what it wrote, stdout to stdout and
 * stderr to stderr (as the container wrote it: no escaping, as docker's), `-f` until it stops or SIGINT.
 */
export const logsCommand: Command = {
  name: 'logs',
  summary: 'Fetch the logs of a container',
  usage: 'logs [OPTIONS] CONTAINER',
  options: {
    follow: { type: 'boolean', short: 'f' },
    since: { type: 'string' },
    until: { type: 'string' },
    tail: { type: 'string', short: 'n' },
    timestamps: { type: 'boolean', short: 't' },
  },
  async run(ctx, args) {
    const [ref, ...extra] = args.positionals;
    if (ref === undefined || extra.length > 0) throw newError('ERR_INVALID_ARGUMENT', 'logs takes exactly one container');
    const v = args.values;
    const tail = v['tail'] === undefined || v['tail'] === 'all' ? undefined : String(v['tail']);
    if (tail !== undefined && !/^\d+$/.test(tail))
      throw newError('ERR_INVALID_ARGUMENT', `--tail must be a number of lines or "all", got ${JSON.stringify(tail)}`);
    // The log as it is (a follower ends once the process is gone): no Engine needed, so no settle-and-retry.
    const { view } = await openReader(ctx);
    const lines = view.logs(ref, {
      follow: v['follow'] === true,
      timestamps: v['timestamps'] === true,
      signal: ctx.signal,
      ...(tail === undefined ? {} : { tail: Number(tail) }),
      ...(typeof v['since'] === 'string' ? { since: parseTimeFlag(v['since'], '--since') } : {}),
      ...(typeof v['until'] === 'string' ? { until: parseTimeFlag(v['until'], '--until') } : {}),
    });
    for await (const entry of lines) (entry.stream === 'stderr' ? ctx.stderr : ctx.stdout).write(entry.line);
  },
};
