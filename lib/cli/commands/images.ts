import { shortDigest } from '../../images/fetch.js';
import { ANNOTATIONS } from '../../oci/descriptor.js';
import { familiarName, parseCanonicalReference } from '../../oci/reference.js';
import type { Command } from '../command.js';
import { humanSize, printable, printableJson } from '../output.js';
import { openExistingStore } from '../store.js';

function ago(created: string | undefined): string {
  if (created === undefined) return 'N/A';
  const s = Math.max(0, (Date.now() - Date.parse(created)) / 1000);
  if (!Number.isFinite(s)) return 'N/A';
  const units: Array<[number, string]> = [
    [365 * 86400, 'year'],
    [30 * 86400, 'month'],
    [7 * 86400, 'week'],
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, unit] of units) if (s >= size) return `${Math.floor(s / size)} ${unit}${Math.floor(s / size) === 1 ? '' : 's'} ago`;
  return 'Less than a second ago';
}

/** `containerkit images [-q] [--format json]`: lists the images in `<root>/content` with docker's columns. */
export const imagesCommand: Command = {
  name: 'images',
  summary: 'List images',
  usage: 'images [OPTIONS]',
  options: { quiet: { type: 'boolean', short: 'q' }, format: { type: 'string' } },
  async run(ctx, args) {
    // No store yet is an empty listing, as docker's on a fresh host.
    const store = await openExistingStore(ctx);
    const rows: Array<{ Repository: string; Tag: string; ID: string; Digest: string; CreatedAt: string; CreatedSince: string; Size: string; Name: string }> =
      [];
    for (const record of (await store?.list({ signal: ctx.signal })) ?? []) {
      const ref = parseCanonicalReference(record.target.annotations?.[ANNOTATIONS.REF_NAME] ?? record.name);
      const details = await store?.get(record.name, { signal: ctx.signal }).catch(() => undefined);
      rows.push({
        Repository: familiarName(ref),
        Tag: ref.tag ?? '<none>',
        ID: details ? shortDigest(details.manifest.config.digest) : '<missing>',
        Digest: record.target.digest,
        CreatedAt: details?.config.created ?? '',
        CreatedSince: ago(details?.config.created ?? undefined),
        Size: details ? humanSize(details.size) : 'N/A',
        Name: record.name,
      });
    }
    if (args.values['quiet'] === true) {
      for (const id of new Set(rows.map((r) => r.ID))) ctx.stdout.write(`${printable(id)}\n`);
      return;
    }
    if (args.values['format'] === 'json') {
      for (const row of rows) ctx.stdout.write(`${printableJson(row)}\n`);
      return;
    }
    const table = [
      ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
      ...rows.map((r) => [r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size].map(printable)),
    ];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table) ctx.stdout.write(`${row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('')}\n`);
  },
};
