import type { ContainerSummary, ListFilters } from '../../engine/engine-types.js';
import { CONTAINER_STATUSES, type ContainerStatus } from '../../engine/record.js';
import { newError } from '../../errors/index.js';
import { familiarString, normalizeReference } from '../../oci/reference.js';
import type { Command } from '../command.js';
import { type Column, listFormat, renderList } from '../output.js';
import { readContainers } from '../reader.js';
import { sinceText } from '../time-text.js';

const FILTER_KEYS = ['label', 'status', 'name', 'id', 'ancestor'] as const;

/** docker's `--filter key=value` list as the Engine's filters. @throws ERR_INVALID_ARGUMENT for an unknown key or status. */
export function parseFilters(values: readonly string[]): ListFilters {
  const filters: ListFilters = {};
  for (const f of values) {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    const value = eq < 0 ? '' : f.slice(eq + 1);
    if (!(FILTER_KEYS as readonly string[]).includes(key) || value === '') {
      throw newError('ERR_INVALID_ARGUMENT', `invalid filter "${f}": use ${FILTER_KEYS.map((k) => `${k}=…`).join(', ')}`);
    }
    if (key === 'status' && !CONTAINER_STATUSES.includes(value as ContainerStatus)) {
      throw newError('ERR_INVALID_ARGUMENT', `invalid filter "${f}": status is one of ${CONTAINER_STATUSES.join(', ')}`);
    }
    ((filters as Record<string, string[]>)[key] ??= []).push(value);
  }
  return filters;
}

function imageName(name: string): string {
  try {
    return familiarString(normalizeReference(name));
  } catch {
    return name;
  }
}

// docker cuts the command at 20 characters with an ellipsis (unless --no-trunc), then quotes it as Go's strconv.Quote.
function command(row: ContainerSummary, noTrunc: boolean): string {
  return JSON.stringify(noTrunc || row.Command.length <= 20 ? row.Command : `${row.Command.slice(0, 19)}…`);
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/**
 * `containerkit ps [-a] [-q] [--filter k=v] [--format table|json] [--no-trunc]`: docker's columns (CONTAINER ID,
 * IMAGE, COMMAND, CREATED, STATUS, PORTS, NAMES), newest first; `json` gives docker's `--format json` fields.
 */
export const psCommand: Command = {
  name: 'ps',
  summary: 'List containers',
  usage: 'ps [OPTIONS]',
  options: {
    all: { type: 'boolean', short: 'a' },
    quiet: { type: 'boolean', short: 'q' },
    filter: { type: 'string', short: 'f', multiple: true },
    format: { type: 'string' },
    'no-trunc': { type: 'boolean' },
  },
  async run(ctx, args) {
    const format = listFormat(args.values['format'], args.values['quiet']);
    const noTrunc = args.values['no-trunc'] === true;
    const filters = parseFilters((args.values['filter'] as string[] | undefined) ?? []);
    const rows = await readContainers(ctx, (view) => view.list({ all: args.values['all'] === true, filters, signal: ctx.signal }));
    const id = (row: ContainerSummary): string => (noTrunc ? row.Id : row.Id.slice(0, 12));
    const columns: Array<Column<ContainerSummary>> = [
      { header: 'CONTAINER ID', value: id },
      { header: 'IMAGE', value: (r) => imageName(r.Image) },
      { header: 'COMMAND', value: (r) => command(r, noTrunc) },
      { header: 'CREATED', value: (r) => sinceText(r.Created * 1000) },
      { header: 'STATUS', value: (r) => r.Status },
      { header: 'PORTS', value: () => '' },
      { header: 'NAMES', value: (r) => r.Names.map((n) => n.replace(/^\//, '')).join(',') },
    ];
    const toJson = (r: ContainerSummary): unknown => ({
      Command: command(r, noTrunc),
      CreatedAt: new Date(r.Created * 1000).toISOString(),
      ID: id(r),
      Image: imageName(r.Image),
      Labels: labelText(r.Labels),
      Names: r.Names.map((n) => n.replace(/^\//, '')).join(','),
      Ports: '',
      RunningFor: sinceText(r.Created * 1000).replace(/ ago$/, ''),
      State: r.State,
      Status: r.Status,
    });
    ctx.stdout.write(renderList(rows, columns, format, toJson, id));
  },
};
