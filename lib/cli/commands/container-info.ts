import type { ContainerStats } from '../../engine/engine-types.js';
import { newError } from '../../errors/index.js';
import type { Command } from '../command.js';
import { withEngine } from '../engine.js';
import { printable, renderList } from '../output.js';

// docker's read-outs of one running container: port, top, stats.

function oneContainer(verb: string, positionals: string[]): string {
  const [ref, ...extra] = positionals;
  if (ref === undefined || extra.length > 0) throw newError('ERR_INVALID_ARGUMENT', `${verb} takes exactly one container`);
  return ref;
}

/** `containerkit port CONTAINER`: its published ports (none: containers run with network none or host). */
export const portCommand: Command = {
  name: 'port',
  summary: 'List port mappings of a container',
  usage: 'port CONTAINER',
  options: {},
  async run(ctx, args) {
    const ref = oneContainer('port', args.positionals);
    const ports = await withEngine(ctx, (engine) => engine.port(ref, { signal: ctx.signal }));
    for (const p of ports) ctx.stdout.write(`${printable(p.containerPort)} -> ${printable(p.hostIp)}:${printable(p.hostPort)}\n`);
  },
};

/** `containerkit top CONTAINER`: its processes, docker's `ps -ef`-like table. */
export const topCommand: Command = {
  name: 'top',
  summary: 'Display the running processes of a container',
  usage: 'top CONTAINER',
  options: {},
  async run(ctx, args) {
    const ref = oneContainer('top', args.positionals);
    const top = await withEngine(ctx, (engine) => engine.top(ref, { signal: ctx.signal }));
    const columns = top.Titles.map((header, i) => ({ header, value: (row: string[]) => row[i] ?? '' }));
    ctx.stdout.write(
      renderList(
        top.Processes,
        columns,
        'table',
        (r) => r,
        (r) => r[0] ?? '',
      ),
    );
  },
};

interface StatsRow {
  id: string;
  name: string;
  cpu: number;
  stats: ContainerStats;
}

const percent = (n: number): string => `${n.toFixed(2)}%`;

// docker's units.BytesSize: binary units, four significant digits (`764KiB`, `1.172MiB`).
function bytesSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  for (; n >= 1024 && i < units.length - 1; i++) n /= 1024;
  return `${Number(n.toPrecision(4))}${units[i]}`;
}

/**
 * `containerkit stats --no-stream [CONTAINER...]`: one reading of each (default: every running container), with
 * docker's columns; CPU % is measured over half a second.
 */
export const statsCommand: Command = {
  name: 'stats',
  summary: 'Display a snapshot of containers resource usage statistics (--no-stream)',
  usage: 'stats --no-stream [CONTAINER...]',
  options: { 'no-stream': { type: 'boolean' }, 'no-trunc': { type: 'boolean' } },
  async run(ctx, args) {
    if (args.values['no-stream'] !== true) throw newError('ERR_INVALID_ARGUMENT', 'only stats --no-stream is supported');
    const rows = await withEngine(ctx, async (engine) => {
      const refs = args.positionals.length > 0 ? args.positionals : (await engine.list({ signal: ctx.signal })).map((c) => c.Id);
      const out: StatsRow[] = [];
      for (const ref of refs) {
        const info = await engine.inspect(ref, { signal: ctx.signal });
        const first = await engine.stats(ref, { signal: ctx.signal });
        await new Promise((resolve) => setTimeout(resolve, 500));
        const stats = await engine.stats(ref, { signal: ctx.signal });
        const wall = (stats.read.getTime() - first.read.getTime()) * 1e6;
        out.push({ id: info.Id, name: info.Name.replace(/^\//, ''), cpu: wall > 0 ? ((stats.cpuUsageNanos - first.cpuUsageNanos) / wall) * 100 : 0, stats });
      }
      return out;
    });
    const noTrunc = args.values['no-trunc'] === true;
    const limit = (s: ContainerStats): string => (s.memoryLimitBytes === undefined ? 'unlimited' : bytesSize(s.memoryLimitBytes));
    ctx.stdout.write(
      renderList(
        rows,
        [
          { header: 'CONTAINER ID', value: (r) => (noTrunc ? r.id : r.id.slice(0, 12)) },
          { header: 'NAME', value: (r) => r.name },
          { header: 'CPU %', value: (r) => percent(r.cpu) },
          { header: 'MEM USAGE / LIMIT', value: (r) => `${bytesSize(r.stats.memoryUsageBytes)} / ${limit(r.stats)}` },
          { header: 'MEM %', value: (r) => (r.stats.memoryLimitBytes ? percent((r.stats.memoryUsageBytes / r.stats.memoryLimitBytes) * 100) : '0.00%') },
          { header: 'NET I/O', value: () => '0B / 0B' },
          { header: 'BLOCK I/O', value: () => '0B / 0B' },
          { header: 'PIDS', value: (r) => String(r.stats.pids) },
        ],
        'table',
        (r) => r,
        (r) => r.id,
      ),
    );
  },
};
