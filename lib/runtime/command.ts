/**
 * Spawning runc: the environment (without NOTIFY_SOCKET), a private scratch dir per call for the JSON log, pid
 * and process files, cancellation, and the translation of a failure into a {@link RuncError}.
 * @internal
 * @module
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, open, readFile, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newError } from '../errors/index.js';
import { onAbort } from '../util/abort.js';
import { logger } from '../util/debug.js';
import { globalArgs } from './args.js';
import { type RuncError, runcFailure } from './errors.js';
import type { OCIRuntimeOptions } from './options.js';

const log = logger('runtime');

/** Milliseconds between SIGTERM and SIGKILL when a call is cancelled. */
export const KILL_GRACE_MS = 2000;
const OUTPUT_CAP = 64 * 1024 * 1024;

/** The environment runc gets: the configured one (or this process's) without NOTIFY_SOCKET. */
export function runcEnv(options: OCIRuntimeOptions): NodeJS.ProcessEnv {
  const env = { ...(options.env ?? process.env) };
  // runc would pass NOTIFY_SOCKET into the container and block until sd_notify READY arrives on it: that is a
  // protocol between systemd and the service, and our caller is neither.
  delete env.NOTIFY_SOCKET;
  return env;
}

/**
 * One call's scratch space: the private JSON log (unless the runtime has a shared log) and, when asked for, a
 * 0700 temp dir for pid and process files. Removed by {@link Scratch.dispose}.
 */
export class Scratch {
  readonly #files: string[] = [];

  private constructor(
    readonly dir: string | undefined,
    readonly logPath: string,
    private readonly logOffset: number,
    ownsLog: boolean,
  ) {
    if (ownsLog) this.#files.push(logPath);
  }

  /**
   * Opens a call's scratch. Without `withDir` the private log is one file, `containerkit-runc-<uuid>.json` in
   * the temp dir, that runc creates: the name cannot be guessed, so nobody can plant a symlink there first, and
   * the hot path (a foreground run) saves a mkdtemp and an rmdir. With a shared log, its size is remembered so
   * only this call's lines are read back.
   */
  static async open(options: OCIRuntimeOptions, withDir = false): Promise<Scratch> {
    const dir = withDir ? await mkdtemp(join(tmpdir(), 'containerkit-runc-')) : undefined;
    if (options.log !== undefined) {
      const offset = await stat(options.log).then(
        (s) => s.size,
        () => 0,
      );
      return new Scratch(dir, options.log, offset, false);
    }
    const logPath = dir === undefined ? join(tmpdir(), `containerkit-runc-${randomUUID()}.json`) : join(dir, 'log.json');
    return new Scratch(dir, logPath, 0, true);
  }

  /** A path inside the scratch dir (opened `withDir`). */
  file(name: string): string {
    if (this.dir === undefined) throw newError('ERR_INTERNAL', 'this scratch was opened without a dir');
    const path = join(this.dir, name);
    this.#files.push(path);
    return path;
  }

  /** What this call appended to the log ('' when there is none). */
  async readLog(): Promise<string> {
    try {
      const handle = await open(this.logPath, 'r');
      try {
        const { size } = await handle.stat();
        const length = Math.max(0, Math.min(size - this.logOffset, 1024 * 1024));
        const buf = Buffer.alloc(length);
        await handle.read(buf, 0, length, size - length);
        return buf.toString('utf8');
      } finally {
        await handle.close();
      }
    } catch {
      return ''; // no log written: runc failed before logging, or the shared log is unreadable
    }
  }

