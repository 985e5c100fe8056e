import { promises as fsp, lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { newError } from '../errors/index.js';

// Symlink-aware containment: resolve a path inside a root as if the root were `/` (a chroot without the
// syscall). Used by the unpacker for every tar entry and link target, and by runtime, engine and network code
// for every path taken from an image or a user.
//
// TOCTOU: the answer is only true at the moment it was computed. A process that can write inside the root
// (a running container) may swap a directory for a symlink between resolveInRoot() and the caller's open().
// Callers working on a root that something else is writing to (a container's rootfs) open through
// openInRoot / readFileInRoot / writeFileInRoot (open-in-root.ts), which cannot leave the root at any component;
// callers on a root nobody else touches (an unpack into a fresh snapshot) are safe with a resolved path.

/** Linux gives up after 40 links; like containerd's and moby's helpers we allow more, and count every link followed. */
export const MAX_SYMLINK_FOLLOWS = 255;

/** Options for {@link resolveInRoot} and {@link resolveInRootSync}. */
export interface ResolveInRootOptions {
  /**
   * Whether a symlink in the last component is followed. Default `true`. With `false` the result names the
   * link itself (what `lstat`, `unlink` or replacing the link need). A trailing `/` or `/.` does not force
   * following, unlike POSIX path resolution.
   */
  followFinal?: boolean;
  /** Cancels the resolution between filesystem calls (async variant only). */
  signal?: AbortSignal;
}

/** What the walker asks the driver for. */
type Probe = { kind: 'missing' } | { kind: 'link'; target: string } | { kind: 'other' };

// The algorithm is a generator so the async and the sync variant share it: it yields host paths to probe and
// receives what is there.
function* walk(realRoot: string, unsafePath: string, followFinal: boolean): Generator<string, string, Probe> {
  const resolved: string[] = [];
  const pending = splitPath(unsafePath);
  let follows = 0;
  // Index in `resolved` of the first component known not to exist; nothing below it needs probing.
  let missingFrom = Infinity;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      // Clamped at the root: `..` of the root is the root, as in a chroot.
      resolved.pop();
      if (resolved.length <= missingFrom) missingFrom = Infinity;
      continue;
    }
    const isLast = pending.every((p) => p === '' || p === '.');
    if (resolved.length >= missingFrom || (isLast && !followFinal)) {
      resolved.push(part);
      continue;
    }
    const probe = yield join(realRoot, ...resolved, part);
    if (probe.kind === 'link') {
      follows += 1;
      if (follows > MAX_SYMLINK_FOLLOWS) {
        throw newError('ERR_SYMLINK_LOOP', `too many symlinks (more than ${MAX_SYMLINK_FOLLOWS}) resolving "${unsafePath}" in ${realRoot}`, {
          details: { root: realRoot, path: unsafePath },
        });
      }
      // An absolute target restarts at the root; a relative one continues from the link's directory, which is
      // exactly `resolved` as it stands.
      if (isAbsolute(probe.target)) resolved.length = 0;
      pending.unshift(...splitPath(probe.target));
      continue;
    }
    if (probe.kind === 'missing') missingFrom = resolved.length;
    resolved.push(part);
  }
  return join(realRoot, ...resolved);
}

function splitPath(path: string): string[] {
  return path.split('/');
}

function validate(root: unknown, path: unknown, options: ResolveInRootOptions): void {
  if (typeof root !== 'string' || root === '' || root.includes('\0')) {
    throw newError('ERR_INVALID_ARGUMENT', 'root must be a non-empty path without NUL bytes');
  }
  if (typeof path !== 'string' || path.includes('\0')) {
    throw newError('ERR_INVALID_ARGUMENT', 'path must be a string without NUL bytes');
  }
  if (options.followFinal !== undefined && typeof options.followFinal !== 'boolean') {
    throw newError('ERR_INVALID_ARGUMENT', 'options.followFinal must be a boolean');
  }
}

function probeError(err: unknown, hostPath: string): Probe {
  const code = (err as NodeJS.ErrnoException).code;
  // ENOTDIR: a regular file used as a directory; like a missing component, it is kept lexically.
  if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
  throw newError('ERR_IO', `cannot inspect ${hostPath}: ${(err as Error).message}`, { cause: err, details: { errno: code, path: hostPath } });
}

