import { mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logger } from './debug.js';
import { fsError } from './fs-error.js';
import { type MountSpec, mount, mountsUnder, unmount } from './mount.js';

const log = logger('util:temp-mount');

/** Options of {@link withTempMount}. */
export interface TempMountOptions {
  /** Directory the temporary mount point is made in. Default the OS temp dir. */
  parent?: string;
  /** Cancels the mounts and is passed to `fn`; everything mounted is unmounted all the same. */
  signal?: AbortSignal;
}

/**
 * Mounts `mounts`, in order, on one fresh temporary directory (as a runtime stacks a rootfs), runs `fn` on it,
 * then unmounts everything at that directory and removes it — after success, failure or abort alike
 * (containerd's `mount.WithTempMount`). What is unmounted is read from mountinfo, so a mount that an abort cut
 * short is not left behind either.
 *
 * @throws the errors of {@link mount} and of `fn`; ERR_IO when the directory cannot be made. An unmount failure
 *   after `fn` succeeded is thrown too (a mount left behind would pin the snapshot).
 */
export async function withTempMount<T>(mounts: readonly MountSpec[], fn: (root: string) => Promise<T>, options: TempMountOptions = {}): Promise<T> {
  const { signal } = options;
  signal?.throwIfAborted();
  const parent = options.parent ?? tmpdir();
  let root: string;
  try {
    root = await mkdtemp(join(parent, 'ck-mount-'));
  } catch (err) {
    throw fsError(err, 'create', parent);
  }
  let result: T;
  try {
    for (const m of mounts) await mount(m, root, { signal });
    result = await fn(root);
  } catch (err) {
    await release(root).catch((e: unknown) => log('cannot release %s: %s', root, (e as Error).message));
    throw err;
  }
  await release(root);
  return result;
}

/**
 * Unmounts every mount at or under `root` (no signal: this cleanup must run to the end), detaching lazily one
 * still busy (a stream an abort left closing), and removes `root`.
 */
async function release(root: string): Promise<void> {
  for (const point of await mountsUnder(root)) {
    await unmount(point).catch((err: unknown) => {
      log('unmount %s: %s; detaching', point, (err as Error).message);
      return unmount(point, { lazy: true });
    });
  }
  await rmdir(root);
}
