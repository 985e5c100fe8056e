/**
 * Starting runc for the verbs whose process outlives a plain call: foreground (`run`, attached `exec`,
 * `restore`: runc stays until the process exits) and detached (`create`, `run -d`, `exec -d`, `restore -d`: runc
 * exits and the process keeps runc's stdio).
 * @internal
 * @module
 */
import { PassThrough, type Readable } from 'node:stream';
import { newError } from '../errors/index.js';
import { onAbort } from '../util/abort.js';
import { childExit, collect, readPidFile, type Scratch, spawnRunc, terminate } from './command.js';
import { runcFailure } from './errors.js';
import type { PreparedStdio } from './io.js';
import type { OCIRuntimeOptions } from './options.js';
import { type ForegroundHooks, RuncProcess } from './process.js';
import type { DetachedResult, ExitResult } from './types.js';

/** Milliseconds to wait, after the process exited, for its output pipes to drain and close. */
const DRAIN_GRACE_MS = 250;

/** One launch: the verb's argv (without global flags), its scratch (removed when the launch is over) and stdio. */
export interface Launch {
  what: string;
  verbArgs: string[];
  scratch: Scratch;
  stdio: PreparedStdio;
  signal?: AbortSignal;
}

/** Starts a foreground process; `hooks` reach the process behind runc (see {@link ForegroundHooks}). */
export function startForeground(options: OCIRuntimeOptions, launch: Launch, hooks: ForegroundHooks, stderrText?: () => string): RuncProcess {
  const { child, argv } = spawnRunc(options, launch.scratch.logPath, launch.verbArgs, launch.stdio.spawn);
  launch.stdio.connect(child);
  return new RuncProcess({ child, argv, what: launch.what, scratch: launch.scratch, hooks, exposed: launch.stdio.exposed, signal: launch.signal, stderrText });
}

// A background process of the container may hold the pipe open after the foreground one exited: wait briefly.
function drained(stream: Readable | null): Promise<void> {
  if (stream === null || stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stream.destroy();
      resolve();
    }, DRAIN_GRACE_MS);
    timer.unref();
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    stream.once('end', done);
    stream.once('close', done);
  });
}

/**
 * Runs a foreground process to its end, collecting the stdout and stderr pipes it was given, and writing `input`
 * to its stdin pipe (then closing it).
 */
export async function runToExit(options: OCIRuntimeOptions, launch: Launch, hooks: ForegroundHooks, input?: string | Buffer): Promise<ExitResult> {
  let stderr: { text(): string } | undefined;
  const proc = startForeground(options, launch, hooks, () => stderr?.text() ?? '');
  const stdout = proc.stdout ? collect(proc.stdout) : undefined;
  stderr = proc.stderr ? collect(proc.stderr) : undefined;
  if (proc.stdin) {
    proc.stdin.on('error', () => undefined); // the process may exit without reading its input
    proc.stdin.end(input);
  }
  const result = await proc.wait();
  await Promise.all([drained(proc.stdout), drained(proc.stderr)]);
  return {
    ...result,
    ...(stdout === undefined ? {} : { stdout: stdout.text() }),
    ...(stderr === undefined ? {} : { stderr: stderr.text() }),
  };
}

/**
 * Starts a detached process and waits for runc to exit (not for the process). Resolves with the process's pid
 * (from `pidFile`) and the exposed pipes. On failure the pipes are destroyed and a `RuncError` is thrown; on
 * cancel runc is terminated, `cleanup` removes whatever it had created, and `signal.reason` is thrown.
 */
export async function startDetached(options: OCIRuntimeOptions, launch: Launch, pidFile: string, cleanup: () => Promise<void>): Promise<DetachedResult> {
  const { scratch, signal } = launch;
  const { child, argv } = spawnRunc(options, scratch.logPath, launch.verbArgs, launch.stdio.spawn);
  launch.stdio.connect(child);
  const [, outOpen, errOpen] = launch.stdio.exposed;
  // Node resumes (and so drops the data of) a child's unread output pipes once the child exits, and runc exits
  // at once here: pipe them into buffers the caller reads at leisure.
  const stdout = outOpen && child.stdout ? child.stdout.pipe(new PassThrough()) : null;
  const stderr = errOpen && child.stderr ? child.stderr.pipe(new PassThrough()) : null;
  const destroyPipes = (): void => {
    for (const stream of [child.stdin, child.stdout, child.stderr, stdout, stderr]) stream?.destroy();
  };
  const stopListening = onAbort(signal, () => terminate(child));
  try {
    const exit = await childExit(child, argv).catch((err: unknown) => {
      destroyPipes();
      throw err;
    });
    if (signal?.aborted) {
      destroyPipes();
      await cleanup();
      throw signal.reason;
    }
    if (exit.code !== 0) {
      destroyPipes();
      throw runcFailure({ argv, what: launch.what, exitCode: exit.code, signal: exit.signal, logText: await scratch.readLog(), stderr: '' });
    }
    const pid = await readPidFile(pidFile);
    if (pid === undefined) {
      destroyPipes();
      throw newError('ERR_RUNC_FAILED', `${launch.what}: runc exited 0 but wrote no pid to ${pidFile}`, { details: { argv } });
    }
    return { pid, stdout, stderr };
  } finally {
    stopListening();
    await scratch.dispose();
  }
}
