import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ContainerdClient, DEFAULT_ADDRESS, DEFAULT_NAMESPACE, resolveImage } from '../../containerd/index.js';
import { newError } from '../../errors/index.js';
import { shortDigest } from '../../images/fetch.js';
import { type ArchiveFormat, containerdExport, containerdImport, containerdPull } from '../../images/index.js';
import { imageContentSize } from '../../oci/index.js';
import { RegistryClient } from '../../registry/index.js';
import type { CliContext, Command } from '../command.js';
import { openInputFile, writeOutputFile } from '../files.js';
import { humanSize, listFormat, renderList } from '../output.js';
import { runInContainerd } from './containerd-run.js';
import { removeContainers, runTaskVerb, TASK_USAGE } from './containerd-task.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** A sub-verb of `containerkit containerd`. */
interface SubVerb {
  usage: string;
  options: Options;
  /**
   * How many positionals end the options: everything after them is passed through untouched (a command line). 0: the
   * verb parses all its arguments itself.
   */
  passThroughAfter?: number;
  /**
   * The verb reacts to the CLI's signal itself and still needs the client after it aborted (to clean up), so the
   * client is not closed on abort.
   */
  handlesAbort?: boolean;
  run(ctx: CliContext, client: ContainerdClient, values: Record<string, unknown>, positionals: string[]): Promise<number | void>;
}

/**
 * Splits `args` into what parseArgs should read and the pass-through tail that starts after `count` positionals
 * (so `run REF sh -c 'x'` keeps `-c` for the container).
 */
function splitPassThrough(args: readonly string[], options: Options, count: number | undefined): { head: string[]; tail: string[] } {
  if (count === undefined) return { head: [...args], tail: [] };
  if (count === 0) return { head: [], tail: [...args] };
  let seen = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return { head: args.slice(0, i), tail: args.slice(i + 1) };
    if (a.startsWith('-') && a !== '-') {
      const name = a.startsWith('--') ? a.slice(2).split('=')[0]! : Object.keys(options).find((k) => options[k]!.short === a.slice(1));
      if (name !== undefined && options[name]?.type === 'string' && !a.includes('=')) i++;
      continue;
    }
    if (++seen === count) return { head: args.slice(0, i + 1), tail: args.slice(i + 1) };
  }
  return { head: [...args], tail: [] };
}

