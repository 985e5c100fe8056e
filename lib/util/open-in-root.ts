import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { type ContainerkitError, newError } from '../errors/index.js';
import { errnoOf } from './fs-error.js';

// Opening a file inside a root that something else may be changing (a running container's rootfs), so that no
// component can lead out of it, even when a directory is swapped for a symlink during the open: what Linux's
// openat2(RESOLVE_IN_ROOT) does. Node 20 has neither openat nor openat2, so the path is walked one component at a
// time, each opened as `/proc/self/fd/<dirfd>/<name>`: the kernel jumps through the magic link to exactly the
// directory that fd holds (wherever it has been moved since) and looks up only <name> there; O_NOFOLLOW stops at a
// symlink, whose target is then resolved here, inside the root. `..` pops a stack of directory fds instead of being
// looked up, so a directory moved out of the root cannot be climbed out of. resolveInRoot (safe-path.ts) computes
// a path, which is only true at that moment; this module opens, which stays true.

/** Like Linux (and openat2), give up after 40 symlinks: a loop. */
export const MAX_IN_ROOT_SYMLINKS = 40;

const { O_RDONLY, O_WRONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_CREAT, O_EXCL } = constants;
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;

/** Options of {@link openInRoot}. */
export interface OpenInRootOptions {
  /** Mode of a file created by `O_CREAT` (before the umask). Default `0o666`. */
  mode?: number;
  /** Cancels between components; rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of {@link readFileInRoot}. */
export interface ReadFileInRootOptions {
  /** Largest file accepted, in bytes. Default 16 MiB. */
  maxBytes?: number;
  /** Cancels the open and the read; rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of {@link writeFileInRoot}. */
export interface WriteFileInRootOptions {
  /** Permission bits of the file, set exactly (the umask does not apply). Default `0o644`. */
  mode?: number;
  /** Owner uid of the file. Default: the caller's. */
  uid?: number;
  /** Owner gid of the file. Default: the caller's. */
  gid?: number;
  /** Cancels before the file replaces the old one; rejects with `signal.reason`. */
  signal?: AbortSignal;
}

function fdPath(dir: FileHandle, name?: string): string {
  return name === undefined ? `/proc/self/fd/${dir.fd}` : `/proc/self/fd/${dir.fd}/${name}`;
}

function checkArgs(root: unknown, path: unknown): void {
  if (typeof root !== 'string' || root === '' || root.includes('\0')) {
    throw newError('ERR_INVALID_ARGUMENT', 'root must be a non-empty path without NUL bytes');
  }
  if (typeof path !== 'string' || path.includes('\0')) throw newError('ERR_INVALID_ARGUMENT', 'path must be a string without NUL bytes');
}

function checkSignal(signal: unknown): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw newError('ERR_INVALID_ARGUMENT', 'options.signal must be an AbortSignal');
}

/** A Node error met while opening `path` in `root`, translated once. */
function openError(err: unknown, root: string, path: string): ContainerkitError {
  const errno = errnoOf(err);
  const details = { root, path, errno };
  const where = `${JSON.stringify(path)} in ${root}`;
  switch (errno) {
    case 'ENOENT':
    case 'ENOTDIR':
      return newError('ERR_NOT_FOUND', `${where} does not exist`, { cause: err, details });
    case 'EEXIST':
      return newError('ERR_ALREADY_EXISTS', `${where} already exists`, { cause: err, details });
    case 'EISDIR':
      return newError('ERR_FAILED_PRECONDITION', `${where} is a directory`, { cause: err, details });
    case 'ELOOP':
      return newError('ERR_SYMLINK_LOOP', `too many symlinks resolving ${where}`, { cause: err, details });
    default:
      return newError('ERR_IO', `cannot open ${where}: ${(err as Error).message}`, { cause: err, details });
  }
}

/** One walk of a path inside a root: a stack of open directories (the root at the bottom) and what is left to do. */
class InRootWalk {
  readonly #stack: FileHandle[];
  readonly #pending: string[];
  #follows = 0;

  private constructor(
    readonly root: string,
    readonly path: string,
    rootDir: FileHandle,
  ) {
    this.#stack = [rootDir];
    this.#pending = path.split('/');
  }

