import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { newError } from '../errors/index.js';
import type { OutputTarget, StdioOptions } from '../oci/task.js';
import { createFifos, openFifo } from '../util/fifo.js';
import { fsError } from '../util/fs-error.js';

/** Where ctr puts its stdio FIFOs; {@link createTaskIO} uses the same place by default. */
export const DEFAULT_FIFO_DIR = '/run/containerd/fifo';

/** The FIFO paths or URIs to hand to `Tasks.Create`/`Exec` (empty string: that stream is not wired). */
export interface StdioPaths {
  stdin: string;
  stdout: string;
  stderr: string;
}

/** Options of {@link createTaskIO}. */
export interface TaskIOOptions {
  /** What the process's stdio is. Default `{ stdout: 'pipe' }` (stderr the same, no stdin). */
  stdio?: StdioOptions;
  /** Parent of the per-process FIFO dir. Default {@link DEFAULT_FIFO_DIR}. */
  fifoDir?: string;
  /**
   * The `binary://` URI of the logger that writes `'log'` output (containerd launches it with the process's stdout
   * and stderr; see the shim's `ShimManager` logger for one). Required for `'log'`.
   */
  logUri?: string;
  signal?: AbortSignal;
}

/** How one output stream is wired, as {@link planTaskIO} decided. */
export type OutputPlan =
  /** A FIFO this side reads and exposes. */
  | { kind: 'pipe'; path: string }
  /** A FIFO this side reads and drops: the runc shim fails on an empty output path once any stream is a FIFO. */
  | { kind: 'drain'; path: string }
  /** Handed to the shim as it is (a URI, a caller's FIFO, or '' for nothing). */
  | { kind: 'given'; path: string };

