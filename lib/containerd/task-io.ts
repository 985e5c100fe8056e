import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { newError } from '../errors/index.js';
import { createFifos, openFifo } from '../util/fifo.js';
import { fsError } from '../util/fs-error.js';

/** Where ctr puts its stdio FIFOs; {@link createTaskIO} uses the same place by default. */
export const DEFAULT_FIFO_DIR = '/run/containerd/fifo';

/** The FIFO paths to hand to `Tasks.Create`/`Exec` (empty string: that stream is not wired). */
export interface StdioPaths {
  stdin: string;
  stdout: string;
  stderr: string;
}

/** Options of {@link createTaskIO}. */
export interface TaskIOOptions {
  /** Parent of the per-process FIFO dir. Default {@link DEFAULT_FIFO_DIR}. */
  fifoDir?: string;
  /** Create a stdin FIFO. Default false (the process gets no stdin). */
  stdin?: boolean;
  signal?: AbortSignal;
}

/**
 * The stdio of one task or exec over FIFOs: the read sides of stdout/stderr are open before the task is created
 * (so nothing the process writes is lost), stdin's write side opens once the shim has opened its read side.
 */
export interface TaskIO extends AsyncDisposable {
  readonly paths: StdioPaths;
  /** The process's stdout (ends once the process and the shim closed it). */
  readonly stdout: Socket;
  readonly stderr: Socket;
  /**
   * The process's stdin; call after the task was created (it waits for the shim to open the other side). The shim
   * keeps the FIFO open itself, so the process sees EOF only once this is ended and the process's `closeStdin()`
   * was called. @throws ERR_FAILED_PRECONDITION when created without `stdin: true`.
   */
  openStdin(options?: { signal?: AbortSignal }): Promise<Socket>;
  /** Reads stdout and stderr to their end as text (start it before the process fills the FIFOs' buffers). */
  collect(): Promise<{ stdout: string; stderr: string }>;
  /** Closes every FIFO and removes the FIFO dir. Idempotent. */
  close(): Promise<void>;
}

function drain(socket: Socket): Promise<string> {
  // A FIFO socket reads from the start: an empty stream may have ended (and closed) before anyone listened.
  if (socket.readableEnded || socket.destroyed) return Promise.resolve('');
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    socket.on('data', (b: Buffer) => parts.push(b));
    socket.once('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    socket.once('close', () => resolve(Buffer.concat(parts).toString('utf8')));
    socket.once('error', reject);
  });
}

/**
 * Makes `<fifoDir>/<random>/{stdin,stdout,stderr}` FIFOs with `id` as prefix and opens the read sides.
 * @throws ERR_INVALID_ARGUMENT for a bad id; ERR_IO when the dir cannot be made; mkfifo's errors (ERR_TOOL_*).
 */
export async function createTaskIO(id: string, options: TaskIOOptions = {}): Promise<TaskIO> {
  if (typeof id !== 'string' || id === '' || id.includes('/')) throw newError('ERR_INVALID_ARGUMENT', 'id must be a non-empty string without "/"');
  const { fifoDir = DEFAULT_FIFO_DIR, stdin = false, signal } = options;
  signal?.throwIfAborted();
  const dir = join(fifoDir, randomBytes(8).toString('hex'));
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
    throw fsError(err, 'create FIFO dir', dir);
  });
  const paths: StdioPaths = {
    stdin: stdin ? join(dir, `${id}-stdin`) : '',
    stdout: join(dir, `${id}-stdout`),
    stderr: join(dir, `${id}-stderr`),
  };
  const sockets: Socket[] = [];
  try {
    await createFifos([paths.stdin, paths.stdout, paths.stderr].filter((p) => p !== ''), { signal });
    const stdout = await openFifo(paths.stdout, 'r', { signal });
    sockets.push(stdout);
    const stderr = await openFifo(paths.stderr, 'r', { signal });
    sockets.push(stderr);
    // Read only when asked: a caller piping the streams elsewhere must not also pay for an in-memory copy.
    let collected: Promise<[string, string]> | undefined;
    let closed = false;
    const io: TaskIO = {
      paths,
      stdout,
      stderr,
      async openStdin(o = {}) {
        if (!stdin) throw newError('ERR_FAILED_PRECONDITION', 'this TaskIO was created without stdin');
        const s = await openFifo(paths.stdin, 'w', { signal: o.signal });
        sockets.push(s);
        return s;
      },
      async collect() {
        collected ??= Promise.all([drain(stdout), drain(stderr)]);
        const [out, err] = await collected;
        return { stdout: out, stderr: err };
      },
      async close() {
        if (closed) return;
        closed = true;
        for (const s of sockets) s.destroy();
        await rm(dir, { recursive: true, force: true });
      },
      [Symbol.asyncDispose]() {
        return io.close();
      },
    };
    return io;
  } catch (err) {
    for (const s of sockets) s.destroy();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
