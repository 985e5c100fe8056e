import { randomBytes } from 'node:crypto';
import { link, lstat, readdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { hasCode } from '../errors/index.js';
import { errnoOf } from '../util/fs-error.js';
import { acquireLock, isProcessAlive, logger, raceSignal } from '../util/index.js';
import type { EventsSocketMode } from './manager-types.js';

const log = logger('shim:manager');

/** What closing needs of the events server (a `TtrpcServer`). */
export interface ClosableServer {
  close(): Promise<void>;
}

/** What listening needs of the events server (a `TtrpcServer`). */
export interface ListeningServer extends ClosableServer {
  listen(path: string, options: { signal?: AbortSignal }): Promise<void>;
}

/**
 * Makes `server` listen on the events socket `path` as `mode` asks (see `EventsSocketMode`); resolves whether it
 * does. The check for a stale socket and its replacement run under `lockPath`: unserialised, two managers that
 * both found the socket dead could each remove the other's fresh one.
 *
 * @throws ERR_ALREADY_EXISTS in mode `'listen'` when a live process serves `path`, and in any mode when something
 *   other than a socket is there; ERR_LOCK_TIMEOUT, ERR_IO; `signal.reason` on abort.
 */
export async function serveEventsSocket(
  server: ListeningServer,
  path: string,
  mode: EventsSocketMode,
  lockPath: string,
  signal?: AbortSignal,
): Promise<boolean> {
  if (mode === 'none') return false;
  const lock = await acquireLock(lockPath, { signal });
  try {
    await server.listen(path, { signal });
    return true;
  } catch (err) {
    // The server refuses a live socket and anything that is no socket; only the first leaves this manager without.
    if (
      mode !== 'if-free' ||
      !hasCode(err, 'ERR_ALREADY_EXISTS') ||
      !(await lstat(path).then(
        (s) => s.isSocket(),
        () => false,
      ))
    )
      throw err;
    log('%s is served by another live process; going without it', path);
    return false;
  } finally {
    await lock.release();
  }
}

const keepPattern = (path: string): RegExp => new RegExp(`^${basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)(?:-[0-9a-f]+)?\\.keep$`);

/**
 * Closes the events server at `path` and leaves a dead socket file there (shims dialing a path with no file wait
 * 5 s per event; a dead socket fails them at once). Waits for the server at most until `bound` aborts: a peer
 * must never hold a closing engine. The hard link that keeps the socket's inode is always removed again.
 *
 * The server is closed without its own keep-file option on purpose: that option awaits a link() while still
 * listening, and a shim connecting in that window was never closed, so the close waited on it forever.
 */
export async function closeEventsServer(server: ClosableServer, path: string, bound: AbortSignal): Promise<void> {
  // Node unlinks a unix socket's file as the listener closes; this link keeps the inode under a unique name.
  const keep = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.keep`;
  const kept = await link(path, keep).then(
    () => true,
    (err: unknown) => {
      log('cannot keep %s: %s', path, errnoOf(err) ?? (err as Error).message);
      return false;
    },
  );
  try {
    // The listener closes (and the file goes) synchronously inside close(); put it back before waiting on anything.
    const closing = server.close();
    if (kept) await restore(keep, path);
    await raceSignal(closing, bound).catch((err: unknown) => log('events server on %s did not close cleanly: %s', path, (err as Error).message));
  } finally {
    if (kept) {
      // Again, in case a server closes its listener only later: link() never replaces what is there.
      await restore(keep, path);
      await unlink(keep).catch((err: unknown) => log('cannot remove %s: %s', keep, errnoOf(err)));
    }
  }
}

async function restore(keep: string, path: string): Promise<void> {
  await link(keep, path).catch((err: unknown) => {
    // EEXIST: the file is still (or again) there, possibly a new manager's live socket: never replace it.
    if (errnoOf(err) !== 'EEXIST') log('cannot restore %s: %s', path, errnoOf(err));
  });
}

/** Removes `<path>.<pid>….keep` links left by engines that died while closing (their pid is gone). */
export async function removeStaleKeepFiles(path: string): Promise<void> {
  const pattern = keepPattern(path);
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    const m = pattern.exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || (await isProcessAlive(pid))) continue;
    log('removing %s left by pid %d', name, pid);
    await unlink(join(dirname(path), name)).catch(() => undefined);
  }
}
