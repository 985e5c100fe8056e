import { newError } from '../errors/index.js';
import type { SpecProcess } from '../oci/runtime-spec.js';
import type { AnyValue } from './convert.js';
import { isNotFound } from './errors.js';
import type { ContainerdCallOptions } from './middleware.js';
import { createTaskIO, type StdioPaths, type TaskIO } from './task-io.js';
import type { ContainerdExitStatus, ContainerdProcessState, TasksService } from './tasks.js';

/**
 * How a new task or exec gets its stdio: `'fifo'` makes FIFOs and reads them ({@link TaskIO}, on `process.io`),
 * `'none'` wires nothing (ctr's `--null-io`), a {@link TaskIO} made beforehand with `createTaskIO` is used as it is
 * (so its FIFOs can be made while the container is created), and an object of paths hands the shim those paths or
 * URIs (`file:///…`, `binary:///…?…`) and reads nothing.
 */
export type ProcessStdio = 'fifo' | 'none' | TaskIO | Partial<StdioPaths>;

function isTaskIO(value: object): value is TaskIO {
  return 'paths' in value && typeof (value as TaskIO).collect === 'function';
}

/** Options of `newTask` and {@link ContainerdTask.exec} about the process's stdio. */
export interface ProcessIOOptions {
  /** Default `'fifo'`. */
  stdio?: ProcessStdio;
  /** With `'fifo'`: also a stdin FIFO (open it with `io.openStdin()` after the process was created). Default false. */
  stdin?: boolean;
  /** With `'fifo'`: where the FIFO dirs go. Default `/run/containerd/fifo`, as ctr. */
  fifoDir?: string;
  signal?: AbortSignal;
}

/** @internal Makes the process's stdio as `options` say; `io` is set only for `'fifo'`. */
export async function openProcessIO(name: string, options: ProcessIOOptions): Promise<{ paths: Partial<StdioPaths>; io?: TaskIO }> {
  const { stdio = 'fifo', stdin = false, fifoDir, signal } = options;
  if (stdio === 'none') return { paths: {} };
  if (stdio === 'fifo') {
    const io = await createTaskIO(name, { stdin, signal, ...(fifoDir === undefined ? {} : { fifoDir }) });
    return { paths: io.paths, io };
  }
  if (typeof stdio !== 'object' || stdio === null) throw newError('ERR_INVALID_ARGUMENT', 'options.stdio must be "fifo", "none", a TaskIO or an object of paths');
  if (isTaskIO(stdio)) return { paths: stdio.paths, io: stdio };
  return { paths: stdio };
}

/** Options of {@link ContainerdTask.delete}. */
export interface DeleteTaskOptions extends ContainerdCallOptions {
  /** Kill a task that still runs (SIGKILL to all its processes) and wait for it before deleting. Default false. */
  force?: boolean;
}

/**
 * One process of a containerd task, the init process or an exec: the Go client's `Process`. Call {@link wait}
 * before {@link start} when the process may exit at once (containerd keeps the exit until `delete` either way).
 */
export class ContainerdProcess {
  /** @internal Made by {@link ContainerdTask.exec} or `ContainerdContainer.newTask`. */
  constructor(
    protected readonly tasks: TasksService,
    /** The container (and task) id. */
    readonly containerId: string,
    /** The exec id; '' for the init process. */
    readonly execId: string,
    /** The process's stdio when it was made with `stdio: 'fifo'`. */
    readonly io: TaskIO | undefined,
    pid: number,
  ) {
    this.#pid = pid;
  }

  #pid: number;

  /** The process's pid on the host (0 until an exec is started). */
  get pid(): number {
    return this.#pid;
  }

  /** @internal */
  protected call<T extends ContainerdCallOptions>(options: T): T & { execId: string } {
    return { ...options, execId: this.execId };
  }

  /** Starts the process; returns its pid. */
  async start(options: ContainerdCallOptions = {}): Promise<number> {
    const { pid } = await this.tasks.start(this.containerId, this.call(options));
    this.#pid = pid;
    return pid;
  }

  /** Resolves with the exit status once the process exited. */
  wait(options: ContainerdCallOptions = {}): Promise<ContainerdExitStatus> {
    return this.tasks.wait(this.containerId, this.call(options));
  }

  /** Sends `signal` (default 15, SIGTERM). */
  kill(signal = 15, options: ContainerdCallOptions = {}): Promise<void> {
    return this.tasks.kill(this.containerId, signal, this.call(options));
  }

  /** The process's state as containerd reports it. */
  status(options: ContainerdCallOptions = {}): Promise<ContainerdProcessState> {
    return this.tasks.get(this.containerId, this.call(options));
  }

  /** Resizes its terminal. */
  resize(size: { width: number; height: number }, options: ContainerdCallOptions = {}): Promise<void> {
    return this.tasks.resizePty(this.containerId, size, this.call(options));
  }

  /** Closes its stdin. */
  closeStdin(options: ContainerdCallOptions = {}): Promise<void> {
    return this.tasks.closeIO(this.containerId, this.call(options));
  }

