import type { Socket } from 'node:net';
import type { ConsoleSize, ExitStatus, Process, ProcessState, TaskCallOptions, TaskKillOptions } from '../oci/index.js';
import { raceSignal } from '../util/index.js';
import type { ShimStdioRecord } from './manager-types.js';
import { attachCloseStdin, call, deleteStopped, processState } from './shim-calls.js';
import { closeStdio, openStdin, removeStdio, type StdioEnds } from './shim-stdio.js';
import type { ShimTaskClient } from './task-client.js';

/**
 * An extra process in a container (`exec`): registered, not yet started. Its FIFOs live in the container's dir
 * and are removed by `delete()`.
 */
export class ShimExec implements Process {
  /** The container id. */
  readonly id: string;
  readonly execId: string;
  /** Write side of its stdin FIFO (after `start`), when asked for; ending it closes stdin in the process. */
  stdin: Socket | undefined;
  readonly stdout: Socket | undefined;
  readonly stderr: Socket | undefined;
  readonly #task: ShimTaskClient;
  readonly #record: ShimStdioRecord;
  readonly #ends: StdioEnds;
  #exit: Promise<ExitStatus> | undefined;

  /** @internal made by `ShimContainer.exec`. */
  constructor(task: ShimTaskClient, containerId: string, execId: string, record: ShimStdioRecord, ends: StdioEnds) {
    this.#task = task;
    this.id = containerId;
    this.execId = execId;
    this.#record = record;
    this.#ends = ends;
    this.stdout = ends.stdout;
    this.stderr = ends.stderr;
  }

  /** Starts it; resolves with its pid. @throws ERR_TTRPC_FAILED_PRECONDITION when the container has stopped. */
  async start(options: TaskCallOptions = {}): Promise<number> {
    const pid = await this.#task.start(this.id, { ...call(options), execId: this.execId });
    this.stdin = await openStdin(this.#record, 5000, options.signal);
    attachCloseStdin(this.stdin, () => this.closeStdin());
    return pid;
  }

  /** Resolves when it exits, with its status. One Wait call is shared by every caller; `signal` only stops this wait. */
  wait(options: TaskCallOptions = {}): Promise<ExitStatus> {
    this.#exit ??= this.#task.wait(this.id, { execId: this.execId }).catch((err: unknown) => {
      this.#exit = undefined;
      throw err;
    });
    return raceSignal(this.#exit, options.signal);
  }

  /** Sends a signal (default SIGTERM); `all` does not apply to an exec. */
  async kill(signal: number | NodeJS.Signals = 'SIGTERM', options: TaskKillOptions = {}): Promise<void> {
    await this.#task.kill(this.id, signal, { ...call(options), execId: this.execId });
  }

  /** Sets its terminal size. */
  async resize(size: ConsoleSize, options: TaskCallOptions = {}): Promise<void> {
    await this.#task.resizePty(this.id, size, { ...call(options), execId: this.execId });
  }

  /** Closes its stdin (EOF). */
  async closeStdin(options: TaskCallOptions = {}): Promise<void> {
    await this.#task.closeIO(this.id, { ...call(options), execId: this.execId });
  }

  /** Its state. */
  async status(options: TaskCallOptions = {}): Promise<ProcessState> {
    return processState(await this.#task.state(this.id, { ...call(options), execId: this.execId }));
  }

  /**
   * Forgets it in the shim (after it exited) and removes its FIFOs.
   * @throws ERR_FAILED_PRECONDITION while it runs.
   */
  async delete(options: TaskCallOptions = {}): Promise<ExitStatus & { pid: number }> {
    const deleted = await deleteStopped(this.#task, this.id, { ...call(options), execId: this.execId });
    closeStdio({ ...this.#ends, stdin: this.stdin });
    await removeStdio(this.#record);
    return deleted;
  }
}
