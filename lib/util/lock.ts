import { randomBytes } from 'node:crypto';
import { link, open, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { newError } from '../errors/index.js';
import { sleep } from './abort.js';
import { logger } from './debug.js';
import { errnoOf, fsError } from './fs-error.js';
import { isProcessAlive, readBootId, readProcessIdentity } from './proc.js';

const log = logger('util:lock');

// Design.
// - Taking the lock: the owner record is written whole to a private temp file, then hard-linked to the lock
//   path. link() fails with EEXIST when the path exists, like O_EXCL, but the lock file appears with its full
//   content, so a reader never sees a half-written owner. (An unparseable file can still show up after a power
//   loss or from another writer; it counts as stale only once older than `staleGraceMs`.)
// - A lock is stale when its owner is gone: no such pid, a zombie, a different start time (the pid was reused)
//   or a different boot. Owners on another host are never judged (shared filesystems); neither are owners in
//   another pid namespace, which this cannot see: all users of a lock must share a pid namespace.
// - Breaking a stale lock is serialised by a second lock, `<path>.break`. Only its holder may remove the lock
//   file, and only after re-reading it and finding the very same stale record (token and inode). So two waiters
//   that both see the same dead owner cannot both remove something: the second finds the record changed (the
//   first waiter's fresh lock) and backs off. The `.break` lock is held for a few milliseconds; if its holder
//   dies in that window it is itself stale, and is removed by rename-then-verify: the file is moved aside,
//   compared with what was judged stale, and linked back if it turns out to be someone else's.
// - A lock is not re-entrant: a second acquire in the same process waits like any other.

/** Who holds a lock, as recorded in the lock file (JSON). */
export interface LockOwner {
  /** Process id of the holder. */
  pid: number;
  /** Start time of `pid` in clock ticks since boot (field 22 of `/proc/<pid>/stat`). */
  start: number;
  /** `/proc/sys/kernel/random/boot_id` of the boot the owner ran in, when readable. */
  boot?: string;
  /** `os.hostname()` of the holder; holders on another host are never judged stale. */
  host: string;
  /** ISO-8601 time the lock was taken. */
  created: string;
  /** Random token naming this acquisition; release removes only a file that still carries it. */
  token: string;
}

/** Options for {@link acquireLock} and {@link withLock}. */
export interface LockOptions {
  /** How long to wait for a live holder, in ms. Default 30000; `0` tries once; `Infinity` waits until `signal`. */
  timeoutMs?: number;
  /** Delay between attempts while the lock is held, in ms (jittered ±50%). Default 50. */
  pollMs?: number;
  /** Age in ms after which an unparseable (empty, truncated) lock file counts as stale. Default 5000. */
  staleGraceMs?: number;
  /** Cancels the wait; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** A held lock. Release it with {@link Lock.release} or `await using`. */
export interface Lock extends AsyncDisposable {
  /** The lock file's path, as given to {@link acquireLock}. */
  readonly path: string;
  /** The record this process wrote into the lock file. */
  readonly owner: LockOwner;
  /** Whether {@link Lock.release} has run. */
  readonly released: boolean;
  /** Removes the lock file if it is still this lock's. Idempotent. Throws ERR_IO when the file cannot be removed. */
  release(): Promise<void>;
}

interface Observed {
  raw: string;
  ino: number;
  mtimeMs: number;
  owner: LockOwner | undefined;
}

type Self = Omit<LockOwner, 'created' | 'token'>;

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const o = JSON.parse(raw) as Partial<LockOwner>;
    const ok =
      Number.isSafeInteger(o.pid) &&
      o.pid! > 0 &&
      Number.isSafeInteger(o.start) &&
      typeof o.host === 'string' &&
      typeof o.token === 'string' &&
      typeof o.created === 'string' &&
      (o.boot === undefined || typeof o.boot === 'string');
    return ok ? (o as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}

async function observe(path: string): Promise<Observed | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw fsError(err, 'read lock', path);
  }
  try {
    const st = await fh.stat();
    const raw = await fh.readFile('utf8');
    return { raw, ino: st.ino, mtimeMs: st.mtimeMs, owner: parseOwner(raw) };
  } finally {
    await fh.close();
  }
}

async function isStale(obs: Observed, self: Self, graceMs: number): Promise<boolean> {
  const o = obs.owner;
  if (o === undefined) return Date.now() - obs.mtimeMs > graceMs;
  if (o.host !== self.host) return false;
  if (o.boot !== undefined && self.boot !== undefined && o.boot !== self.boot) return true;
  const id = await readProcessIdentity(o.pid);
  // Not in /proc: gone, or hidden by hidepid; kill(pid, 0) tells these apart.
  if (id === undefined) return !(await isProcessAlive(o.pid));
  return id.state === 'Z' || id.state === 'X' || id.start !== o.start;
}

