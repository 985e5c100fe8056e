import { readFile, realpath } from 'node:fs/promises';
import { posix } from 'node:path';
import { newError } from '../errors/index.js';
import { errnoOf } from './fs-error.js';
import { isInside } from './safe-path.js';

// Which mounts of this mount namespace use a directory, read from /proc/self/mountinfo (proc(5)): a snapshotter
// must not delete a tree a running container has mounted. A directory is in use when something is mounted on or
// under it, when it (or a directory below it) is the source of a bind mount, or when it holds an overlay layer.

/** One line of `/proc/<pid>/mountinfo`. */
export interface MountInfoEntry {
  /** Field 3, `major:minor` of the filesystem's device (st_dev). */
  device: string;
  /** Field 4: the directory of that filesystem mounted here (`/` for the whole fs, deeper for a bind mount). */
  root: string;
  /** Field 5: where it is mounted. */
  mountPoint: string;
  /** Filesystem type (`overlay`, `ext4`…). */
  fsType: string;
  /** Mount source (`overlay`, `/dev/vda`…). */
  source: string;
  /** Per-superblock options, unescaped (`lowerdir=/a:/b`, `upperdir=…`). */
  superOptions: string[];
}

/** Options of {@link readMountInfo} and {@link mountsUsing}. */
export interface MountInfoOptions {
  /** Cancels the call; rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** The kernel escapes space, tab, newline, backslash (and in options `,` and `=`) as `\ooo`. */
export function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses the text of `/proc/<pid>/mountinfo`; lines of another shape are skipped. */
export function parseMountInfo(text: string): MountInfoEntry[] {
  const entries: MountInfoEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    // Optional fields (shared:N, master:N…) end at a lone `-`.
    const dash = fields.indexOf('-', 6);
    if (dash < 0 || fields.length < dash + 4) continue;
    entries.push({
      device: fields[2]!,
      root: unescapeMountField(fields[3]!),
      mountPoint: unescapeMountField(fields[4]!),
      fsType: unescapeMountField(fields[dash + 1]!),
      source: unescapeMountField(fields[dash + 2]!),
      // Split before unescaping: a comma inside a value is escaped, the separators are not.
      superOptions: fields[dash + 3]!.split(',').map(unescapeMountField),
    });
  }
  return entries;
}

/**
 * The mounts of this process's mount namespace.
 *
 * @throws ERR_IO when `/proc/self/mountinfo` cannot be read. Rejects with `signal.reason` on abort.
 */
export async function readMountInfo(options: MountInfoOptions = {}): Promise<MountInfoEntry[]> {
  options.signal?.throwIfAborted();
  try {
    return parseMountInfo(await readFile('/proc/self/mountinfo', { encoding: 'utf8', signal: options.signal }));
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw newError('ERR_IO', `cannot read /proc/self/mountinfo: ${(err as Error).message}`, { cause: err, details: { errno: errnoOf(err) } });
  }
}

/** The directories an overlay mount is made of (lower, upper, work and data layers). */
function overlayLayers(entry: MountInfoEntry): string[] {
  const dirs: string[] = [];
  for (const option of entry.superOptions) {
    const eq = option.indexOf('=');
    const key = option.slice(0, eq);
    const value = option.slice(eq + 1);
    if (key === 'upperdir' || key === 'workdir' || key === 'lowerdir+' || key === 'datadir+') dirs.push(value);
    // `:` separates layers; `::` marks data-only layers; a `:` in a path is escaped as `\:`.
    if (key === 'lowerdir') dirs.push(...value.split(/(?<!\\):+/).filter((d) => d !== ''));
  }
  return dirs;
}

/**
 * Mount points in this process's mount namespace that use `dir`: mounted on or under it, bind-mounted from it or
 * from a directory below it, or overlays with a layer (lower, upper or work dir) in it. Sorted, each once. Mounts
 * of other mount namespaces (a container's own, after its host-side mount is gone) are not seen.
 *
 * @returns `[]` when `dir` does not exist.
 * @throws ERR_INVALID_ARGUMENT for an empty or relative dir; ERR_IO when mountinfo or `dir` cannot be read.
 *   Rejects with `signal.reason` on abort.
 */
export async function mountsUsing(dir: string, options: MountInfoOptions = {}): Promise<string[]> {
  if (typeof dir !== 'string' || !dir.startsWith('/') || dir.includes('\0')) throw newError('ERR_INVALID_ARGUMENT', 'dir must be an absolute path');
  options.signal?.throwIfAborted();
  let real: string;
  try {
    // mountinfo shows canonical paths.
    real = await realpath(dir);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return [];
    throw newError('ERR_IO', `cannot resolve ${dir}: ${(err as Error).message}`, { cause: err, details: { errno: errnoOf(err), path: dir } });
  }
  const entries = await readMountInfo(options);
  const inDir = (path: string): boolean => isInside(real, path) || isInside(dir, path);
  const users = new Set<string>();
  // The mount `dir` lives on (the deepest mount point above it; the last one listed where mounts are stacked), and
  // where `dir` sits inside that filesystem: a bind mount of it shows that path as its root.
  let home: MountInfoEntry | undefined;
  for (const e of entries) {
    if (isInside(e.mountPoint, real) && (home === undefined || e.mountPoint.length >= home.mountPoint.length)) home = e;
  }
  const inFs = home === undefined ? undefined : posix.join(home.root, posix.relative(home.mountPoint, real));
  for (const e of entries) {
    if (inDir(e.mountPoint)) users.add(e.mountPoint);
    else if (e.fsType === 'overlay' && overlayLayers(e).some(inDir)) users.add(e.mountPoint);
    else if (inFs !== undefined && e !== home && e.device === home!.device && isInside(inFs, e.root)) users.add(e.mountPoint);
  }
  return [...users].sort();
}
