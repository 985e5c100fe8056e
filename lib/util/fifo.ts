import { close, constants, fstat, open, type Stats } from 'node:fs';
import { lstat, stat, unlink } from 'node:fs/promises';
import { Socket } from 'node:net';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { hasCode, newError } from '../errors/index.js';
import { sleep } from './abort.js';
import { runTool } from './exec.js';
import { fsError } from './fs-error.js';

// FIFOs are read and written through a non-blocking fd wrapped in net.Socket, never through fs streams: a
// blocked fs read (or a blocking open) parks one of libuv's four pool threads, and a fifth FIFO would stall all
// file I/O of the process. A socket over a non-blocking fd waits in epoll instead, holding no thread.

const openFd = promisify(open);
const closeFd = promisify(close);
const fstatFd = promisify(fstat);

/**
 * How to open a FIFO:
 * - `'r'`: read side. Opening never waits, even without a writer; the socket emits `'end'` once a writer has
 *   come and all writers have closed.
 * - `'w'`: write side. Linux refuses a non-blocking write-only open while no reader exists (ENXIO), so
 *   {@link openFifo} retries until a reader appears (or `signal` aborts). We chose waiting over opening
 *   read-write because a true write-only fd keeps pipe semantics: if the reader goes away, writes fail with
 *   EPIPE instead of silently filling the pipe buffer and then stalling forever.
 * - `'rw'`: both. Never waits and never sees EOF or EPIPE, since it is itself a reader and a writer. Use it as
 *   a read side that outlives its writers (a container's stdin, where clients attach and detach), or to hold a
 *   FIFO open. Its readable side starts reading at once and takes whatever is in the pipe, its own writes
 *   included, so do not use one as a mere "keep-open" handle next to another reader.
 */
export type FifoMode = 'r' | 'w' | 'rw';

/** Options for {@link createFifo}. */
export interface CreateFifoOptions {
  /** Permission bits, applied exactly (mkfifo -m ignores the umask). Default `0o600`. */
  mode?: number;
  /** Cancels the mkfifo run; rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options for {@link openFifo}. */
export interface OpenFifoOptions {
  /** Cancels the wait of a `'w'` open for a reader; rejects with `signal.reason`. It does not close an opened socket. */
  signal?: AbortSignal;
  /** Longest delay between attempts of a `'w'` open waiting for a reader, in ms. Default 50 (backoff from 1). */
  pollMs?: number;
}

const FLAGS: Record<FifoMode, number> = {
  r: constants.O_RDONLY | constants.O_NONBLOCK,
  w: constants.O_WRONLY | constants.O_NONBLOCK,
  rw: constants.O_RDWR | constants.O_NONBLOCK,
};

function notAFifo(path: string): Error {
  return newError('ERR_INVALID_ARGUMENT', `${path} is not a FIFO`, { details: { path } });
}

/**
 * Creates a FIFO (named pipe) at `path` with coreutils' `mkfifo` (Node has no mkfifo(3)). The directory must exist.
 *
 * @throws ERR_ALREADY_EXISTS when something already exists at `path`; ERR_NOT_FOUND when its directory does not.
 * @throws ERR_TOOL_MISSING without `mkfifo`; ERR_TOOL_FAILED when it fails otherwise.
 * @throws ERR_INVALID_ARGUMENT for a bad path or mode.
 */
export async function createFifo(path: string, options: CreateFifoOptions = {}): Promise<void> {
  return createFifos([path], options);
}

/**
 * Creates several FIFOs with one `mkfifo` run (a process start costs ~6 ms; a container's stdio needs three).
 * When it fails, FIFOs it made are removed again, so none or all exist. Same errors as {@link createFifo}, for the
 * first path that failed.
 */
export async function createFifos(paths: readonly string[], options: CreateFifoOptions = {}): Promise<void> {
  if (!Array.isArray(paths) || paths.length === 0) throw newError('ERR_INVALID_ARGUMENT', 'paths must be a non-empty array');
  for (const path of paths) if (typeof path !== 'string' || path === '') throw newError('ERR_INVALID_ARGUMENT', 'path must be a non-empty string');
  const { mode = 0o600, signal } = options;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.mode must be an integer between 0 and 0o777');
  }
  signal?.throwIfAborted();
  // Which paths were free before: only those may be cleaned up after a partial failure.
  const free = await Promise.all(
    paths.map((p) =>
      lstat(p).then(
        () => false,
        () => true,
      ),
    ),
  );
  try {
    await runTool('mkfifo', ['-m', mode.toString(8).padStart(4, '0'), '--', ...paths], { signal });
  } catch (err) {
    if (!hasCode(err, 'ERR_TOOL_FAILED')) throw err;
    await Promise.all(paths.map((p, i) => (free[i] ? unlink(p).catch(() => undefined) : undefined)));
    // mkfifo's message is localised; the filesystem says what went wrong.
    for (const [i, path] of paths.entries()) {
      if (!free[i]) throw newError('ERR_ALREADY_EXISTS', `cannot create FIFO ${path}: it already exists`, { cause: err, details: { path } });
      const dirMissing = await stat(dirname(path)).then(
        () => false,
        (e: NodeJS.ErrnoException) => e.code === 'ENOENT',
      );
      if (dirMissing) throw newError('ERR_NOT_FOUND', `cannot create FIFO ${path}: its directory does not exist`, { cause: err, details: { path } });
    }
    throw err;
  }
}