/** Creates `path` holding `content` only if it does not exist; false when it does. */
async function createExclusive(path: string, content: string, token: string): Promise<boolean> {
  const tmp = `${path}.${token}.tmp`;
  try {
    await writeFile(tmp, content, { flag: 'wx', mode: 0o644 });
  } catch (err) {
    throw fsError(err, 'create lock', path);
  }
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if (errnoOf(err) === 'EEXIST') return false;
    throw fsError(err, 'create lock', path);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Removes `path` if it still is the observed file; puts back whatever else was moved aside by mistake. */
async function removeIfSame(path: string, obs: Observed): Promise<void> {
  const aside = `${path}.${randomBytes(8).toString('hex')}.stale`;
  try {
    await rename(path, aside);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
    throw fsError(err, 'remove stale lock', path);
  }
  const moved = await observe(aside);
  if (moved !== undefined && (moved.ino !== obs.ino || moved.raw !== obs.raw)) {
    // Someone else's live file: put it back. EEXIST here means a third party took the path meanwhile.
    await link(aside, path).catch((err: unknown) => log('could not restore %s after a racing break: %s', path, errnoOf(err)));
  }
  await unlink(aside).catch(() => undefined);
}

/** Removes `path` only if it carries `token`. */
async function removeIfOwned(path: string, token: string): Promise<boolean> {
  const obs = await observe(path);
  if (obs?.owner?.token !== token) return false;
  try {
    await unlink(path);
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw fsError(err, 'release lock', path);
  }
  return true;
}

/** Under `<path>.break`, removes the lock file if it still is the observed stale one. True when progress was made. */
async function breakStale(path: string, obs: Observed, self: Self, graceMs: number): Promise<boolean> {
  const guard = `${path}.break`;
  const token = randomBytes(8).toString('hex');
  const record: LockOwner = { ...self, created: new Date().toISOString(), token };
  if (!(await createExclusive(guard, JSON.stringify(record), token))) {
    const g = await observe(guard);
    if (g !== undefined && (await isStale(g, self, graceMs))) {
      log('removing stale break guard of %s (pid %s)', path, g.owner?.pid);
      await removeIfSame(guard, g);
      return true;
    }
    return g === undefined;
  }
  try {
    const now = await observe(path);
    if (now !== undefined && now.ino === obs.ino && now.raw === obs.raw) {
      log('breaking stale lock %s held by pid %s', path, obs.owner?.pid);
      await removeIfSame(path, now);
    }
    return true;
  } finally {
    await removeIfOwned(guard, token);
  }
}

class FileLock implements Lock {
  #released = false;
  constructor(
    readonly path: string,
    readonly owner: LockOwner,
  ) {}

  get released(): boolean {
    return this.#released;
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    if (!(await removeIfOwned(this.path, this.owner.token))) {
      log('lock %s was no longer ours at release (broken by another process?)', this.path);
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}

function validate(path: unknown, options: LockOptions): void {
  if (typeof path !== 'string' || path === '') throw newError('ERR_INVALID_ARGUMENT', 'lock path must be a non-empty string');
  const { timeoutMs, pollMs, staleGraceMs } = options;
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0)) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.timeoutMs must be a number >= 0 (Infinity allowed)');
  }
  if (pollMs !== undefined && (typeof pollMs !== 'number' || !Number.isFinite(pollMs) || pollMs <= 0)) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.pollMs must be a finite number > 0');
  }
  if (staleGraceMs !== undefined && (typeof staleGraceMs !== 'number' || !Number.isFinite(staleGraceMs) || staleGraceMs < 0)) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.staleGraceMs must be a finite number >= 0');
  }
}

/**
 * Takes the lock file at `path` (its directory must exist), waiting while a live process holds it. A lock whose
 * holder is dead (also after SIGKILL), a zombie, or a different process with a reused pid is stale and is
 * broken safely (see the design note in this file); two waiters never both end up holding it.
 *
 * @throws ERR_LOCK_TIMEOUT when a live holder keeps it for `timeoutMs`; `details.holder` has its record.
 * @throws ERR_NOT_FOUND when the lock's directory does not exist; ERR_IO on other filesystem failures.
 * @throws ERR_INVALID_ARGUMENT for a bad path or option.
 * Rejects with `signal.reason` when `signal` aborts.
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<Lock> {
  validate(path, options);
  const { timeoutMs = 30_000, pollMs = 50, staleGraceMs = 5_000, signal } = options;
  signal?.throwIfAborted();
  const me = await readProcessIdentity(process.pid, { signal });
  if (me === undefined) throw newError('ERR_UNSUPPORTED_PLATFORM', 'locks need /proc/<pid>/stat (Linux)');
  const self: Self = { pid: process.pid, start: me.start, boot: await readBootId({ signal }), host: hostname() };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    const owner: LockOwner = { ...self, created: new Date().toISOString(), token: randomBytes(8).toString('hex') };
    if (await createExclusive(path, `${JSON.stringify(owner)}\n`, owner.token)) return new FileLock(path, owner);
    const obs = await observe(path);
    if (obs === undefined) continue; // released in between
    if ((await isStale(obs, self, staleGraceMs)) && (await breakStale(path, obs, self, staleGraceMs))) continue;
    if (Date.now() >= deadline) {
      const holder = obs.owner;
      const who = holder ? `pid ${holder.pid} on ${holder.host} since ${holder.created}` : 'an unreadable owner record';
      throw newError('ERR_LOCK_TIMEOUT', `lock ${path} is held by ${who}; gave up after ${timeoutMs} ms`, {
        details: { path, holder, timeoutMs },
      });
    }
    await sleep(Math.min(pollMs * (0.5 + Math.random()), Math.max(1, deadline - Date.now())), signal);
  }
}

/**
 * Runs `fn` while holding the lock at `path` and releases it afterwards, also when `fn` throws.
 * Same options and errors as {@link acquireLock}; `fn`'s own errors pass through.
 */
export async function withLock<T>(path: string, fn: (lock: Lock) => Promise<T> | T, options: LockOptions = {}): Promise<T> {
  const lock = await acquireLock(path, options);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}
