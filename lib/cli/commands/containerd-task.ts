import { constants } from 'node:os';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { ContainerdClient } from '../../containerd/index.js';
import { ContainerkitError, NotFoundError, newError } from '../../errors/index.js';
import type { CliContext } from '../command.js';
import { listFormat, renderList } from '../output.js';

/**
 * `containerd rm [-f] ID...`: deletes each container with its snapshot. A container that still has a task is refused
 * (ERR_CONTAINERD_FAILED_PRECONDITION, naming the way out) unless `force`, which kills and deletes the task first.
 */
export async function removeContainers(ctx: CliContext, client: ContainerdClient, ids: string[], options: { force: boolean }): Promise<void> {
  const signal = ctx.signal;
  for (const id of ids) {
    const container = await client.loadContainer(id, { signal });
    if (options.force) {
      const task = await container.task({ signal }).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      });
      await task?.delete({ force: true, signal });
    }
    await container.delete({ signal }).catch((err: unknown) => {
      if (!(err instanceof ContainerkitError) || err.details['taskStatus'] === undefined) throw err;
      throw newError('ERR_CONTAINERD_FAILED_PRECONDITION', `${err.message} with "containerd task rm ${id}", or use "containerd rm --force ${id}"`, {
        cause: err,
        details: err.details,
      });
    });
    ctx.stdout.write(`${id}\n`);
  }
}

/** A signal as `kill -s` takes it: a name with or without `SIG` (any case) or a number. */
export function parseSignal(value: string): number {
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    if (n >= 1 && n <= 64) return n;
  } else {
    const name = (value.toUpperCase().startsWith('SIG') ? value.toUpperCase() : `SIG${value.toUpperCase()}`) as NodeJS.Signals;
    const n = Object.hasOwn(constants.signals, name) ? constants.signals[name] : undefined;
    if (n !== undefined) return n;
  }
  throw newError('ERR_INVALID_ARGUMENT', `unknown signal "${value}"`);
}

interface TaskVerb {
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(ctx: CliContext, client: ContainerdClient, values: Record<string, unknown>, ids: string[]): Promise<void>;
}

const needIds = (verb: string, ids: string[]): void => {
  if (ids.length === 0) throw newError('ERR_INVALID_ARGUMENT', `containerd task ${verb} takes at least one ID`);
};

const remove: TaskVerb = {
  usage: 'task rm [-f] ID...',
  options: { force: { type: 'boolean', short: 'f' } },
  async run(ctx, client, values, ids) {
    needIds('rm', ids);
    for (const id of ids) {
      const task = await (await client.loadContainer(id, { signal: ctx.signal })).task({ signal: ctx.signal });
      await task.delete({ force: values['force'] === true, signal: ctx.signal });
      ctx.stdout.write(`${id}\n`);
    }
  },
};

// ctr's `tasks` verbs that a user needs to clean up by hand; aliases as ctr's (`delete`, `list`).
const TASK_VERBS: Record<string, TaskVerb> = {
  ls: {
    usage: 'task ls [-q] [--format table|json]',
    options: { quiet: { type: 'boolean', short: 'q' }, format: { type: 'string' } },
    async run(ctx, client, values) {
      const format = listFormat(values['format'], values['quiet']);
      const rows = await client.tasks.list({ signal: ctx.signal });
      ctx.stdout.write(
        renderList(
          rows,
          [
            { header: 'TASK', value: (r) => r.id },
            { header: 'PID', value: (r) => String(r.pid) },
            { header: 'STATUS', value: (r) => r.status.toUpperCase() },
          ],
          format,
          (r) => ({ id: r.id, pid: r.pid, status: r.status, exitStatus: r.exit?.code ?? 0 }),
          (r) => r.id,
        ),
      );
    },
  },
  kill: {
    usage: 'task kill [-s SIGNAL] [-a] ID...',
    options: { signal: { type: 'string', short: 's' }, all: { type: 'boolean', short: 'a' } },
    async run(ctx, client, values, ids) {
      needIds('kill', ids);
      const signal = parseSignal((values['signal'] as string | undefined) ?? 'SIGTERM');
      for (const id of ids) await client.tasks.kill(id, signal, { all: values['all'] === true, signal: ctx.signal });
    },
  },
  rm: remove,
  delete: remove,
};
TASK_VERBS['list'] = TASK_VERBS['ls']!;

/** The usage lines of `containerd task …`. */
export const TASK_USAGE = ['task ls [-q] [--format table|json]', 'task kill [-s SIGNAL] [-a] ID...', 'task rm [-f] ID...'];

/** `containerd task VERB …`: ls, kill, rm (ctr's `tasks`). */
export async function runTaskVerb(ctx: CliContext, client: ContainerdClient, args: string[]): Promise<void> {
  const [name, ...rest] = args;
  const verb = name === undefined || !Object.hasOwn(TASK_VERBS, name) ? undefined : TASK_VERBS[name];
  if (verb === undefined) throw newError('ERR_INVALID_ARGUMENT', `containerd task needs a verb: ls, kill, rm${name ? ` (not "${name}")` : ''}`);
  const parsed = parseArgs({ args: rest, options: verb.options, allowPositionals: true, strict: true });
  await verb.run(ctx, client, parsed.values, parsed.positionals);
}