  /**
   * Opens `root` (trusted: symlinks in it are followed) and checks that `/proc/self/fd` leads back to it, since
   * everything below depends on that.
   */
  static async begin(root: string, path: string): Promise<InRootWalk> {
    let dir: FileHandle;
    try {
      dir = await fsp.open(root, O_RDONLY | O_DIRECTORY);
    } catch (err) {
      const errno = errnoOf(err);
      if (errno === 'ENOENT') throw newError('ERR_NOT_FOUND', `root ${root} does not exist`, { cause: err, details: { root } });
      if (errno === 'ENOTDIR') throw newError('ERR_INVALID_ARGUMENT', `root ${root} is not a directory`, { cause: err, details: { root } });
      throw newError('ERR_IO', `cannot open root ${root}: ${(err as Error).message}`, { cause: err, details: { root, errno } });
    }
    try {
      const [viaFd, st] = await Promise.all([fsp.stat(fdPath(dir)), dir.stat()]);
      if (viaFd.ino !== st.ino || viaFd.dev !== st.dev) throw new Error('/proc/self/fd does not lead back to the opened root');
    } catch (err) {
      await dir.close();
      throw newError('ERR_UNSUPPORTED_PLATFORM', `opening files inside a root needs /proc mounted: ${(err as Error).message}`, {
        cause: err,
        details: { root },
      });
    }
    return new InRootWalk(root, path, dir);
  }

  /** The directory reached so far. */
  get top(): FileHandle {
    return this.#stack[this.#stack.length - 1]!;
  }

  /**
   * Opens every directory up to the last component: returns that component's name (it lies in {@link top}), or
   * `undefined` when the path ends at {@link top} itself (empty, `/`, `.` or `..` last). A trailing `/` is
   * ignored, as in resolveInRoot.
   */
  async advance(signal: AbortSignal | undefined): Promise<string | undefined> {
    for (;;) {
      signal?.throwIfAborted();
      const part = this.#pending.shift();
      if (part === undefined) return undefined;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        // Clamped at the root, as in a chroot; never a lookup of `..`.
        if (this.#stack.length > 1) await this.#stack.pop()!.close();
        continue;
      }
      if (this.#pending.every((p) => p === '' || p === '.')) return part;
      await this.#descend(part);
    }
  }

  async #descend(name: string): Promise<void> {
    let dir: FileHandle;
    try {
      dir = await fsp.open(fdPath(this.top, name), DIR_FLAGS);
    } catch (err) {
      // O_NOFOLLOW|O_DIRECTORY on a symlink fails with ENOTDIR (sometimes ELOOP): resolve it ourselves.
      const errno = errnoOf(err);
      if ((errno === 'ENOTDIR' || errno === 'ELOOP') && (await this.followLink(name))) return;
      if (errno === 'ELOOP') return this.retry(name);
      throw openError(err, this.root, this.path);
    }
    this.#stack.push(dir);
    // O_DIRECTORY already guarantees it; checked again because everything after relies on it.
    if (!(await dir.stat()).isDirectory()) throw openError(Object.assign(new Error('not a directory'), { code: 'ENOTDIR' }), this.root, this.path);
  }

