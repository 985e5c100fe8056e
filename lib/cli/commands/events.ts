import { type EngineEvent, EventsLog } from '../../engine/events-log.js';
import type { Command } from '../command.js';
import { printable, printableJson } from '../output.js';
import { parseTimeFlag } from '../time-text.js';

// docker's line: `2026-12-05T10:00:00.123456789Z container start <id> (image=…, name=…)`.
function line(e: EngineEvent): string {
  const nanos = String(Math.round(e.timeNano % 1e9)).padStart(9, '0');
  const time = `${new Date(e.time * 1000).toISOString().slice(0, 19)}.${nanos}Z`;
  const attrs = Object.entries(e.Actor.Attributes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return `${time} ${e.Type} ${e.Action} ${e.Actor.ID}${attrs === '' ? '' : ` (${attrs})`}`;
}

/**
 * `containerkit events [--since T] [--until T] [--format json]`: the root's events (every process's), then new ones
 * until SIGINT or `--until`. Read from the root's events log itself (as `Engine.events` does): no backend, so it
 * runs beside any other `containerkit` process.
 */
export const eventsCommand: Command = {
  name: 'events',
  summary: 'Get real time events from the engine',
  usage: 'events [OPTIONS]',
  options: { since: { type: 'string' }, until: { type: 'string' }, format: { type: 'string' } },
  async run(ctx, args) {
    const v = args.values;
    const until = typeof v['until'] === 'string' ? parseTimeFlag(v['until'], '--until') : undefined;
    const json = v['format'] === 'json';
    const log = await EventsLog.open(ctx.root);
    const events = log.read({
      signal: ctx.signal,
      // Without --since, only what happens from now on, as docker's.
      since: typeof v['since'] === 'string' ? parseTimeFlag(v['since'], '--since') : new Date(),
      ...(until === undefined ? {} : { until }),
      follow: until === undefined || until.getTime() > Date.now(),
    });
    for await (const e of events) ctx.stdout.write(`${json ? printableJson(e) : printable(line(e))}\n`);
  },
};
