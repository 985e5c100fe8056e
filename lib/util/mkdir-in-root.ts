import { constants, promises as fsp } from 'node:fs';
import { relative } from 'node:path';
import { hasCode, newError } from '../errors/index.js';
import { errnoOf } from './fs-error.js';
import { openInRoot } from './open-in-root.js';
import { resolveInRoot } from './safe-path.js';

// `mkdir -p` inside a root that may be hostile (an image's rootfs), with openInRoot's guarantee. Symlinks on the
// way are first resolved inside the root (so a dangling `/link -> /data` makes `/data` in the root, as docker's
// securejoin does); then each level is opened through openInRoot (symlinks resolved inside the root, swaps during the walk cannot lead out) and the
// missing child is created by name in the directory that fd holds (`/proc/self/fd/<fd>/<name>`), so mkdir never
// follows a symlink and never lands outside the root.

const { O_RDONLY, O_DIRECTORY } = constants;

/** Options of {@link mkdirAllInRoot}. */
export interface MkdirInRootOptions {
  /** Mode of the directories created (before the umask). Default `0o755`. */
  mode?: number;
  /** Cancels between levels; rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/**
 * Creates the directory `path` inside `root` and its missing parents, as if `root` were `/`. Symlinks on the way
 * are followed inside the root, dangling ones included (their targets are created); created directories are
 * owned by the caller.
 *
 * @returns whether any level was created.
 * @throws ERR_INVALID_ARGUMENT for a bad argument or a root that is not a directory; ERR_FAILED_PRECONDITION when a level exists and is not a
 *   directory (`details.path`); the errors of `openInRoot` (ERR_NOT_FOUND for a missing root, ERR_SYMLINK_LOOP…);
 *   ERR_IO when mkdir fails otherwise (EROFS, EACCES…). Rejects with `signal.reason` on abort.
 */
export async function mkdirAllInRoot(root: string, path: string, options: MkdirInRootOptions = {}): Promise<boolean> {
  const { mode = 0o755, signal } = options;
  if (typeof path !== 'string' || path.includes('\0')) throw newError('ERR_INVALID_ARGUMENT', 'path must be a string without NUL bytes');
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw newError('ERR_INVALID_ARGUMENT', 'options.mode must be a file mode (0..0o7777)');
  // The resolved path has no symlinks, `.` or `..` (at this moment; the walk below stays inside the root anyway).
  const resolved = await resolveInRoot(root, path, { signal });
  const parts = relative(await fsp.realpath(root), resolved)
    .split('/')
    .filter((p) => p !== '');
  let created = false;
  for (let i = 0; i < parts.length; i++) {
    signal?.throwIfAborted();
    const prefix = parts.slice(0, i + 1).join('/');
    if (await isDirInRoot(root, prefix, signal)) continue;
    const parent = await openInRoot(root, parts.slice(0, i).join('/'), O_RDONLY | O_DIRECTORY, { signal });
    try {
      await fsp.mkdir(`/proc/self/fd/${parent.fd}/${parts[i]}`, mode);
      created = true;
    } catch (err) {
      // EEXIST: made meanwhile, or a file or symlink is there; the next check tells which.
      if (errnoOf(err) !== 'EEXIST') {
        throw newError('ERR_IO', `cannot create ${JSON.stringify(`/${prefix}`)} in ${root}: ${(err as Error).message}`, {
          cause: err,
          details: { root, path: `/${prefix}`, errno: errnoOf(err) },
        });
      }
    } finally {
      await parent.close();
    }
    if (!(await isDirInRoot(root, prefix, signal))) {
      throw newError('ERR_FAILED_PRECONDITION', `${JSON.stringify(`/${prefix}`)} in ${root} exists and is not a directory`, {
        details: { root, path: `/${prefix}` },
      });
    }
  }
  return created;
}

/** Whether `path` resolves (inside `root`) to a directory; false when it is missing. */
async function isDirInRoot(root: string, path: string, signal: AbortSignal | undefined): Promise<boolean> {
  let fh;
  try {
    fh = await openInRoot(root, path, O_RDONLY | O_DIRECTORY, { signal });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    // A missing level, or a file where a directory is wanted (ENOTDIR is reported as not found); a missing root
    // (no `details.path`) stays an error.
    if (hasCode(err, 'ERR_NOT_FOUND') && err.details.path !== undefined) return false;
    throw err;
  }
  await fh.close();
  return true;
}
