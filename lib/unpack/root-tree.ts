import type { Stats } from 'node:fs';
import { lstat, lutimes, mkdir, rm, unlink } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { ContainerkitError, newError } from '../errors/index.js';
import { errnoOf } from '../util/fs-error.js';
import { resolveInRoot } from '../util/safe-path.js';
import type { WriteScheduler } from './write-scheduler.js';

interface DirTimes {
  host: string;
  atime: number;
  mtime: number;
}

/**
 * What a layer writer knows about the tree under its root: which paths are real directories, which ones this
 * layer made, and the directory times to set last. Paths are keys relative to the root (`''` is the root).
 */
export class RootTree {
  readonly root: string;
  readonly #scheduler: WriteScheduler;
  readonly #signal: AbortSignal | undefined;
  /** Paths (relative to the root) known to be real directories, ancestor-closed; `''` is the root. */
  readonly #dirs = new Set<string>(['']);
  /** Paths this layer created or touched, with their ancestors: an opaque marker keeps them. */
  readonly #layer = new Set<string>();
  readonly #dirTimes = new Map<string, DirTimes>();
  /** Times of directories this layer changes without listing them, restored at the end (as umoci does). */
  readonly #keepTimes = new Map<string, DirTimes>();

  /** `realRoot` must be the real path of an existing directory. */
  constructor(realRoot: string, scheduler: WriteScheduler, signal: AbortSignal | undefined) {
    this.root = realRoot;
    this.#scheduler = scheduler;
    this.#signal = signal;
  }

  host(key: string): string {
    return key === '' ? this.root : `${this.root}/${key}`;
  }

  /** Whether `key` is known to be a real directory (created or checked by this writer). */
  isDir(key: string): boolean {
    return this.#dirs.has(key);
  }

  /** Whether this layer created or touched `key` (or something below it). */
  inLayer(key: string): boolean {
    return this.#layer.has(key);
  }

