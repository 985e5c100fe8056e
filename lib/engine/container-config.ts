import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { newError } from '../errors/index.js';
import type { ImageConfig, Mount, Spec } from '../oci/index.js';
import { STOP_SIGNAL_ANNOTATION } from '../runtime/index.js';
import { shortId } from '../util/debug.js';
import { logger, mount, readJsonFile, unmount, writeJsonAtomic } from '../util/index.js';
import { containerHostname, writeContainerFiles } from './container-files.js';
import { buildContainerSpec } from './container-spec.js';
import { applyCreateDefaults, type CreateOptions, DEFAULT_STOP_SIGNAL } from './create-options.js';
import { mergeRunConfig } from './run-config.js';

const log = logger('engine:config');

// What a container runs, settled at create: the OCI spec (built while the new snapshot is mounted for a moment, so
// the user is looked up in the image's /etc/passwd and the workdir made, as dockerd does at create) and docker's
// merged Config for inspect. Kept in `<root>/containers/<id>/spec.json` beside the record; a start only reads it.

/** docker inspect's `Config`, merged from the image and the options at create. */
export interface MergedConfig {
  Hostname: string;
  User: string;
  Env: string[];
  Cmd: string[];
  Entrypoint: string[] | null;
  WorkingDir: string;
  Labels: Record<string, string>;
  StopSignal: string;
}

/** The file `spec.json`. @internal */
export interface SavedContainerConfig {
  /** The chain ID the container's snapshot is on. */
  chainId: string;
  spec: Spec;
  config: MergedConfig;
}

const FILE = 'spec.json';

/** Cmd and Entrypoint as docker shows them: the options', else the image's (an entrypoint given drops the image's Cmd). */
function cmdAndEntrypoint(image: ImageConfig, o: CreateOptions): { Cmd: string[]; Entrypoint: string[] | null } {
  const c = image.config ?? {};
  const cmd = o.cmd !== undefined && o.cmd.length > 0 ? o.cmd : undefined;
  if (o.entrypoint !== undefined) {
    const entrypoint = o.entrypoint.length === 1 && o.entrypoint[0] === '' ? [] : o.entrypoint;
    return { Cmd: cmd ?? [], Entrypoint: entrypoint.length === 0 ? null : entrypoint };
  }
  return { Cmd: cmd ?? c.Cmd ?? [], Entrypoint: c.Entrypoint ?? null };
}

/**
 * Builds container `id`'s spec and merged config and writes them, with its hosts/hostname/resolv.conf, into
 * `containerDir`. `rootfs` (the snapshot's mounts) is mounted at `<containerDir>/create-rootfs` meanwhile and
 * always unmounted again. @internal
 */
export async function writeContainerConfig(
  containerDir: string,
  id: string,
  input: { image: ImageConfig; chainId: string; options: CreateOptions; rootfs: Mount[]; namespace: string; signal?: AbortSignal },
): Promise<SavedContainerConfig> {
  const { image, chainId, options, rootfs, namespace, signal } = input;
  const o = applyCreateDefaults(options);
  const hostname = containerHostname(o, id);
  const files = await writeContainerFiles(containerDir, { hostname, network: o.network, signal });
  const target = join(containerDir, 'create-rootfs');
  await mkdir(target, { recursive: true, mode: 0o700 });
  const mounted: string[] = [];
  try {
    for (const m of rootfs) {
      await mount({ type: m.type, source: m.source, options: m.options ?? [] }, target, { signal });
      mounted.push(target);
    }
    const spec = await buildContainerSpec(image, options, { rootfs: target, id, files, namespace, signal });
    const run = mergeRunConfig(image, o, hostname);
    const config: MergedConfig = {
      Hostname: hostname,
      User: run.user,
      Env: run.env,
      ...cmdAndEntrypoint(image, o),
      WorkingDir: run.workdir,
      Labels: run.labels,
      StopSignal: run.stopSignal,
    };
    const saved: SavedContainerConfig = { chainId, spec, config };
    await writeJsonAtomic(join(containerDir, FILE), saved, { mode: 0o600 });
    return saved;
  } finally {
    for (const point of mounted.reverse()) await unmount(point).catch((err: Error) => log('unmount %s: %s', point, err.message));
    await rmdir(target).catch((err: Error) => log('rmdir %s: %s', target, err.message));
  }
}

/** Reads container `id`'s `spec.json`. @throws ERR_FAILED_PRECONDITION when it has none (a create cut short). @internal */
export async function readContainerConfig(containerDir: string, id: string): Promise<SavedContainerConfig> {
  const saved = await readJsonFile<SavedContainerConfig>(join(containerDir, FILE));
  if (saved === undefined || typeof saved.spec !== 'object' || typeof saved.chainId !== 'string') {
    throw newError('ERR_FAILED_PRECONDITION', `container ${shortId(id)} has no runtime config (its create did not finish): remove it`, { details: { id } });
  }
  return saved;
}

/** Writes an updated `spec.json`. @internal */
export async function saveContainerConfig(containerDir: string, saved: SavedContainerConfig): Promise<void> {
  await writeJsonAtomic(join(containerDir, FILE), saved, { mode: 0o600 });
}

/** The signal `stop` sends first: the spec's stop-signal annotation, else SIGTERM. @internal */
export function stopSignalOf(spec: Spec): string {
  return spec.annotations?.[STOP_SIGNAL_ANNOTATION] ?? DEFAULT_STOP_SIGNAL;
}
