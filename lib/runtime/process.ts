/**
 * A foreground process started through runc (`run`, attached `exec`, foreground `restore`): its stdio, its real
 * exit status, and how to signal or cancel it.
 * @module
 */
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { newError } from '../errors/index.js';
import { sleep } from '../util/abort.js';
import { formatSignal } from './args.js';
import { childExit, KILL_GRACE_MS, type Scratch } from './command.js';
import { lastRuncError, runcFailure } from './errors.js';
import type { ExitResult } from './types.js';

/** How the runtime reaches the container's process behind runc, for SIGKILL/SIGSTOP and cleanup after a cancel. */
export interface ForegroundHooks {
  /**
   * Sends SIGKILL or SIGSTOP to the process itself (runc cannot forward them: it would be killed or stopped
   * itself). Resolves `false` when the process cannot be reached yet (not started). Never throws.
   */
  signalDirect(signal: 'SIGKILL' | 'SIGSTOP'): Promise<boolean>;
  /** Runs after a cancelled process ended, to leave nothing behind (run: `delete --force`). Never throws. */
  afterAbort(): Promise<void>;
}

/** Everything a {@link RuncProcess} is built from. @internal */
export interface ForegroundInit {
  child: ChildProcess;
  argv: string[];
  /** `runc run c1`, for messages. */
  what: string;
  scratch: Scratch;
  hooks: ForegroundHooks;
  /** Which of stdin/stdout/stderr the caller gets. */
  exposed: [boolean, boolean, boolean];
  signal?: AbortSignal;
  /** runc's stderr so far, when it is being collected (for the error's stderr tail). */
  stderrText?: () => string;
}

const KILL_RETRY_MS = 20;

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(Object.entries(constants.signals).map(([name, num]) => [num, name as NodeJS.Signals]));

/**
 * The result for an exit status runc reported, observed at `exitedAt`: 128 + N is read as death by signal N (see
 * {@link ExitResult.signal}).
 */
export function exitResult(code: number, exitedAt: Date): ExitResult {
  const signal = code > 128 ? SIGNAL_NAMES.get(code - 128) : undefined;
  return signal === undefined ? { code, exitedAt } : { code, exitedAt, signal };
}

function toNodeSignal(signal: string | number): NodeJS.Signals | number {
  const formatted = formatSignal(signal);
  if (/^\d+$/.test(formatted)) return Number(formatted);
  return (formatted.startsWith('SIG') ? formatted : `SIG${formatted}`) as NodeJS.Signals;
}

/**
 * A process running in the foreground of runc. runc passes its stdio straight to the process (no terminal), so
 * {@link RuncProcess.stdout} is the process's own output, and {@link RuncProcess.wait} gives its real exit
 * status. With `terminal: true` in its spec and stdio inherited from a real TTY, runc runs the pty itself.
 *
 * Obtained from `OCIRuntime.runProcess` and `OCIRuntime.execProcess`.
 */
export class RuncProcess {
  /** The process's stdin when stdio was `'pipe'`, else `null`. End it to send EOF. */
  readonly stdin: Writable | null;
  /** The process's stdout when stdio was `'pipe'`, else `null`. Read it: an unread pipe stalls the process. */
  readonly stdout: Readable | null;
  /** The process's stderr when stdio was `'pipe'`, else `null`. */
  readonly stderr: Readable | null;
  /** The pid of runc (the process's parent), not of the process itself. */
  readonly runcPid: number | undefined;

  readonly #init: ForegroundInit;
  readonly #result: Promise<ExitResult>;

  /** @internal */
  constructor(init: ForegroundInit) {
    this.#init = init;
    const { child, exposed } = init;
    this.stdin = exposed[0] ? child.stdin : null;
    this.stdout = exposed[1] ? child.stdout : null;
    this.stderr = exposed[2] ? child.stderr : null;
    this.runcPid = child.pid;
    this.#result = this.#settle();
    // The caller may never call wait(); a failure must not become an unhandled rejection.
    this.#result.catch(() => undefined);
  }

  /**
   * The exit status of the process, once it has ended. Rejects with a `RuncError` when runc itself failed (the
   * process never started, e.g. `exec: "nosuch": executable file not found in $PATH`), and with
   * `signal.reason` when the call was cancelled (the process is SIGKILLed and, for `run`, the container deleted).
   */
  wait(): Promise<ExitResult> {
    return this.#result;
  }

  /**
   * Sends a signal (name or number; default SIGTERM). runc forwards it to the process; SIGKILL and SIGSTOP
   * cannot be forwarded, so they go to the process directly. Throws `ERR_INVALID_ARGUMENT` for a bad signal.
   */
  async kill(signal: string | number = 'SIGTERM'): Promise<void> {
    const sig = toNodeSignal(signal);
    if (sig === 'SIGKILL' || sig === 9) {
      await this.#forceKill();
    } else if (sig === 'SIGSTOP' || sig === 19) {
      if (!(await this.#init.hooks.signalDirect('SIGSTOP')) && this.#running()) {
        throw newError('ERR_RUNC_CONTAINER_STATE', `${this.#init.what}: the process has not started yet`);
      }
    } else if (this.#running()) {
      this.#init.child.kill(sig);
    }
  }

  #running(): boolean {
    return this.#init.child.exitCode === null && this.#init.child.signalCode === null;
  }

  // Until the process exists (runc is still setting it up) it cannot be signalled: retry until runc is gone.
  async #forceKill(): Promise<void> {
    const deadline = Date.now() + KILL_GRACE_MS;
    while (this.#running() && Date.now() < deadline) {
      if (await this.#init.hooks.signalDirect('SIGKILL')) return;
      await sleep(KILL_RETRY_MS);
    }
  }

  async #settle(): Promise<ExitResult> {
    const { child, argv, what, scratch, hooks, signal } = this.#init;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      void this.#forceKill();
      // runc exits once the process is gone; if it does not, it is stuck and gets SIGKILL.
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const exit = await childExit(child, argv);
      const exitedAt = new Date();
      if (signal?.aborted) {
        await hooks.afterAbort();
        throw signal.reason;
      }
      const stderr = this.#init.stderrText?.() ?? '';
      if (exit.code === 0) return exitResult(0, exitedAt);
      const logText = await scratch.readLog();
      // Non-zero is the process's own status unless runc logged an error: then the process never ran (or runc
      // lost it), and the status is runc's.
      if (exit.code === null || lastRuncError(logText) !== undefined) {
        throw runcFailure({ argv, what, exitCode: exit.code, signal: exit.signal, logText, stderr });
      }
      return exitResult(exit.code, exitedAt);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      await scratch.dispose();
    }
  }
}