  /**
   * The host path of a cleaned entry path, with its parent directory existing. Fast when the parent is a known
   * real directory; otherwise drains the tasks and resolves the parent with `resolveInRoot` (following symlinks
   * inside the root), creating missing directories.
   */
  async locate(rel: string): Promise<{ host: string; key: string }> {
    const slash = rel.lastIndexOf('/');
    const parent = slash === -1 ? '' : rel.slice(0, slash);
    if (this.#dirs.has(parent)) {
      if (parent !== '' && !this.#keepTimes.has(parent) && !this.#dirTimes.has(parent)) await this.noteTimes(parent);
      return { host: this.host(rel), key: rel };
    }
    await this.#scheduler.barrier();
    const hostParent = await resolveInRoot(this.root, parent, { followFinal: true, signal: this.#signal });
    const parentKey = relative(this.root, hostParent);
    await this.ensureDir(hostParent, parentKey);
    await this.noteTimes(parentKey);
    const base = rel.slice(slash + 1);
    const key = parentKey === '' ? base : `${parentKey}/${base}`;
    return { host: this.host(key), key };
  }

  /**
   * Records the times of a directory about to change, unless this layer lists it (then its entry's times are
   * set at the end) or it is the root (the caller's). A directory the layer only passes through keeps the
   * times its own entry gave it, as with umoci, so unpacking is reproducible.
   */
  async noteTimes(key: string): Promise<void> {
    if (key === '' || this.#keepTimes.has(key) || this.#dirTimes.has(key)) return;
    const host = this.host(key);
    try {
      const st = await lstat(host);
      if (st.isDirectory()) this.#keepTimes.set(key, { host, atime: st.atimeMs / 1000, mtime: st.mtimeMs / 1000 });
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw this.fail(err, 'inspect', key);
    }
  }

  /** Records the times a directory entry gives its directory, set by {@link restoreTimes}. */
  setDirTimes(key: string, host: string, atime: number, mtime: number): void {
    this.#dirTimes.set(key, { host, atime, mtime });
  }

  /**
   * Sets directory times, last (every task must have finished): the times of listed directories and the kept
   * times of those the layer only changed, `concurrency` at once.
   */
  async restoreTimes(concurrency: number): Promise<void> {
    const kept = [...this.#keepTimes].filter(([key]) => !this.#dirTimes.has(key)).map(([, t]) => t);
    const times = [...kept, ...this.#dirTimes.values()];
    for (let i = 0; i < times.length; i += concurrency) {
      await Promise.all(
        times.slice(i, i + concurrency).map(async (t) => {
          try {
            await lutimes(t.host, t.atime, t.mtime);
          } catch (err) {
            if (errnoOf(err) !== 'ENOENT') throw this.fail(err, 'set times of', relative(this.root, t.host));
          }
        }),
      );
    }
  }

  /** Makes sure a resolved path inside the root is a directory, creating missing ones (0755, like containerd). */
  async ensureDir(host: string, key: string): Promise<void> {
    if (this.#dirs.has(key)) return;
    let st: Stats | undefined;
    try {
      st = await lstat(host);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw this.fail(err, 'inspect', key);
    }
    if (st === undefined) {
      await this.ensureDir(dirname(host), relative(this.root, dirname(host)));
      try {
        await mkdir(host, 0o755);
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw this.fail(err, 'create directory', key);
      }
    } else if (!st.isDirectory()) {
      throw newError('ERR_INVALID_TAR', `${JSON.stringify(key)} is not a directory but the layer puts entries under it`, { details: { path: key } });
    }
    this.cacheDir(key);
  }

  /** Records `key` and its ancestors as real directories. */
  cacheDir(key: string): void {
    for (let k = key; !this.#dirs.has(k); k = parentKey(k)) this.#dirs.add(k);
  }

  /** Records `key` and its ancestors as made or touched by this layer. */
  markLayer(key: string): void {
    for (let k = key; k !== '' && !this.#layer.has(k); k = parentKey(k)) this.#layer.add(k);
  }

  /** Forgets what was known about `key` and below, once it has been removed or replaced. */
  #invalidate(key: string): void {
    const prefix = `${key}/`;
    for (const k of this.#dirs) if (k === key || k.startsWith(prefix)) this.#dirs.delete(k);
    for (const k of this.#dirTimes.keys()) if (k === key || k.startsWith(prefix)) this.#dirTimes.delete(k);
    for (const k of this.#keepTimes.keys()) if (k === key || k.startsWith(prefix)) this.#keepTimes.delete(k);
  }

  async replaceDir(host: string, key: string): Promise<void> {
    // Tasks may be running below the directory: drain them before removing it.
    await this.#scheduler.barrier();
    await this.removeTree(host, key);
  }

  async removeTree(host: string, key: string): Promise<void> {
    try {
      // rm removes symlinks themselves, never what they point to.
      await rm(host, { recursive: true, force: true });
    } catch (err) {
      throw this.fail(err, 'remove', key);
    }
    this.#invalidate(key);
  }

  /** Removes whatever is at `host` (a directory with its tree), so a new entry replaces it. */
  async removeExisting(host: string, key: string): Promise<void> {
    let st: Stats;
    try {
      st = await lstat(host);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return;
      throw this.fail(err, 'inspect', key);
    }
    if (st.isDirectory()) {
      await this.removeTree(host, key);
      return;
    }
    try {
      await unlink(host);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw this.fail(err, 'remove', key);
    }
  }

  /** The error for a failed filesystem call on `key`: ERR_INVALID_TAR for a name too long, ERR_IO otherwise. */
  fail(err: unknown, what: string, key: string): unknown {
    if (err instanceof ContainerkitError) return err;
    const errno = errnoOf(err);
    if (errno === 'ENAMETOOLONG') {
      return newError('ERR_INVALID_TAR', `cannot ${what} ${JSON.stringify(key)}: name too long for the filesystem`, {
        cause: err,
        details: { path: key, errno },
      });
    }
    return newError('ERR_IO', `cannot ${what} ${JSON.stringify(key)} in ${this.root}: ${(err as Error).message}`, {
      cause: err,
      details: { path: key, errno },
    });
  }
}

function parentKey(key: string): string {
  const slash = key.lastIndexOf('/');
  return slash === -1 ? '' : key.slice(0, slash);
}
