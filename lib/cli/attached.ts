import { spawnSync } from 'node:child_process';
import type { Engine } from '../engine/engine.js';
import { ZERO_TIME } from '../engine/record.js';
import { logger } from '../util/debug.js';
import type { CliContext } from './command.js';
import { SignalProxy, signalExitCode } from './commands/containerd-signals.js';

const log = logger('cli:attach');

/** Options of {@link runAttached}. */
export interface AttachedOptions {
  /** Start the container first (`run`, `start -a`); otherwise it runs already (`attach`). */
  start: boolean;
  /** Forward the CLI's stdin to the container's (`-i`); EOF closes it inside. */
  stdin: boolean;
  /** The container has a terminal (`-t`): a terminal stdin goes raw and the container's follows the CLI's size. */
  tty: boolean;
}

type TtyIn = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
type TtyOut = NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };

/**
 * Runs with container `id` attached, as `docker run`/`start -a`/`attach` do, and resolves with its exit code:
 * its output (from its log, which the logger writes even while no CLI runs) goes to stdout and stderr apart; with
 * `stdin`, the CLI's stdin goes to it; with `tty`, a terminal stdin is put in raw mode (restored on every path) and
 * the container's terminal gets the CLI's size, now and on each SIGWINCH. Signals go to the container as
 * {@link SignalProxy} says (a second SIGINT/SIGTERM kills it; the CLI then exits 128 + that signal).
 */
export async function runAttached(ctx: CliContext, engine: Engine, id: string, options: AttachedOptions): Promise<number> {
  using proxy = new SignalProxy(ctx.signal, ctx.stderr, id.slice(0, 12));
  // No signal from here on: ctx.signal aborts on the first SIGINT, which is the container's, not a cancellation.
  const exited = engine.wait(id, { condition: options.start ? 'next-exit' : 'not-running' });
  exited.catch(() => undefined); // awaited below, unless the start fails first
  // A container's first run has only its own output in the log: read from the start, so no line is lost to the
  // clock's granularity; a restarted or attached one shows only what comes from now on.
  const since = options.start && (await neverStarted(engine, id)) ? undefined : new Date();
  proxy.signal.throwIfAborted();
  proxy.starting({ kill: (signal) => engine.kill(id, signal) });
  if (options.start) await engine.start(id);
  proxy.started();
  const restore = options.stdin || options.tty ? await connectInput(ctx, engine, id, options) : () => undefined;
  try {
    // The follower ends once the container stopped and what it wrote is read.
    for await (const entry of engine.logs(id, { follow: true, ...(since === undefined ? {} : { since }) })) {
      (entry.stream === 'stderr' ? ctx.stderr : ctx.stdout).write(entry.line);
    }
    const { exitCode } = await exited;
    proxy.exited();
    return proxy.endedBy === undefined ? exitCode : signalExitCode(proxy.endedBy);
  } finally {
    restore();
  }
}

async function neverStarted(engine: Engine, id: string): Promise<boolean> {
  return (await engine.inspect(id)).State.StartedAt === ZERO_TIME;
}

async function connectInput(ctx: CliContext, engine: Engine, id: string, options: AttachedOptions): Promise<() => void> {
  const input = await engine.attach(id);
  const stdin = ctx.stdin as TtyIn;
  const out = ctx.stdout as TtyOut;
  const raw = options.tty && stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  const resize = (): void => {
    if (out.isTTY !== true || !out.columns || !out.rows) return;
    input.resize({ width: out.columns, height: out.rows }).catch((err: Error) => log('resize: %s', err.message));
  };
  if (options.tty) {
    resize();
    process.on('SIGWINCH', resize);
  }
  if (raw) {
    stdin.setRawMode!(true);
    // libuv's raw mode keeps output processing (ONLCR): the container's terminal already sent CRLF, which would
    // reach the screen as CR CR LF. docker's raw mode turns it off; so does this, for the CLI's own terminal.
    if ((stdin as { fd?: number }).fd === 0) spawnSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'] });
  }
  const target = options.stdin ? input.stdin : undefined;
  if (target !== undefined) {
    // EPIPE once the process is gone and stdin still has data: nothing to report.
    target.on('error', (err) => log('stdin: %s', err.message));
    // The backend holds the FIFO open itself (for later attaches): the process sees EOF only after closeStdin.
    stdin.once('end', () => void input.closeStdin().catch((err: Error) => log('closing stdin: %s', err.message)));
    stdin.pipe(target, { end: false });
  }
  return () => {
    process.off('SIGWINCH', resize);
    if (target !== undefined) stdin.unpipe(target);
    // Back to the terminal's settings from before the raw mode (output processing included).
    if (raw) stdin.setRawMode!(false);
    // Stop reading the CLI's stdin: a terminal or a pipe that stays open must not keep the process alive.
    (stdin as { pause?: () => void }).pause?.();
  };
}