  /**
   * When `name` in {@link top} is a symlink, queues its target (an absolute one from the root again) and returns
   * true; false when it is not (or no longer) a symlink.
   *
   * @throws ERR_SYMLINK_LOOP past {@link MAX_IN_ROOT_SYMLINKS}.
   */
  async followLink(name: string): Promise<boolean> {
    const target = await this.readLink(name);
    if (target === undefined) return false;
    this.#countFollow();
    if (target.startsWith('/')) while (this.#stack.length > 1) await this.#stack.pop()!.close();
    this.#pending.unshift(...target.split('/'));
    return true;
  }

  /** The target of the symlink `name` in {@link top}, or undefined when it is not (or no longer) a symlink. */
  async readLink(name: string): Promise<string | undefined> {
    try {
      return await fsp.readlink(fdPath(this.top, name));
    } catch (err) {
      const errno = errnoOf(err);
      if (errno === 'EINVAL' || errno === 'ENOENT') return undefined;
      throw openError(err, this.root, this.path);
    }
  }

  /** `name` changed between two calls (a symlink swapped for something else): look it up again, counted as a follow. */
  retry(name: string): void {
    this.#countFollow();
    this.#pending.unshift(name);
  }

  #countFollow(): void {
    this.#follows += 1;
    if (this.#follows > MAX_IN_ROOT_SYMLINKS) {
      throw newError('ERR_SYMLINK_LOOP', `too many symlinks (more than ${MAX_IN_ROOT_SYMLINKS}) resolving ${JSON.stringify(this.path)} in ${this.root}`, {
        details: { root: this.root, path: this.path },
      });
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#stack.splice(0).map((fh) => fh.close()));
  }
}

/**
 * Opens `path` inside `root` as if `root` were `/` — openat2(2)'s RESOLVE_IN_ROOT in pure Node — and returns the
 * open file. Every component is looked up in the directory opened for the one before it, so a directory swapped
 * for a symlink (or moved) while the call runs cannot lead out of the root: symlinks are resolved inside the root
 * (absolute targets from the root, relative ones from the link's directory), `..` stops at the root, and magic
 * links (`/proc/<pid>/root`) are only read as text. A symlink in the last component is followed the same way,
 * unless `flags` holds `O_NOFOLLOW`; with `O_CREAT` a dangling one is created inside the root. `O_CREAT|O_EXCL`
 * never follows. `root` itself is trusted (symlinks in it are followed). Needs `/proc`.
 *
 * @param flags `open(2)` flags from `fs.constants`. Default `O_RDONLY`. Add `O_NONBLOCK` when a FIFO may sit
 *   there, or the open blocks.
 * @throws ERR_INVALID_ARGUMENT for a bad argument or a root that is not a directory; ERR_NOT_FOUND when `root`
 *   or a component does not exist, or a component is not a directory; ERR_ALREADY_EXISTS (`O_EXCL`);
 *   ERR_FAILED_PRECONDITION when the last component is a directory opened for writing, or a symlink with
 *   `O_NOFOLLOW` (`details.errno` `EISDIR` / `ELOOP`); ERR_SYMLINK_LOOP after {@link MAX_IN_ROOT_SYMLINKS}
 *   symlinks; ERR_UNSUPPORTED_PLATFORM without `/proc`; ERR_IO otherwise (`details.errno`). Rejects with
 *   `signal.reason` on abort.
 */
export async function openInRoot(root: string, path: string, flags: number = O_RDONLY, options: OpenInRootOptions = {}): Promise<FileHandle> {
  checkArgs(root, path);
  if (!Number.isInteger(flags) || flags < 0) throw newError('ERR_INVALID_ARGUMENT', 'flags must be a non-negative integer of fs.constants');
  const { mode = 0o666, signal } = options;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw newError('ERR_INVALID_ARGUMENT', 'options.mode must be a file mode (0..0o7777)');
  checkSignal(signal);
  signal?.throwIfAborted();
  const walk = await InRootWalk.begin(root, path);
  try {
    for (;;) {
      const name = await walk.advance(signal);
      if (name === undefined) {
        // The path ends at a directory the walk holds: reopen it with the caller's flags through its fd (O_NOFOLLOW
        // would refuse the magic link itself).
        try {
          return await fsp.open(fdPath(walk.top), flags & ~O_NOFOLLOW, mode);
        } catch (err) {
          throw openError(err, root, path);
        }
      }
      try {
        return await fsp.open(fdPath(walk.top, name), flags | O_NOFOLLOW, mode);
      } catch (err) {
        const errno = errnoOf(err);
        if (errno === 'ELOOP' || (errno === 'ENOTDIR' && (flags & O_DIRECTORY) !== 0)) {
          if ((flags & O_NOFOLLOW) !== 0) {
            if ((await walk.readLink(name)) !== undefined) {
              throw newError('ERR_FAILED_PRECONDITION', `${JSON.stringify(path)} in ${root} is a symlink (O_NOFOLLOW)`, {
                cause: err,
                details: { root, path, errno: 'ELOOP' },
              });
            }
          } else if (await walk.followLink(name)) {
            continue;
          } else if (errno === 'ELOOP') {
            walk.retry(name);
            continue;
          }
        }
        throw openError(err, root, path);
      }
    }
  } finally {
    await walk.close();
  }
}

/**
 * Reads a regular file inside `root` through {@link openInRoot} (symlinks resolved inside the root, FIFOs and
 * devices refused without blocking), up to `maxBytes`.
 *
 * @throws the errors of {@link openInRoot} (ERR_NOT_FOUND for a missing file); ERR_FAILED_PRECONDITION when it is
 *   not a regular file or is larger than `maxBytes` (`details.maxBytes`); ERR_IO for a failed read. Rejects with
 *   `signal.reason` on abort.
 */
export async function readFileInRoot(root: string, path: string, options: ReadFileInRootOptions = {}): Promise<Buffer> {
  const { maxBytes = 16 * 1024 * 1024, signal } = options;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw newError('ERR_INVALID_ARGUMENT', 'options.maxBytes must be a non-negative integer');
  const fh = await openInRoot(root, path, O_RDONLY | O_NONBLOCK, { signal });
  const where = `${JSON.stringify(path)} in ${root}`;
  try {
    let st;
    try {
      st = await fh.stat();
    } catch (err) {
      throw openError(err, root, path);
    }
    if (!st.isFile()) throw newError('ERR_FAILED_PRECONDITION', `${where} is not a regular file`, { details: { root, path } });
    // One byte more than allowed tells "exactly maxBytes" from "larger", whatever the size said a moment ago.
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let length = 0;
    while (length < buf.length) {
      signal?.throwIfAborted();
      let bytesRead: number;
      try {
        ({ bytesRead } = await fh.read(buf, length, buf.length - length, null));
      } catch (err) {
        throw newError('ERR_IO', `cannot read ${where}: ${(err as Error).message}`, { cause: err, details: { root, path, errno: errnoOf(err) } });
      }
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) {
      throw newError('ERR_FAILED_PRECONDITION', `${where} is larger than ${maxBytes} bytes`, { details: { root, path, maxBytes } });
    }
    return buf.subarray(0, length);
  } finally {
    await fh.close();
  }
}

/**
 * Creates or replaces the file `path` inside `root` with `data`. The directory is found through
 * {@link openInRoot} (symlinks on the way resolved inside the root, and it must exist); the file is written under a
 * temporary name there and renamed over the last component, so a symlink in its place is replaced, never followed,
 * and readers see the old or the new content, never a mix. The file gets a new inode: it cannot replace a mount
 * point (a bind-mounted `/etc/hosts` of a running container) or a directory.
 *
 * @throws ERR_INVALID_ARGUMENT for a bad argument or a path that ends in `/`, `.` or `..`; the errors of
 *   {@link openInRoot} for the directory (ERR_NOT_FOUND when it does not exist); ERR_FAILED_PRECONDITION when
 *   the last component is a directory or a mount point (`details.errno`); ERR_IO otherwise. Rejects with
 *   `signal.reason` on abort (nothing is replaced then).
 */
export async function writeFileInRoot(root: string, path: string, data: string | Uint8Array, options: WriteFileInRootOptions = {}): Promise<void> {
  checkArgs(root, path);
  const { mode = 0o644, uid, gid, signal } = options;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw newError('ERR_INVALID_ARGUMENT', 'options.mode must be a file mode (0..0o7777)');
  for (const [key, id] of [
    ['uid', uid],
    ['gid', gid],
  ] as const) {
    if (id !== undefined && (!Number.isInteger(id) || id < 0)) throw newError('ERR_INVALID_ARGUMENT', `options.${key} must be a non-negative integer`);
  }
  checkSignal(signal);
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw newError('ERR_INVALID_ARGUMENT', 'data must be a string or a Uint8Array');
  const parts = path.split('/');
  const name = parts.pop();
  if (name === undefined || name === '' || name === '.' || name === '..') {
    throw newError('ERR_INVALID_ARGUMENT', `path ${JSON.stringify(path)} does not name a file`);
  }
  const dir = await openInRoot(root, parts.join('/'), O_RDONLY | O_DIRECTORY, { signal });
  const where = `${JSON.stringify(path)} in ${root}`;
  const tmp = `.ck-${randomBytes(8).toString('hex')}.tmp`;
  let written = false;
  try {
    const fh = await fsp.open(fdPath(dir, tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    written = true;
    try {
      await fh.writeFile(data);
      if (uid !== undefined || gid !== undefined) await fh.chown(uid ?? -1, gid ?? -1);
      // After chown, which clears set-id bits.
      await fh.chmod(mode);
    } finally {
      await fh.close();
    }
    signal?.throwIfAborted();
    // rename(2) replaces the last component itself: a symlink there is not followed.
    await fsp.rename(fdPath(dir, tmp), fdPath(dir, name));
    written = false;
  } catch (err) {
    if (written) await fsp.unlink(fdPath(dir, tmp)).catch(() => undefined);
    if (signal?.aborted) throw signal.reason;
    const errno = errnoOf(err);
    if (errno === 'EISDIR' || errno === 'EBUSY') {
      throw newError('ERR_FAILED_PRECONDITION', `cannot replace ${where}: it is a directory or a mount point`, { cause: err, details: { root, path, errno } });
    }
    throw newError('ERR_IO', `cannot write ${where}: ${(err as Error).message}`, { cause: err, details: { root, path, errno } });
  } finally {
    await dir.close();
  }
}
