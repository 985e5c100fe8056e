import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoOf, fsError } from './fs-error.js';

/**
 * `mkdir -p` that always ends. Node's `mkdir(path, { recursive: true })` never returns for a path under /proc or
 * /sys (`/proc/1/x`): mkdir says ENOENT, the parent exists, and it retries forever on a libuv thread, deaf to
 * signals. Here each missing level is made once, top-down; a level that cannot be made fails.
 * @throws ERR_NOT_FOUND when a level cannot be created because of ENOENT (procfs, sysfs, a race with a removal);
 *   ERR_IO otherwise (ENOTDIR, EACCES, EROFS…).
 */
export async function makeDirs(path: string, mode?: number): Promise<void> {
  const missing: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      if ((await stat(dir)).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR' });
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw fsError(err, 'create directory', path);
    }
    missing.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing) {
    try {
      await mkdir(dir, mode === undefined ? undefined : { mode });
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw fsError(err, 'create directory', dir);
    }
  }
}