function rootError(err: unknown, root: string): never {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') throw newError('ERR_NOT_FOUND', `root ${root} does not exist`, { cause: err, details: { root } });
  if (code === 'ELOOP') throw newError('ERR_SYMLINK_LOOP', `root ${root} is a symlink loop`, { cause: err, details: { root } });
  throw newError('ERR_IO', `cannot resolve root ${root}: ${(err as Error).message}`, { cause: err, details: { errno: code, root } });
}

function notADirectory(root: string): never {
  throw newError('ERR_INVALID_ARGUMENT', `root ${root} is not a directory`, { details: { root } });
}

/**
 * Resolves `path` inside `root` as if `root` were `/`, and returns a host path guaranteed to be inside the
 * (real path of the) root. Every symlink met on the way is followed within the root: absolute targets are
 * re-rooted at `root`, relative targets are taken from the link's directory, and `..` never climbs above the
 * root. Components that do not exist yet are kept as they are, so the result can name a file about to be
 * created. `path` may be absolute or relative; both are taken from the root. The root itself may be reached
 * through a symlink: it is resolved once with realpath.
 *
 * Only symlinks already on disk are considered; see the TOCTOU note at the top of this file.
 *
 * @throws ERR_INVALID_ARGUMENT for a bad argument or when `root` is not a directory.
 * @throws ERR_NOT_FOUND when `root` does not exist.
 * @throws ERR_SYMLINK_LOOP after {@link MAX_SYMLINK_FOLLOWS} symlinks (a loop).
 * @throws ERR_IO when a component cannot be inspected (EACCES, EIO…).
 */
export async function resolveInRoot(root: string, path: string, options: ResolveInRootOptions = {}): Promise<string> {
  validate(root, path, options);
  const { followFinal = true, signal } = options;
  signal?.throwIfAborted();
  let realRoot: string;
  let isDir: boolean;
  try {
    realRoot = await fsp.realpath(root);
    isDir = (await fsp.stat(realRoot)).isDirectory();
  } catch (err) {
    rootError(err, root);
  }
  if (!isDir) notADirectory(root);
  const walker = walk(realRoot, path, followFinal);
  let step = walker.next();
  while (!step.done) {
    signal?.throwIfAborted();
    const hostPath = step.value;
    let probe: Probe;
    try {
      const st = await fsp.lstat(hostPath);
      probe = st.isSymbolicLink() ? { kind: 'link', target: await fsp.readlink(hostPath) } : { kind: 'other' };
    } catch (err) {
      probe = probeError(err, hostPath);
    }
    step = walker.next(probe);
  }
  return assertInside(realRoot, step.value);
}

/**
 * The synchronous twin of {@link resolveInRoot}, same rules and errors, for callers that are already
 * synchronous (it blocks the event loop for one lstat per component).
 */
export function resolveInRootSync(root: string, path: string, options: Omit<ResolveInRootOptions, 'signal'> = {}): string {
  validate(root, path, options);
  const { followFinal = true } = options;
  let realRoot: string;
  let isDir: boolean;
  try {
    realRoot = realpathSync.native(root);
    isDir = statSync(realRoot).isDirectory();
  } catch (err) {
    rootError(err, root);
  }
  if (!isDir) notADirectory(root);
  const walker = walk(realRoot, path, followFinal);
  let step = walker.next();
  while (!step.done) {
    const hostPath = step.value;
    let probe: Probe;
    try {
      const st = lstatSync(hostPath);
      probe = st.isSymbolicLink() ? { kind: 'link', target: readlinkSync(hostPath) } : { kind: 'other' };
    } catch (err) {
      probe = probeError(err, hostPath);
    }
    step = walker.next(probe);
  }
  return assertInside(realRoot, step.value);
}

/**
 * Whether `hostPath` is `root` or lies below it, judged lexically (both are made absolute and normalised; no
 * symlink is looked at). Use {@link resolveInRoot} first when the path may contain symlinks.
 */
export function isInside(root: string, hostPath: string): boolean {
  const rel = relative(resolve(root), resolve(hostPath));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Checks lexically that `hostPath` is inside `root` and returns it normalised (absolute).
 *
 * @throws ERR_PATH_ESCAPE when it is not.
 */
export function assertInside(root: string, hostPath: string): string {
  if (!isInside(root, hostPath)) {
    throw newError('ERR_PATH_ESCAPE', `path ${hostPath} is outside ${root}`, { details: { root, path: hostPath } });
  }
  return resolve(hostPath);
}