  /**
   * Deletes the exited process and closes its stdio; returns its exit.
   * @throws ERR_CONTAINERD_FAILED_PRECONDITION while it runs; ERR_CONTAINERD_NOT_FOUND.
   */
  async delete(options: ContainerdCallOptions = {}): Promise<ContainerdExitStatus> {
    const exit = await this.tasks.deleteProcess(this.containerId, this.execId, options);
    await this.io?.close();
    return exit;
  }
}

/**
 * A container's task (its init process and the container's lifetime): the Go client's `Task`. Made by
 * `ContainerdContainer.newTask` (or `task()` to attach to a running one); exec more processes with {@link exec}.
 */
export class ContainerdTask extends ContainerdProcess {
  /** @internal */
  constructor(tasks: TasksService, containerId: string, io: TaskIO | undefined, pid: number) {
    super(tasks, containerId, '', io, pid);
  }

  /**
   * Adds the exec process `execId` running `process` (an OCI process spec: args, env, cwd, user…); start it with
   * `start()`. Its stdio is made as `options.stdio` says (default FIFOs, read on `exec.io`).
   * @throws ERR_CONTAINERD_ALREADY_EXISTS for an exec id in use; ERR_CONTAINERD_NOT_FOUND without a task.
   */
  async exec(execId: string, process: SpecProcess, options: ProcessIOOptions & { terminal?: boolean } = {}): Promise<ContainerdProcess> {
    if (typeof execId !== 'string' || execId === '') throw newError('ERR_INVALID_ARGUMENT', 'execId must be a non-empty string');
    const { terminal, signal } = options;
    const { paths, io } = await openProcessIO(`${this.containerId}-${execId}`, options);
    try {
      await this.tasks.exec(this.containerId, execId, process, { stdio: paths, signal, ...(terminal === undefined ? {} : { terminal }) });
    } catch (err) {
      await io?.close();
      throw err;
    }
    return new ContainerdProcess(this.tasks, this.containerId, execId, io, 0);
  }

  /** The pids of every process in the task. */
  pids(options: ContainerdCallOptions = {}): Promise<Array<{ pid: number; info?: AnyValue }>> {
    return this.tasks.pids(this.containerId, options);
  }

  /** Sends `signal` to every process of the task. */
  killAll(signal = 15, options: ContainerdCallOptions = {}): Promise<void> {
    return this.tasks.kill(this.containerId, signal, { ...options, all: true });
  }

  /** Freezes every process of the task. */
  pause(options: ContainerdCallOptions = {}): Promise<void> {
    return this.tasks.pause(this.containerId, options);
  }

  /** Thaws a paused task. */
  resume(options: ContainerdCallOptions = {}): Promise<void> {
    return this.tasks.resume(this.containerId, options);
  }

  /** Updates the task's resources and/or annotations. */
  update(changes: { resources?: AnyValue; annotations?: Record<string, string> }, options: ContainerdCallOptions = {}): Promise<void> {
    return this.tasks.update(this.containerId, changes, options);
  }

  /** The task's metrics sample (a runtime-specific Any, cgroup stats for runc). */
  async metrics(options: ContainerdCallOptions = {}): Promise<{ timestamp?: Date; data?: AnyValue }> {
    const [sample] = await this.tasks.metrics([`id==${this.containerId}`], options);
    if (sample === undefined) throw newError('ERR_CONTAINERD_NOT_FOUND', `no metrics for task ${this.containerId}`);
    return { ...(sample.timestamp ? { timestamp: sample.timestamp } : {}), ...(sample.data ? { data: sample.data } : {}) };
  }

  /**
   * Deletes the stopped task (the shim and its runc container go) and closes its stdio; returns its exit. With
   * `force`, a task that still runs is first killed (SIGKILL to every process) and waited for, as the Go client's
   * `WithProcessKill` (ctr's `tasks rm --force`); a paused one is thawed so that the kill can land.
   * @throws ERR_CONTAINERD_FAILED_PRECONDITION while it runs or is paused (without `force`).
   */
  override async delete(options: DeleteTaskOptions = {}): Promise<ContainerdExitStatus> {
    const { force = false, ...call } = options;
    if (force) await this.#killAndWait(call);
    const { pid: _pid, ...exit } = await this.tasks.delete(this.containerId, call);
    await this.io?.close();
    return exit;
  }

  async #killAndWait(call: ContainerdCallOptions): Promise<void> {
    const { status } = await this.status(call);
    if (status === 'stopped') return;
    // Waiting first: the exit cannot be missed, and a task that already stopped answers at once.
    const exited = this.wait(call);
    exited.catch(() => undefined); // awaited below; a failed kill must not leave it "unhandled"
    await this.killAll(9, call).catch((err: unknown) => {
      if (!isNotFound(err)) throw err; // NotFound: "process already finished"
    });
    if (status === 'paused' || status === 'pausing') await this.resume(call).catch(() => undefined);
    await exited;
  }
}
