import type { Mount } from '../oci/mount.js';
import { withTempMount } from '../util/temp-mount.js';
import type { WhiteoutFormat } from './whiteouts.js';

/** The overlay upper dir of a snapshot mounted by `mounts` alone, when it is one overlay with an upper dir. */
export function overlayUpper(mounts: readonly Mount[]): string | undefined {
  const [only] = mounts;
  if (mounts.length !== 1 || only?.type !== 'overlay') return undefined;
  const upper = only.options.find((o) => o.startsWith('upperdir='));
  return upper?.slice('upperdir='.length);
}

/** The source of a snapshot mounted by `mounts` alone, when it is one bind: the tree itself. */
export function bindSource(mounts: readonly Mount[]): string | undefined {
  const [only] = mounts;
  return mounts.length === 1 && only?.type === 'bind' ? only.source : undefined;
}

/**
 * Runs `fn` on the directory a layer is applied into for a snapshot mounted by `mounts`, as containerd's applier
 * finds it: one overlay's upper dir (the snapshot's own layer; whiteouts as overlay char devices), one bind's
 * source (the whole tree), or else the mounts performed on a temporary directory and unmounted afterwards, on
 * every path. The fast paths mount nothing.
 */
export async function withWritableTree<T>(
  mounts: readonly Mount[],
  fn: (dir: string, whiteoutFormat: WhiteoutFormat) => Promise<T>,
  options: { signal?: AbortSignal } = {},
): Promise<T> {
  const upper = overlayUpper(mounts);
  if (upper !== undefined) return fn(upper, 'overlay');
  const source = bindSource(mounts);
  if (source !== undefined) return fn(source, 'apply');
  return withTempMount(mounts, (root) => fn(root, 'apply'), options);
}

/** Runs `fn` on the whole tree of a snapshot mounted by `mounts`: one bind's source, else a temporary mount. */
export async function withTree<T>(mounts: readonly Mount[], fn: (dir: string) => Promise<T>, options: { signal?: AbortSignal } = {}): Promise<T> {
  const source = bindSource(mounts);
  if (source !== undefined) return fn(source);
  return withTempMount(mounts, fn, options);
}