async function openOnce(path: string, mode: FifoMode): Promise<number | 'no-reader'> {
  let fd: number;
  try {
    fd = await openFd(path, FLAGS[mode]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENXIO' && mode === 'w') return 'no-reader';
    throw fsError(err, 'open FIFO', path);
  }
  let st: Stats;
  try {
    st = await fstatFd(fd);
  } catch (err) {
    await closeFd(fd).catch(() => undefined);
    throw fsError(err, 'stat FIFO', path);
  }
  if (!st.isFIFO()) {
    // Checked on the fd, not only on the path: the path may have been swapped since the first check.
    await closeFd(fd).catch(() => undefined);
    throw notAFifo(path);
  }
  return fd;
}

/**
 * Opens the FIFO at `path` as a non-blocking fd inside a `net.Socket` (see {@link FifoMode} for each side's
 * behaviour). The socket owns the fd: `destroy()` or `end()` closes it. A write side gets `'error'` with EPIPE
 * once the reader has gone.
 *
 * @throws ERR_NOT_FOUND when nothing exists at `path`; ERR_INVALID_ARGUMENT when it is not a FIFO or for a bad
 *   mode or option; ERR_IO for other open failures.
 * Rejects with `signal.reason` when `signal` aborts while a `'w'` open waits for a reader.
 */
export async function openFifo(path: string, mode: FifoMode, options: OpenFifoOptions = {}): Promise<Socket> {
  if (typeof path !== 'string' || path === '') throw newError('ERR_INVALID_ARGUMENT', 'path must be a non-empty string');
  if (!Object.hasOwn(FLAGS, mode)) throw newError('ERR_INVALID_ARGUMENT', `mode must be 'r', 'w' or 'rw', not ${String(mode)}`);
  const { signal, pollMs = 50 } = options;
  if (typeof pollMs !== 'number' || !Number.isFinite(pollMs) || pollMs <= 0) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.pollMs must be a finite number > 0');
  }
  signal?.throwIfAborted();
  // A Unix socket also answers a write-only open with ENXIO; check the type first so 'w' cannot wait forever.
  const st = await stat(path).catch((err: unknown) => {
    throw fsError(err, 'open FIFO', path);
  });
  if (!st.isFIFO()) throw notAFifo(path);
  let delay = 1;
  for (;;) {
    const fd = await openOnce(path, mode);
    if (fd !== 'no-reader') {
      try {
        return new Socket({ fd, readable: mode !== 'w', writable: mode !== 'r' });
      } catch (err) {
        await closeFd(fd).catch(() => undefined);
        throw fsError(err, 'wrap FIFO', path);
      }
    }
    await sleep(delay, signal);
    delay = Math.min(delay * 2, pollMs);
  }
}

/**
 * Removes the FIFO at `path`. Does nothing when nothing is there; refuses to remove anything that is not a FIFO.
 *
 * @throws ERR_INVALID_ARGUMENT when `path` is not a FIFO; ERR_IO when it cannot be removed.
 * Rejects with `signal.reason` when `signal` is already aborted.
 */
export async function removeFifo(path: string, options: { signal?: AbortSignal } = {}): Promise<void> {
  if (typeof path !== 'string' || path === '') throw newError('ERR_INVALID_ARGUMENT', 'path must be a non-empty string');
  options.signal?.throwIfAborted();
  let st: Stats;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fsError(err, 'remove FIFO', path);
  }
  if (!st.isFIFO()) throw notAFifo(path);
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(err, 'remove FIFO', path);
  }
}
