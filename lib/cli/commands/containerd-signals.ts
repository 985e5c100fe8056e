import { constants } from 'node:os';
import { logger } from '../../util/debug.js';

const log = logger('cli:containerd-run');

/** What the CLI passes on to the container while it runs, as ctr's and docker's sig-proxy (SIGUSR1 is Node's debugger). */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR2'];

// Requests to end: the first is forwarded, a second one kills the container (a PID 1 without a handler for the
// signal never sees it: the kernel drops it, so `sleep` in a container ignores SIGINT and SIGTERM).
const TERMINATING: ReadonlySet<NodeJS.Signals> = new Set(['SIGINT', 'SIGQUIT', 'SIGTERM']);

/** What the proxy signals: a containerd task, or a container of the Engine. */
export interface SignalTarget {
  /** Sends `signal` to the container's init process, or with `all` to every process of it (as `Task.kill`). */
  kill(signal: number | NodeJS.Signals, options?: { all?: boolean }): Promise<unknown>;
}

/** 128 + the signal's number: the exit code of a process that signal ended, as shells and docker report it. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}

/**
 * The process's signals during an attached run (`run`, `start -a`, `containerd run`): before the task runs, a signal cancels the setup ({@link signal});
 * while it runs, each is sent to the task, and a second SIGINT/SIGTERM/SIGQUIT kills it (SIGKILL); the first one
 * says so on stderr. An abort of the CLI's own signal that no process signal caused (a caller of `runCli`) kills
 * the task too. The listeners go with {@link dispose}.
 */
export class SignalProxy implements Disposable {
  readonly #setup = new AbortController();
  readonly #external: AbortSignal;
  /** Aborts when the setup (image, container, task) should stop: a process signal, or the CLI's signal. */
  readonly signal: AbortSignal;
  readonly #stderr: NodeJS.WritableStream;
  readonly #id: string;
  #task: SignalTarget | undefined;
  #phase: 'setup' | 'starting' | 'running' | 'done' = 'setup';
  // Signals that came while the start was in flight: handled once it returned.
  readonly #pending: NodeJS.Signals[] = [];
  #seen = 0;
  #terminations = 0;
  #endedBy: NodeJS.Signals | undefined;
  #cancelled = false;

  constructor(external: AbortSignal, stderr: NodeJS.WritableStream, id: string) {
    this.#external = external;
    this.signal = AbortSignal.any([external, this.#setup.signal]);
    this.#stderr = stderr;
    this.#id = id;
    for (const sig of FORWARDED_SIGNALS) process.on(sig, this.#onSignal);
    if (external.aborted) this.#onAbort();
    else external.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** The signal that ended the run: it cancelled the setup, or it forced the kill. */
  get endedBy(): NodeJS.Signals | undefined {
    return this.#endedBy;
  }

  /** Whether the CLI's signal aborted with no process signal behind it (the task, if any, was killed). */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** The task is being started: signals wait for {@link started} (a kill could not reach a process not yet running). */
  starting(task: SignalTarget): void {
    this.#task = task;
    this.#phase = 'starting';
  }

  /** The task started: signals go to it from now on (and it is killed at once if the CLI's signal aborted meanwhile). */
  started(): void {
    this.#phase = 'running';
    if (this.#cancelled) this.#kill();
    for (const sig of this.#pending.splice(0)) this.#handle(sig);
  }

  /** The task exited: signals no longer go to it (cleanup runs to its end). */
  exited(): void {
    this.#phase = 'done';
  }

  readonly #onSignal = (sig: NodeJS.Signals): void => {
    this.#seen++;
    log('received %s', sig);
    if (this.#phase === 'setup' && this.#endedBy === undefined) {
      this.#endedBy = sig;
      this.#setup.abort(new DOMException(`received ${sig}`, 'AbortError'));
    }
    if (this.#phase === 'starting') this.#pending.push(sig);
    if (this.#phase === 'running') this.#handle(sig);
  };

  #handle(sig: NodeJS.Signals): void {
    if (!TERMINATING.has(sig)) {
      this.#send(sig);
      return;
    }
    if (++this.#terminations === 1) {
      this.#stderr.write(`containerkit: sent ${sig} to container ${this.#id}; send it again to kill the container\n`);
      this.#send(sig);
      return;
    }
    this.#endedBy = sig;
    this.#kill();
  }

  readonly #onAbort = (): void => {
    const seen = this.#seen;
    // The bin's own SIGINT/SIGTERM listener aborts the CLI's signal in the same emit that calls #onSignal, and runs
    // first: wait for the emit to finish before deciding the abort came from a caller.
    queueMicrotask(() => {
      if (this.#seen !== seen) return;
      this.#cancelled = true;
      if (this.#phase === 'running') this.#kill();
    });
  };

  #send(sig: NodeJS.Signals): void {
    this.#task?.kill(sig).catch((err: unknown) => log('forwarding %s failed: %O', sig, err));
  }

  #kill(): void {
    this.#task?.kill('SIGKILL', { all: true }).catch((err: unknown) => log('SIGKILL failed: %O', err));
  }

  /** Removes the process listeners. */
  dispose(): void {
    for (const sig of FORWARDED_SIGNALS) process.off(sig, this.#onSignal);
    this.#external.removeEventListener('abort', this.#onAbort);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