  /** Removes what the call made. Unlinking the known files is cheaper than a recursive rm, the fallback. */
  async dispose(): Promise<void> {
    await Promise.all(this.#files.map((f) => unlink(f).catch(() => undefined)));
    const dir = this.dir;
    if (dir !== undefined) await rmdir(dir).catch(() => rm(dir, { recursive: true, force: true }));
  }
}

/** Reads a pid file runc wrote; `undefined` when it is absent or not a pid. */
export async function readPidFile(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(path, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** How a child ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Spawns runc with `[...global flags, ...verbArgs]` and returns the child plus its whole argv. The spawn error
 * (ENOENT: the binary is missing) is delivered through {@link childExit}.
 */
export function spawnRunc(
  options: OCIRuntimeOptions,
  logPath: string | undefined,
  verbArgs: string[],
  stdio: SpawnOptions['stdio'],
): { child: ChildProcess; argv: string[] } {
  const binary = options.binary ?? 'runc';
  const args = [...globalArgs(options, logPath), ...verbArgs];
  log('spawn %s %o', binary, args);
  const child = spawn(binary, args, { env: runcEnv(options), stdio });
  return { child, argv: [binary, ...args] };
}

/** Resolves when the child exits ('exit', not 'close': a container may hold runc's stdio open for its whole life). */
export function childExit(child: ChildProcess, argv: string[]): Promise<ChildExit> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(
          newError('ERR_TOOL_MISSING', `the runtime binary ${JSON.stringify(argv[0])} was not found (install runc, or set the binary option)`, {
            cause: err,
            details: { argv },
          }),
        );
      } else {
        reject(newError('ERR_RUNC_FAILED', `${argv[0]} could not be started: ${err.message}`, { cause: err, details: { argv } }));
      }
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** SIGTERM now and SIGKILL after the grace period, unless the child is gone by then. */
export function terminate(child: ChildProcess, graceMs = KILL_GRACE_MS): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, graceMs);
  timer.unref();
  child.once('exit', () => clearTimeout(timer));
}

/** Collects a readable into a capped buffer. */
export function collect(stream: NodeJS.ReadableStream | null): { text(): string } {
  const parts: Buffer[] = [];
  let total = 0;
  stream?.on('data', (chunk: Buffer) => {
    if (total < OUTPUT_CAP) parts.push(chunk.subarray(0, OUTPUT_CAP - total));
    total += chunk.length;
  });
  return { text: () => Buffer.concat(parts).toString('utf8') };
}

/** What {@link runBuffered} needs for one call. */
export interface BufferedCall {
  /** For messages: `runc state c1`. */
  what: string;
  verbArgs: string[];
  signal?: AbortSignal;
  /** Written to runc's stdin (e.g. `update -r -`); stdin is /dev/null otherwise. */
  input?: string;
  /** The scratch to log into; the call opens (and removes) its own when not given. */
  scratch?: Scratch;
  /** Turns a failure into more evidence (e.g. criu's log) before it is thrown. */
  enrich?: (err: RuncError) => Promise<RuncError>;
}

/**
 * Runs a verb whose runc exits on its own (state, list, kill, update…), collecting stdout and stderr. Resolves
 * with stdout on exit code 0; rejects with a {@link RuncError} otherwise, with `signal.reason` on abort.
 */
export async function runBuffered(options: OCIRuntimeOptions, call: BufferedCall): Promise<string> {
  call.signal?.throwIfAborted();
  const scratch = call.scratch ?? (await Scratch.open(options));
  try {
    const { child, argv } = spawnRunc(options, scratch.logPath, call.verbArgs, [call.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe']);
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    if (call.input !== undefined) {
      child.stdin?.on('error', () => undefined); // runc may fail before reading; its exit status says why
      child.stdin?.end(call.input);
    }
    // onAbort also covers an abort during Scratch.open, after the check above.
    const stopListening = onAbort(call.signal, () => terminate(child));
    // Output is complete only once the pipes are closed too; listen before 'close' can fire.
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    let exit: ChildExit;
    try {
      exit = await childExit(child, argv);
      await closed;
    } finally {
      stopListening();
    }
    if (call.signal?.aborted) throw call.signal.reason;
    if (exit.code === 0) return stdout.text();
    const failure = runcFailure({ argv, what: call.what, exitCode: exit.code, signal: exit.signal, logText: await scratch.readLog(), stderr: stderr.text() });
    throw call.enrich ? await call.enrich(failure) : failure;
  } finally {
    if (call.scratch === undefined) await scratch.dispose();
  }
}