/** The stdio of a process, decided but not yet made (see {@link planTaskIO}). */
export interface TaskIOPlan {
  terminal: boolean;
  /** The stdin FIFO, '' without stdin. */
  stdin: string;
  stdout: OutputPlan;
  stderr: OutputPlan;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

function isMergedTarget(target: OutputTarget | undefined): boolean {
  return target === 'log' || (typeof target === 'object' && target !== null && SCHEME.test(target.uri));
}

function checkTarget(name: string, target: OutputTarget | undefined): void {
  if (target === undefined || target === 'pipe' || target === 'log' || target === 'null') return;
  if (typeof target !== 'object' || target === null || typeof target.uri !== 'string' || target.uri === '') {
    throw newError('ERR_INVALID_ARGUMENT', `stdio.${name} must be 'pipe', 'log', 'null' or { uri }`);
  }
}

/**
 * Decides how a process's stdio is wired (pure): `'pipe'` → a FIFO in `dir` this side reads, `'null'` → nothing
 * (or a drained FIFO when another stream is a FIFO, which the runc shim needs), `'log'` → `options.logUri` for both
 * streams, `{ uri }` → as it is. A `file://`/`binary://` stdout (or `'log'`) takes stderr too: the shim writes both
 * streams there, so stderr must then be left out or the same.
 * @throws ERR_INVALID_ARGUMENT for a bad target, a stderr the shim would ignore, or `'log'` without `options.logUri`.
 */
export function planTaskIO(dir: string, id: string, stdio: StdioOptions = {}, options: { logUri?: string } = {}): TaskIOPlan {
  if (typeof stdio !== 'object' || stdio === null) throw newError('ERR_INVALID_ARGUMENT', 'stdio must be an object');
  const terminal = stdio.terminal === true;
  const stdout = stdio.stdout ?? 'pipe';
  checkTarget('stdout', stdout);
  checkTarget('stderr', stdio.stderr);
  const stderr = terminal ? 'null' : (stdio.stderr ?? stdout);
  if (!terminal && (isMergedTarget(stdout) || isMergedTarget(stderr))) {
    const same = stdout === stderr || (typeof stdout === 'object' && typeof stderr === 'object' && stdout.uri === stderr.uri);
    if (!same)
      throw newError(
        'ERR_INVALID_ARGUMENT',
        "stdio.stderr must be left out or equal stdout when either is 'log' or a file:// or binary:// URI: the shim writes both streams there",
      );
  }
  const { logUri } = options;
  if (stdout === 'log' || stderr === 'log') {
    if (typeof logUri !== 'string' || !logUri.startsWith('binary://')) {
      throw newError('ERR_INVALID_ARGUMENT', "stdio 'log' needs options.logUri, the binary:// URI of a logger");
    }
  }
  const stdin = stdio.stdin === true ? join(dir, `${id}-stdin`) : '';
  const resolve = (name: 'stdout' | 'stderr', target: OutputTarget): OutputPlan => {
    if (target === 'pipe') return { kind: 'pipe', path: join(dir, `${id}-${name}`) };
    if (target === 'log') return { kind: 'given', path: logUri! };
    if (target === 'null') return { kind: 'given', path: '' };
    return { kind: 'given', path: target.uri };
  };
  const plan: TaskIOPlan = { terminal, stdin, stdout: resolve('stdout', stdout), stderr: resolve('stderr', stderr) };
  if (terminal) plan.stderr = { kind: 'given', path: '' };
  // Once anything is wired (and always with a terminal, whose console it copies to stdout), the runc shim opens both
  // output paths (a terminal: stdout) as FIFOs and fails on ''. A URI stdout (file://, binary://) takes both instead.
  const fifoMode = !SCHEME.test(plan.stdout.path) && (terminal || plan.stdin !== '' || plan.stdout.path !== '' || plan.stderr.path !== '');
  if (fifoMode) {
    if (plan.stdout.path === '') plan.stdout = { kind: 'drain', path: join(dir, `${id}-stdout`) };
    if (!terminal && plan.stderr.path === '') plan.stderr = { kind: 'drain', path: join(dir, `${id}-stderr`) };
  }
  return plan;
}

/**
 * The stdio of one task or exec: the paths for the shim, and this side's ends of its FIFOs. The read sides are open
 * before the task is created (so nothing the process writes is lost); stdin's write side opens once the shim has
 * opened its read side (at create).
 */
export interface TaskIO extends AsyncDisposable {
  /** What `Tasks.Create`/`Exec` get. */
  readonly paths: StdioPaths;
  readonly terminal: boolean;
  /** The process's stdout, for `'pipe'` (ends once the process and the shim closed it). */
  readonly stdout: Socket | undefined;
  /** The process's stderr, for `'pipe'` without a terminal. */
  readonly stderr: Socket | undefined;
  /** Whether it has a stdin FIFO. */
  readonly hasStdin: boolean;
  /**
   * Opens the write side of stdin; call after the process was created (it waits for the shim to open the other
   * side). The shim keeps the FIFO open itself, so the process sees EOF only once this is ended and `CloseIO` was
   * called. @throws ERR_FAILED_PRECONDITION without stdin.
   */
  openStdin(options?: { signal?: AbortSignal }): Promise<Socket>;
  /** Closes every FIFO end and removes the FIFO dir. Idempotent. */
  close(): Promise<void>;
}

/**
 * Makes the stdio of a process named `id` as `options.stdio` says ({@link planTaskIO}): FIFOs under
 * `<fifoDir>/<random>/`, their read sides open.
 * @throws ERR_INVALID_ARGUMENT for a bad id or stdio; ERR_IO when the dir cannot be made; mkfifo's errors (ERR_TOOL_*).
 */
export async function createTaskIO(id: string, options: TaskIOOptions = {}): Promise<TaskIO> {
  if (typeof id !== 'string' || id === '' || id.includes('/')) throw newError('ERR_INVALID_ARGUMENT', 'id must be a non-empty string without "/"');
  const { fifoDir = DEFAULT_FIFO_DIR, signal } = options;
  const dir = join(fifoDir, randomBytes(8).toString('hex'));
  const plan = planTaskIO(dir, id, options.stdio, options.logUri === undefined ? {} : { logUri: options.logUri });
  signal?.throwIfAborted();
  const paths: StdioPaths = { stdin: plan.stdin, stdout: plan.stdout.path, stderr: plan.stderr.path };
  const fifos = [plan.stdin, ...[plan.stdout, plan.stderr].filter((o) => o.kind !== 'given').map((o) => o.path)].filter((p) => p !== '');
  const sockets: Socket[] = [];
  const ends: { stdout?: Socket; stderr?: Socket } = {};
  if (fifos.length > 0) {
    await mkdir(dir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
      throw fsError(err, 'create FIFO dir', dir);
    });
  }
  try {
    if (fifos.length > 0) await createFifos(fifos, { signal });
    for (const name of ['stdout', 'stderr'] as const) {
      const out = plan[name];
      if (out.kind === 'given') continue;
      const socket = await openFifo(out.path, 'r', { signal });
      sockets.push(socket);
      if (out.kind === 'pipe') ends[name] = socket;
      else socket.resume(); // 'null' beside FIFOs: read and dropped, so the process never blocks on it
    }
  } catch (err) {
    for (const s of sockets) s.destroy();
    if (fifos.length > 0) await rm(dir, { recursive: true, force: true });
    throw err;
  }
  let closed = false;
  const io: TaskIO = {
    paths,
    terminal: plan.terminal,
    stdout: ends.stdout,
    stderr: ends.stderr,
    hasStdin: plan.stdin !== '',
    async openStdin(o = {}) {
      if (plan.stdin === '') throw newError('ERR_FAILED_PRECONDITION', 'this TaskIO was created without stdin');
      const s = await openFifo(plan.stdin, 'w', { signal: o.signal });
      sockets.push(s);
      return s;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const s of sockets) s.destroy();
      if (fifos.length > 0) await rm(dir, { recursive: true, force: true });
    },
    [Symbol.asyncDispose]() {
      return io.close();
    },
  };
  return io;
}
