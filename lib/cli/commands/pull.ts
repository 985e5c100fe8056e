import { newError } from '../../errors/index.js';
import type { PullProgress, PullStatus } from '../../images/index.js';
import { familiarString, isLayerMediaType, normalizeReference } from '../../oci/index.js';
import { RegistryClient } from '../../registry/index.js';
import type { Command } from '../command.js';
import { openCliStore } from '../store.js';

function bar(complete: number, total: number): string {
  const width = 50;
  const done = total > 0 ? Math.min(width, Math.floor((complete / total) * width)) : 0;
  const mb = (n: number): string => `${(n / 1e6).toFixed(1)}MB`;
  return `[${'='.repeat(Math.max(0, done - 1))}${done > 0 ? '>' : ''}${' '.repeat(width - done)}] ${mb(complete)}/${mb(total)}`;
}

/** Redraws one line per layer in place (docker's TTY output). */
class TtyProgress {
  readonly #ids: string[] = [];
  readonly #lines = new Map<string, string>();
  #drawn = 0;
  constructor(private readonly out: NodeJS.WritableStream) {}
  update(e: PullProgress): void {
    if (!this.#lines.has(e.id)) this.#ids.push(e.id);
    this.#lines.set(e.id, `${e.id}: ${e.status === 'downloading' ? `Downloading ${bar(e.complete, e.total)}` : LINES[e.status]}`);
    let frame = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : '';
    for (const id of this.#ids) frame += `\x1b[2K${this.#lines.get(id)}\n`;
    this.#drawn = this.#ids.length;
    this.out.write(frame);
  }
}

const LINES: Record<PullStatus, string> = {
  waiting: 'Waiting',
  downloading: 'Downloading',
  verifying: 'Verifying Checksum',
  exists: 'Already exists',
  done: 'Pull complete',
};

/**
 * `containerkit pull REF`: pulls an image into `<root>/content`, printing docker's plain progress lines
 * (`<12 hex>: <status>` per layer, then `Digest:` and `Status:`). Exits non-zero on any failure.
 */
export const pullCommand: Command = {
  name: 'pull',
  summary: 'Download an image from a registry',
  usage: 'pull [OPTIONS] REF',
  options: { platform: { type: 'string' }, quiet: { type: 'boolean', short: 'q' } },
  async run(ctx, args) {
    const [ref, ...extra] = args.positionals;
    if (ref === undefined || extra.length > 0) throw newError('ERR_INVALID_ARGUMENT', 'pull takes exactly one REF');
    const parsed = normalizeReference(ref);
    const quiet = args.values['quiet'] === true;
    const registry = new RegistryClient();
    try {
      const store = await openCliStore(ctx, registry);
      if (!quiet) ctx.stdout.write(`${parsed.tag ?? parsed.digest}: Pulling from ${parsed.domain === 'docker.io' ? parsed.path : parsed.name}\n`);
      const last = new Map<string, PullStatus>();
      const tty = (ctx.stdout as { isTTY?: boolean }).isTTY === true ? new TtyProgress(ctx.stdout) : undefined;
      let downloaded = false;
      const onProgress = (e: PullProgress): void => {
        if (e.status === 'downloading') downloaded = true;
        if (quiet || !isLayerMediaType(e.descriptor.mediaType)) return;
        if (tty) {
          tty.update(e);
          return;
        }
        if (last.get(e.id) === e.status) return;
        last.set(e.id, e.status);
        ctx.stdout.write(`${e.id}: ${LINES[e.status]}\n`);
      };
      const platform = args.values['platform'];
      const record = await store.pull(ref, { onProgress, signal: ctx.signal, ...(typeof platform === 'string' ? { platform } : {}) });
      if (!quiet) {
        ctx.stdout.write(`Digest: ${record.target.digest}\n`);
        ctx.stdout.write(`Status: ${downloaded ? 'Downloaded newer image for' : 'Image is up to date for'} ${familiarString(parsed)}\n`);
      }
      ctx.stdout.write(`${record.name}\n`);
    } finally {
      registry.close();
    }
  },
};
