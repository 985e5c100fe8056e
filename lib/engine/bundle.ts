import { mkdir, rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { newError } from '../errors/index.js';
import type { Spec } from '../oci/index.js';
import { fsError } from '../util/fs-error.js';
import { mountsUnder, writeJsonAtomic } from '../util/index.js';

// An OCI bundle as the Engine hands it to a runner: `<bundle>/config.json` and `<bundle>/rootfs/`, the mount
// point of the container's snapshot (the runner mounts it there and undoes it).

/** Options of {@link writeBundle} and {@link removeBundle}. */
export interface BundleOptions {
  /** Cancels the call; rejects with `signal.reason`. */
  signal?: AbortSignal;
}

function checkBundle(bundle: unknown): string {
  if (typeof bundle !== 'string' || !isAbsolute(bundle) || bundle.includes('\0')) throw newError('ERR_INVALID_ARGUMENT', 'bundle must be an absolute path');
  return bundle;
}

/**
 * Writes the bundle: creates `bundle` and an empty `rootfs/` in it, and writes `config.json` atomically (a crash
 * never leaves a half-written spec) from `spec` with its `root.path` set to `<bundle>/rootfs` (`root.readonly`
 * kept). `spec` is not changed.
 * @returns the spec as written.
 * @throws ERR_INVALID_ARGUMENT for a relative bundle or a spec that is not an object; ERR_IO.
 */
export async function writeBundle(bundle: string, spec: Spec, options: BundleOptions = {}): Promise<Spec> {
  checkBundle(bundle);
  if (typeof spec !== 'object' || spec === null) throw newError('ERR_INVALID_ARGUMENT', 'spec must be an object');
  const { signal } = options;
  signal?.throwIfAborted();
  const rootfs = join(bundle, 'rootfs');
  try {
    await mkdir(rootfs, { recursive: true, mode: 0o711 });
  } catch (err) {
    throw fsError(err, 'create', rootfs);
  }
  const written: Spec = { ...spec, root: { ...spec.root, path: rootfs, readonly: spec.root?.readonly ?? false } };
  await writeJsonAtomic(join(bundle, 'config.json'), written, { mode: 0o600, signal });
  return written;
}

/**
 * Removes the bundle and everything in it. Refuses while anything is mounted at or under it (the rootfs of a
 * task not yet removed): deleting through a mount would delete the container's files.
 * @throws ERR_FAILED_PRECONDITION naming the mount points; ERR_INVALID_ARGUMENT; ERR_IO.
 */
export async function removeBundle(bundle: string, options: BundleOptions = {}): Promise<void> {
  checkBundle(bundle);
  const { signal } = options;
  signal?.throwIfAborted();
  const mounted = await mountsUnder(bundle, { signal });
  if (mounted.length > 0) {
    throw newError('ERR_FAILED_PRECONDITION', `bundle ${bundle} still has mounts (${mounted.join(', ')}): remove its task first`, {
      details: { bundle, mountPoints: mounted },
    });
  }
  try {
    await rm(bundle, { recursive: true, force: true, maxRetries: 3 });
  } catch (err) {
    throw fsError(err, 'remove', bundle);
  }
}
