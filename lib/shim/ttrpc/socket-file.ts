import { chmod, link, lstat, mkdtemp, rm, unlink } from 'node:fs/promises';
import { createConnection, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { newError } from '../../errors/index.js';
import { fsError } from '../../util/fs-error.js';

/** The longest unix socket path Linux accepts (`sun_path` is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;

/** Which inode a listening socket file is, so closing removes that file and never one another server put there. */
export interface SocketFileId {
  dev: number;
  ino: number;
}

/**
 * Makes `server` listen on the unix socket `path` such that the file at `path` never has other permission bits
 * than `mode`, not even for an instant.
 *
 * Why not the umask: Node has no per-listen umask, and `process.umask()` set and restored around `listen()` is
 * process-wide: libuv's thread pool runs other `fs` calls (mkdir, open) at the same moment and would create their
 * files with our mask; it throws in worker threads; and in a cluster worker the bind happens later, in the
 * primary. Why not chmod after listen: the socket exists with `0777 & ~umask` until the chmod, and a peer that
 * connects in that window keeps its connection.
 *
 * So the socket is bound inside a fresh directory only we can search (mkdtemp makes it 0700, and connecting needs
 * search permission on every directory of the path), chmodded there, then hard-linked to `path`, so it appears
 * there with its final mode. `link` rather than `rename`: it fails with EEXIST instead of silently replacing a
 * server that started on `path` since the stale-socket check. The private name is then removed.
 *
 * @throws ERR_ALREADY_EXISTS when a live server answers on `path`, something other than a socket is there, or
 *   one appeared meanwhile; ERR_INVALID_ARGUMENT when the private path would be too long for a unix socket;
 *   ERR_IO for other filesystem failures. Rejects with `signal.reason` on abort (nothing is left behind).
 */
export async function listenPrivately(server: Server, path: string, mode: number, signal?: AbortSignal): Promise<SocketFileId> {
  await removeStaleSocket(path);
  signal?.throwIfAborted();
  // `.XXXXXX/s` is 10 bytes after the directory, as long as `events.sock`'s name: a path that fits fits privately too.
  // (Not `join(parent, '.')`: join normalises the dot away, and mkdtemp would then make a sibling of the parent.)
  const parent = dirname(path);
  const dir = await mkdtemp(`${parent === '/' ? '' : parent}/.`).catch((err: unknown) => {
    throw fsError(err, 'create a private directory for', path);
  });
  const bound = join(dir, 's');
  let listening = false;
  try {
    if (Buffer.byteLength(bound) > MAX_SOCKET_PATH) {
      throw newError('ERR_INVALID_ARGUMENT', `socket path ${path} is too long: its private name ${bound} exceeds ${MAX_SOCKET_PATH} bytes`, {
        details: { path },
      });
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(fsError(err, 'listen on', path));
      server.once('error', onError);
      server.listen(bound, () => {
        server.off('error', onError);
        resolve();
      });
    });
    listening = true;
    signal?.throwIfAborted();
    await chmod(bound, mode).catch((err: unknown) => {
      throw fsError(err, 'chmod', bound);
    });
    await link(bound, path).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw newError('ERR_ALREADY_EXISTS', `cannot listen on ${path}: something appeared there meanwhile`, { cause: err, details: { path } });
      }
      throw fsError(err, 'link socket to', path);
    });
    const st = await lstat(path);
    return { dev: st.dev, ino: st.ino };
  } catch (err) {
    if (listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  } finally {
    // Only the name at `path` is wanted; closing the server later unlinks `bound` again, harmlessly (ENOENT).
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Removes the socket file at `path` if it is still the one `id` names (another server may have replaced it). */
export async function removeSocketFile(path: string, id: SocketFileId): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (st === undefined || st.dev !== id.dev || st.ino !== id.ino) return;
  await unlink(path).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(err, 'remove socket', path);
  });
}

// Removes a socket file nobody accepts on; refuses to touch a live socket or anything else.
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fsError(err, 'inspect', path);
  }
  if (!isSocket) throw newError('ERR_ALREADY_EXISTS', `cannot listen on ${path}: something other than a socket is there`, { details: { path } });
  const live = await new Promise<boolean>((resolve) => {
    const probe = createConnection({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw newError('ERR_ALREADY_EXISTS', `cannot listen on ${path}: a server is already listening there`, { details: { path } });
  await unlink(path).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(err, 'remove stale socket', path);
  });
}