const VERBS: Record<string, SubVerb> = {
  version: {
    usage: 'version',
    options: {},
    async run(ctx, client) {
      const v = await client.version({ signal: ctx.signal });
      ctx.stdout.write(`Server:\n  Version:  ${v.version}\n  Revision: ${v.revision}\n`);
    },
  },
  pull: {
    usage: 'pull [--platform P] [--no-unpack] REF',
    options: { platform: { type: 'string' }, 'no-unpack': { type: 'boolean' } },
    async run(ctx, client, values, [ref, ...extra]) {
      if (ref === undefined || extra.length > 0) throw newError('ERR_INVALID_ARGUMENT', 'containerd pull takes exactly one REF');
      const resolver = new RegistryClient();
      try {
        const platform = values['platform'] as string | undefined;
        const result = await containerdPull(client, ref, {
          resolver,
          unpack: values['no-unpack'] !== true,
          signal: ctx.signal,
          ...(platform ? { platform } : {}),
        });
        ctx.stdout.write(`${result.name}\nDigest: ${result.target.digest}\n`);
        if (result.chainId !== undefined) ctx.stdout.write(`Unpacked: ${result.chainId}\n`);
      } finally {
        resolver.close();
      }
    },
  },
  images: {
    usage: 'images [-q] [--format table|json]',
    options: { quiet: { type: 'boolean', short: 'q' }, format: { type: 'string' } },
    async run(ctx, client, values) {
      const format = listFormat(values['format'], values['quiet']);
      const rows = [];
      for (const record of await client.images.list([], { signal: ctx.signal })) {
        const resolved = await resolveImage(client, record.name, { signal: ctx.signal }).catch(() => undefined);
        const size = resolved ? imageContentSize(resolved.manifestDescriptor, resolved.manifest) : undefined;
        rows.push({ name: record.name, digest: record.target.digest, mediaType: record.target.mediaType, size });
      }
      ctx.stdout.write(
        renderList(
          rows,
          [
            { header: 'REF', value: (r) => r.name },
            { header: 'DIGEST', value: (r) => r.digest },
            { header: 'SIZE', value: (r) => (r.size === undefined ? '-' : humanSize(r.size, { binary: true })) },
          ],
          format,
          (r) => r,
          (r) => r.name,
        ),
      );
    },
  },
  rmi: {
    usage: 'rmi [--sync] REF...',
    options: { sync: { type: 'boolean' } },
    async run(ctx, client, values, refs) {
      if (refs.length === 0) throw newError('ERR_INVALID_ARGUMENT', 'containerd rmi takes at least one REF');
      for (const ref of refs) {
        await client.images.delete(ref, { sync: values['sync'] === true, signal: ctx.signal });
        ctx.stdout.write(`Deleted: ${ref}\n`);
      }
    },
  },
  run: {
    usage: 'run [--rm] [-i] [--id ID] [--platform P] REF [CMD...]',
    options: { rm: { type: 'boolean' }, interactive: { type: 'boolean', short: 'i' }, id: { type: 'string' }, platform: { type: 'string' } },
    passThroughAfter: 1,
    handlesAbort: true,
    run: (ctx, client, values, [ref, ...command]) => {
      if (ref === undefined) throw newError('ERR_INVALID_ARGUMENT', 'containerd run takes REF [CMD...]');
      return runInContainerd(ctx, client, ref, command, {
        remove: values['rm'] === true,
        // As ctr, a pipe or file on stdin is passed through; a terminal only with -i, as docker (no TTY mode here).
        stdin: values['interactive'] === true || (ctx.stdin as { isTTY?: boolean }).isTTY !== true,
        ...(typeof values['id'] === 'string' ? { id: values['id'] } : {}),
        ...(typeof values['platform'] === 'string' ? { platform: values['platform'] } : {}),
      });
    },
  },
  containers: {
    usage: 'containers [-q] [--format table|json]',
    options: { quiet: { type: 'boolean', short: 'q' }, format: { type: 'string' } },
    async run(ctx, client, values) {
      const format = listFormat(values['format'], values['quiet']);
      const rows = await client.containers.list([], { signal: ctx.signal });
      ctx.stdout.write(
        renderList(
          rows,
          [
            { header: 'CONTAINER', value: (r) => r.id },
            { header: 'IMAGE', value: (r) => r.image || '-' },
            { header: 'RUNTIME', value: (r) => r.runtime.name },
          ],
          format,
          (r) => ({ id: r.id, image: r.image, runtime: r.runtime.name, snapshotKey: r.snapshotKey, labels: r.labels }),
          (r) => r.id,
        ),
      );
    },
  },
  rm: {
    usage: 'rm [-f] ID...',
    options: { force: { type: 'boolean', short: 'f' } },
    async run(ctx, client, values, ids) {
      if (ids.length === 0) throw newError('ERR_INVALID_ARGUMENT', 'containerd rm takes at least one ID');
      await removeContainers(ctx, client, ids, { force: values['force'] === true });
    },
  },
  task: {
    usage: TASK_USAGE.join('\n  '),
    options: {},
    // The task verb parses its own options.
    passThroughAfter: 0,
    run: (ctx, client, _values, args) => runTaskVerb(ctx, client, args),
  },
  import: {
    usage: 'import [--name REPO] [--no-unpack] FILE',
    options: { name: { type: 'string' }, 'no-unpack': { type: 'boolean' } },
    async run(ctx, client, values, [file, ...extra]) {
      if (file === undefined || extra.length > 0) throw newError('ERR_INVALID_ARGUMENT', 'containerd import takes exactly one FILE');
      const name = values['name'] as string | undefined;
      const result = await containerdImport(client, await openInputFile(file), {
        unpack: values['no-unpack'] !== true,
        signal: ctx.signal,
        ...(name ? { name } : {}),
      });
      for (const i of result.imported) ctx.stdout.write(`${i.name} ${shortDigest(i.digest)}\n`);
      for (const u of result.unnamed) ctx.stderr.write(`skipped ${u.digest}: no image name (use --name)\n`);
    },
  },
  export: {
    usage: 'export [--format oci|docker] FILE REF...',
    options: { format: { type: 'string' } },
    async run(ctx, client, values, [file, ...refs]) {
      if (file === undefined || refs.length === 0) throw newError('ERR_INVALID_ARGUMENT', 'containerd export takes FILE and at least one REF');
      const format = (values['format'] as ArchiveFormat | undefined) ?? 'oci';
      await writeOutputFile(file, (out) => containerdExport(client, refs, out, { format, signal: ctx.signal }));
    },
  },
};

const LEADING: Options = { address: { type: 'string' }, namespace: { type: 'string', short: 'n' } };

/**
 * `containerkit containerd [--address SOCK] [-n NS] VERB …`: ctr's everyday verbs through ContainerdClient against a
 * running containerd — version, pull, images, rmi, run, containers, rm, task, import, export. The socket defaults to
 * `$CONTAINERD_ADDRESS` or `/run/containerd/containerd.sock`, the namespace to `$CONTAINERD_NAMESPACE` or `default`.
 */
export const containerdCommand: Command = {
  name: 'containerd',
  summary: 'Use a running containerd (pull, images, run, import, export…)',
  usage: ['containerd [--address SOCK] [-n NAMESPACE] VERB', '', 'Verbs:', ...Object.values(VERBS).map((v) => `  ${v.usage}`)].join('\n'),
  options: LEADING,
  rawArgs: true,
  async run(ctx, args) {
    const { head: leading, tail } = splitPassThrough(args.positionals, LEADING, 1);
    const verbName = leading.at(-1);
    const globals = parseArgs({ args: leading.slice(0, -1), options: LEADING, strict: true }).values;
    const verb = verbName === undefined ? undefined : VERBS[verbName];
    if (verb === undefined) {
      throw newError('ERR_INVALID_ARGUMENT', `containerd needs a verb: ${Object.keys(VERBS).join(', ')}${verbName ? ` (not "${verbName}")` : ''}`);
    }
    const { head, tail: passed } = splitPassThrough(tail, verb.options, verb.passThroughAfter);
    const parsed = parseArgs({ args: head, options: verb.options, allowPositionals: true, strict: true });
    const client = new ContainerdClient({
      address: (globals['address'] as string | undefined) ?? ctx.env.CONTAINERD_ADDRESS ?? DEFAULT_ADDRESS,
      namespace: (globals['namespace'] as string | undefined) ?? ctx.env.CONTAINERD_NAMESPACE ?? DEFAULT_NAMESPACE,
      ...(verb.handlesAbort ? {} : { signal: ctx.signal }),
    });
    try {
      return await verb.run(ctx, client, parsed.values, [...parsed.positionals, ...passed]);
    } finally {
      await client.close();
    }
  },
};
