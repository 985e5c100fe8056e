import { newError } from '../errors/index.js';
import type { LinuxResources, SpecProcess } from '../oci/runtime-spec.js';
import type { ExitStatus, ProcessInfo, StdioOptions, Task, TaskExecOptions, TaskMetrics } from '../oci/task.js';
import { isNotFound } from './errors.js';
import type { ContainerdCallOptions } from './middleware.js';
import { ContainerdProcess } from './process.js';
import { createTaskIO, type TaskIO } from './task-io.js';
import type { TasksService } from './tasks.js';

/** The containerd-specific stdio options of `newTask` and {@link ContainerdTask.exec}, beside the shared `stdio`. */
export interface ContainerdStdioOptions {
  /**
   * Stdio made beforehand with `createTaskIO` (so its FIFOs can be made while the container is created); used as it
   * is instead of `stdio`, and closed with the process.
   */
  io?: TaskIO;
  /** Where `'pipe'` FIFO dirs go. Default `/run/containerd/fifo`, as ctr. */
  fifoDir?: string;
  /** The `binary://` URI of the logger for `'log'` output (see `createTaskIO`). Required for `'log'`. */
  logUri?: string;
}

/** @internal The stdio of a new process: the prepared one, or made as `stdio` says. */
export async function openProcessIO(name: string, stdio: StdioOptions, options: ContainerdStdioOptions & { signal?: AbortSignal }): Promise<TaskIO> {
  const { io, ...made } = options;
  return io ?? createTaskIO(name, { ...made, stdio });
}

/** Options of {@link ContainerdTask.exec}. */
export interface ContainerdExecOptions extends TaskExecOptions, ContainerdCallOptions, ContainerdStdioOptions {}

/** Options of {@link ContainerdTask.delete}. */
export interface DeleteTaskOptions extends ContainerdCallOptions {
  /** Kill a task that still runs (SIGKILL to all its processes) and wait for it before deleting. Default false. */
  force?: boolean;
}

/**
 * A container's task (its init process and the container's lifetime): the Go client's `Task`, speaking the shared
 * {@link Task} vocabulary. Made by `ContainerdContainer.newTask` (or `task()` to attach to a running one, without
 * stdio); exec more processes with {@link exec}.
 */
export class ContainerdTask extends ContainerdProcess implements Task {
  declare readonly execId: undefined;

  /** @internal */
  constructor(tasks: TasksService, containerId: string, io: TaskIO | undefined, pid: number) {
    super(tasks, containerId, undefined, io, pid);
  }

  /**
   * Adds the exec process `execId` running `process` (an OCI process spec: args, env, cwd, user…); start it with
   * `start()`. Its stdio is made as `options.stdio` says (default `{ stdout: 'pipe' }`, stderr the same); a terminal
   * there sets the spec's `terminal` too.
   * @throws ERR_INVALID_ARGUMENT for an empty exec id or `'log'` stdio (tasks only); ERR_CONTAINERD_ALREADY_EXISTS
   *   for an exec id in use; ERR_CONTAINERD_NOT_FOUND without a task.
   */
  async exec(execId: string, process: SpecProcess, options: ContainerdExecOptions = {}): Promise<ContainerdProcess> {
    if (typeof execId !== 'string' || execId === '') throw newError('ERR_INVALID_ARGUMENT', 'execId must be a non-empty string');
    const { stdio, io: given, fifoDir, logUri, signal, ...call } = options;
    if (stdio?.stdout === 'log' || stdio?.stderr === 'log') throw newError('ERR_INVALID_ARGUMENT', "stdio 'log' is for tasks only, not execs");
    const terminal = stdio?.terminal ?? process.terminal ?? false;
    const io = await openProcessIO(`${this.id}-${execId}`, { ...stdio, terminal }, { io: given, fifoDir, logUri, signal });
    try {
      await this.tasks.exec(this.id, execId, { ...process, terminal: io.terminal }, { ...call, signal, stdio: io.paths, terminal: io.terminal });
    } catch (err) {
      await io.close();
      throw err;
    }
    return new ContainerdProcess(this.tasks, this.id, execId, io, 0);
  }

  /** Every process of the task (with its exec id when runc says). */
  pids(options: ContainerdCallOptions = {}): Promise<ProcessInfo[]> {
    return this.tasks.pids(this.id, options);
  }

  /** Freezes every process of the task. */
  pause(options: ContainerdCallOptions = {}): Promise<void> {
    return this.tasks.pause(this.id, options);
  }

  /** Thaws a paused task. */
  resume(options: ContainerdCallOptions = {}): Promise<void> {
    return this.tasks.resume(this.id, options);
  }

  /** Changes the task's resources (cgroup limits, as `runc update`). */
  update(resources: LinuxResources, options: ContainerdCallOptions = {}): Promise<void> {
    return this.tasks.update(this.id, resources, options);
  }

  /** The task's metrics sample (cgroup stats for runc, as a protobuf Any); undefined when containerd has none. */
  async metrics(options: ContainerdCallOptions = {}): Promise<TaskMetrics | undefined> {
    const [sample] = await this.tasks.metrics([`id==${this.id}`], options);
    if (sample?.data === undefined) return undefined;
    return { timestamp: sample.timestamp, typeUrl: sample.data.typeUrl, value: sample.data.value };
  }

  /**
   * Deletes the stopped task (the shim and its runc container go) and closes its stdio; resolves with its exit and
   * pid. With `force`, a task that still runs is first killed (SIGKILL to every process) and waited for, as the Go
   * client's `WithProcessKill` (ctr's `tasks rm --force`); a paused one is thawed so that the kill can land.
   * @throws ERR_CONTAINERD_FAILED_PRECONDITION while it runs or is paused (without `force`).
   */
  override async delete(options: DeleteTaskOptions = {}): Promise<ExitStatus & { pid: number }> {
    const { force = false, ...call } = options;
    if (force) await this.#killAndWait(call);
    const exit = await this.tasks.delete(this.id, call);
    await this.closeIO();
    return exit;
  }

  async #killAndWait(call: ContainerdCallOptions): Promise<void> {
    const { status } = await this.status(call);
    if (status === 'stopped') return;
    // Waiting first: the exit cannot be missed, and a task that already stopped answers at once.
    const exited = this.wait(call);
    exited.catch(() => undefined); // awaited below; a failed kill must not leave it "unhandled"
    await this.kill('SIGKILL', { ...call, all: true }).catch((err: unknown) => {
      if (!isNotFound(err)) throw err; // NotFound: "process already finished"
    });
    if (status === 'paused' || status === 'pausing') await this.resume(call).catch(() => undefined);
    await exited;
  }
}
