import type { Socket } from 'node:net';
import { finished } from 'node:stream/promises';
import type { ConsoleSize } from '../oci/runtime-spec.js';
import type { ExitStatus, Process, TaskKillOptions } from '../oci/task.js';
import { logger } from '../util/debug.js';
import type { ContainerdCallOptions } from './middleware.js';
import type { TaskIO } from './task-io.js';
import type { ContainerdProcessState, TasksService } from './tasks.js';

const log = logger('containerd:task');

// How long a started process's stdin FIFO may take to get the shim's reader.
const STDIN_OPEN_TIMEOUT_MS = 5000;

/** Options of {@link ContainerdProcess.kill}. */
export interface ContainerdKillProcessOptions extends ContainerdCallOptions, TaskKillOptions {}

/**
 * One process of a containerd task, the init process or an exec: the Go client's `Process`, speaking the shared
 * {@link Process} vocabulary. Call {@link wait} before {@link start} when the process may exit at once (containerd
 * keeps the exit until `delete` either way). Its `'pipe'` stdio is on {@link stdout}/{@link stderr}, its stdin (when
 * asked for) on {@link stdin} once started; ending that stream closes the process's stdin.
 */
export class ContainerdProcess implements Process {
  /** @internal Made by {@link ContainerdTask.exec} or `ContainerdContainer.newTask`. */
  constructor(
    protected readonly tasks: TasksService,
    /** The container (and task) id. */
    readonly id: string,
    /** The exec id; undefined for the init process. */
    readonly execId: string | undefined,
    /** @internal The process's stdio ends on this side, when it was made here. */
    protected readonly io: TaskIO | undefined,
    pid: number,
  ) {
    this.#pid = pid;
  }

  #pid: number;
  #stdin: Socket | undefined;
  // The CloseIO sent when this side's stdin ended; awaited by delete.
  #stdinClosed: Promise<void> | undefined;

  /** The process's pid on the host (0 until an exec is started). */
  get pid(): number {
    return this.#pid;
  }

  /** Write end of its stdin after {@link start}, when it was made with `stdin: true`; ending it is EOF inside. */
  get stdin(): Socket | undefined {
    return this.#stdin;
  }

  /** Its stdout, for `'pipe'`. */
  get stdout(): Socket | undefined {
    return this.io?.stdout;
  }

  /** Its stderr, for `'pipe'` without a terminal. */
  get stderr(): Socket | undefined {
    return this.io?.stderr;
  }

  /** @internal */
  protected call<T extends ContainerdCallOptions>(options: T): T & { execId: string | undefined } {
    return { ...options, execId: this.execId };
  }

  /**
   * Starts the process; resolves with its pid once its stdin (when asked for) is open on this side.
   * @throws ERR_CONTAINER_COMMAND_NOT_FOUND / ERR_CONTAINER_COMMAND_NOT_EXECUTABLE when runc cannot exec the command.
   */
  async start(options: ContainerdCallOptions = {}): Promise<number> {
    // The shim opens a task's stdin FIFO at create but an exec's only during Start: open the write side alongside.
    const stdin = this.io?.hasStdin === true && this.#stdin === undefined ? this.#openStdin(options.signal) : undefined;
    try {
      const { pid } = await this.tasks.start(this.id, this.call(options));
      this.#pid = pid;
    } catch (err) {
      stdin?.cancel();
      throw err;
    }
    const socket = await stdin?.opened();
    if (socket !== undefined) this.#attachStdin(socket);
    return this.#pid;
  }

  // Opens the stdin FIFO for writing, waiting for the shim's reader. `opened()` (after the start) gives up after
  // STDIN_OPEN_TIMEOUT_MS: a process that exited at once may have had its stdin closed before anyone wrote.
  #openStdin(signal: AbortSignal | undefined): { cancel(): void; opened(): Promise<Socket | undefined> } {
    const own = new AbortController();
    const opening = this.io!.openStdin({ signal: signal === undefined ? own.signal : AbortSignal.any([signal, own.signal]) });
    opening.catch(() => undefined); // awaited in opened(); after a failed start nobody awaits it (io.close() closes it)
    return {
      cancel: () => own.abort(new Error('start failed')),
      opened: async () => {
        const timer = setTimeout(() => own.abort(new Error('no reader')), STDIN_OPEN_TIMEOUT_MS);
        try {
          return await opening;
        } catch (err) {
          if (signal?.aborted) throw signal.reason;
          log('%s: stdin not opened: %s', this.id, (err as Error).message);
          return undefined;
        } finally {
          clearTimeout(timer);
        }
      },
    };
  }

  #attachStdin(stdin: Socket): void {
    this.#stdin = stdin;
    // EPIPE once the process is gone and data is still queued: nobody reads any more, nothing to report.
    stdin.on('error', (err) => log('%s stdin: %s', this.id, err.message));
    // The shim keeps the stdin FIFO open itself (for later attaches): the process sees EOF only after CloseIO.
    stdin.once('finish', () => {
      this.#stdinClosed ??= this.tasks.closeIO(this.id, this.call({})).catch((err: unknown) => log('%s closeIO: %O', this.id, err));
    });
  }

  /** Resolves with its exit once it exited (at once when it has). `signal` stops only this wait. */
  wait(options: ContainerdCallOptions = {}): Promise<ExitStatus> {
    return this.tasks.wait(this.id, this.call(options));
  }

  /**
   * Sends `signal` (a name or number, default SIGTERM); with `all` (the init process only) to every process of the
   * task. @throws ERR_INVALID_ARGUMENT for an unknown signal; ERR_CONTAINERD_NOT_FOUND once it is gone.
   */
  kill(signal: number | NodeJS.Signals = 'SIGTERM', options: ContainerdKillProcessOptions = {}): Promise<void> {
    const { all = false, ...call } = options;
    return this.tasks.kill(this.id, signal, { ...this.call(call), all: this.execId === undefined && all });
  }

  /** Its state as containerd reports it (with the stdio paths it was created with). */
  status(options: ContainerdCallOptions = {}): Promise<ContainerdProcessState> {
    return this.tasks.get(this.id, this.call(options));
  }

  /** Sets its terminal's size. */
  resize(size: ConsoleSize, options: ContainerdCallOptions = {}): Promise<void> {
    return this.tasks.resizePty(this.id, size, this.call(options));
  }

  /** Closes its stdin (EOF inside): ends this side's stdin stream, when there is one, and sends CloseIO. */
  async closeStdin(options: ContainerdCallOptions = {}): Promise<void> {
    const stdin = this.#stdin;
    if (stdin !== undefined && !stdin.writableFinished) {
      stdin.end();
      // Its 'finish' sends CloseIO once what was written is flushed (an EPIPE ends it too).
      await finished(stdin, { readable: false }).catch(() => undefined);
    }
    if (this.#stdinClosed !== undefined) return this.#stdinClosed;
    await this.tasks.closeIO(this.id, this.call(options));
  }

  /** @internal Waits for a pending CloseIO and closes this side's stdio. */
  protected async closeIO(): Promise<void> {
    await this.#stdinClosed;
    await this.io?.close();
  }

  /**
   * Deletes the exited process and closes its stdio; resolves with its exit and pid.
   * @throws ERR_CONTAINERD_FAILED_PRECONDITION while it runs; ERR_CONTAINERD_NOT_FOUND.
   */
  async delete(options: ContainerdCallOptions = {}): Promise<ExitStatus & { pid: number }> {
    const exit = await this.tasks.deleteProcess(this.id, this.execId ?? '', options);
    await this.closeIO();
    return exit;
  }
}
