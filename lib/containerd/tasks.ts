import { newError } from '../errors/index.js';
import { ProcessDetails } from '../gen/containerd/types/runc/options/oci.js';
import type { Process as PbProcess } from '../gen/containerd/types/task/process.js';
import { Status } from '../gen/containerd/types/task/task.js';
import type { Mount } from '../oci/mount.js';
import type { LinuxResources, SpecProcess } from '../oci/runtime-spec.js';
import type { ExitStatus, ProcessInfo, ProcessState, ProcessStatus } from '../oci/task.js';
import { signalNumber } from '../util/signal-number.js';
import { type AnyValue, fromAny, fromMount, jsonAny, PROCESS_SPEC_TYPE_URL, toAny, toDate } from './convert.js';
import { commandError, isNotFound } from './errors.js';
import type { ContainerdCallOptions } from './middleware.js';
import type { RpcClients } from './rpc.js';
import type { StdioPaths } from './task-io.js';

/** The type URL containerd (and the runc shim) read a task's new resources under, as JSON. */
export const LINUX_RESOURCES_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources';

const STATUS: Record<number, ProcessStatus> = {
  [Status.CREATED]: 'created',
  [Status.RUNNING]: 'running',
  [Status.STOPPED]: 'stopped',
  [Status.PAUSED]: 'paused',
  [Status.PAUSING]: 'pausing',
};

/** A task's (or exec's) process as containerd reports it: the shared {@link ProcessState} plus its stdio paths. */
export interface ContainerdProcessState extends ProcessState {
  /** The FIFO paths or URIs the process was created with ('' for none). */
  stdio: StdioPaths;
}

/** Options of {@link TasksService.create}. */
export interface ContainerdCreateTaskOptions extends ContainerdCallOptions {
  /** The rootfs mounts (from `snapshots.mounts(key)`); empty when the spec's root is already a path. */
  rootfs?: Mount[];
  /** FIFO paths or URIs (`file://`, `binary://`); '' leaves a stream unwired. */
  stdio?: Partial<StdioPaths>;
  terminal?: boolean;
  /** Runtime-specific options (e.g. runc options as an Any). */
  options?: AnyValue;
  runtimePath?: string;
}

/** Options of calls on one process of a task. */
export interface ContainerdProcessCallOptions extends ContainerdCallOptions {
  /** The exec id; default: the init process ('' or undefined). */
  execId?: string | undefined;
}

/** Options of {@link TasksService.kill}. */
export interface ContainerdKillOptions extends ContainerdProcessCallOptions {
  /** Every process of the task, not only the one named. Default false. */
  all?: boolean;
}

/** Options of {@link TasksService.update}. */
export interface ContainerdUpdateTaskOptions extends ContainerdCallOptions {
  /** Annotations to set on the task (containerd-specific; the runtime sees them). */
  annotations?: Record<string, string>;
}

/** An exit as the wire has it (Go's zero time as undefined). */
const exitOf = (code: number, exitedAt: Parameters<typeof toDate>[0]): ExitStatus => ({ code, exitedAt: toDate(exitedAt) });

// containerd fills the message's `id` with the process's own id (the container id for a task's init process) and
// leaves `container_id` empty: the caller says which container and exec it asked about.
function toProcess(p: PbProcess | undefined, containerId: string, execId: string): ContainerdProcessState {
  const status = STATUS[p?.status ?? 0] ?? 'unknown';
  return {
    id: p?.containerId || containerId,
    execId: execId === '' ? undefined : execId,
    pid: p?.pid ?? 0,
    status,
    stdio: { stdin: p?.stdin ?? '', stdout: p?.stdout ?? '', stderr: p?.stderr ?? '' },
    terminal: p?.terminal ?? false,
    exit: status === 'stopped' ? exitOf(p?.exitStatus ?? 0, p?.exitedAt) : undefined,
  };
}

/**
 * Tasks (a container's running processes) through containerd: create (with stdio FIFOs from {@link createTaskIO}),
 * start, wait, kill, delete, exec, resizePty, closeIO, pids, metrics, pause/resume, update.
 * All throw ERR_CONTAINERD_NOT_FOUND for an unknown container/task/exec, ERR_CONTAINERD_FAILED_PRECONDITION in
 * the wrong state, and `signal.reason` on abort.
 */
export class TasksService {
  /** @internal Built by `ContainerdClient` over its raw gRPC clients, which are not public. */
  constructor(private readonly rpc: Pick<RpcClients, 'tasks'>) {}

  /**
   * Creates the task of container `containerId` (runc create through the shim); returns its pid.
   * @throws ERR_CONTAINER_COMMAND_NOT_FOUND / ERR_CONTAINER_COMMAND_NOT_EXECUTABLE when runc cannot exec the command.
   */
  async create(containerId: string, options: ContainerdCreateTaskOptions = {}): Promise<{ pid: number }> {
    const { rootfs = [], stdio = {}, terminal = false, options: runtimeOptions, runtimePath = '', ...call } = options;
    const request = {
      containerId,
      rootfs: rootfs.map(fromMount),
      stdin: stdio.stdin ?? '',
      stdout: stdio.stdout ?? '',
      stderr: stdio.stderr ?? '',
      terminal,
      checkpoint: undefined,
      options: fromAny(runtimeOptions),
      runtimePath,
    };
    const r = await this.rpc.tasks.create(request, call).catch((err: unknown) => {
      throw commandError(err);
    });
    return { pid: r.pid };
  }

  /**
   * Starts the task's init process (or exec `execId`); returns its pid.
   * @throws ERR_CONTAINER_COMMAND_NOT_FOUND / ERR_CONTAINER_COMMAND_NOT_EXECUTABLE when runc cannot exec the command.
   */
  async start(containerId: string, options: ContainerdProcessCallOptions = {}): Promise<{ pid: number }> {
    const { execId = '', ...call } = options;
    const r = await this.rpc.tasks.start({ containerId, execId }, call).catch((err: unknown) => {
      throw commandError(err);
    });
    return { pid: r.pid };
  }

  /** Resolves when the process exits. Call it before `start` to never miss a fast exit. */
  async wait(containerId: string, options: ContainerdProcessCallOptions = {}): Promise<ExitStatus> {
    const { execId = '', ...call } = options;
    const r = await this.rpc.tasks.wait({ containerId, execId }, call);
    return exitOf(r.exitStatus, r.exitedAt);
  }

  /**
   * Sends `signal` (a name or number, default SIGTERM) to the process, or with `all` to every process of the task.
   * @throws ERR_INVALID_ARGUMENT for an unknown signal.
   */
  async kill(containerId: string, signal: number | NodeJS.Signals = 'SIGTERM', options: ContainerdKillOptions = {}): Promise<void> {
    const { execId = '', all = false, ...call } = options;
    await this.rpc.tasks.kill({ containerId, execId, signal: signalNumber(signal), all }, call);
  }

  /**
   * Deletes a stopped (or never started) task; returns its exit.
   * @throws ERR_CONTAINERD_FAILED_PRECONDITION while it runs or is paused (containerd 1.6 reports that case as
   *   UNKNOWN: a failed delete is followed by a state check that says which it was, as containerd's Go client does
   *   before deleting).
   */
  async delete(containerId: string, options: ContainerdCallOptions = {}): Promise<ExitStatus & { pid: number }> {
    try {
      const r = await this.rpc.tasks.delete({ containerId }, options);
      return { pid: r.pid, ...exitOf(r.exitStatus, r.exitedAt) };
    } catch (err) {
      if (isNotFound(err) || options.signal?.aborted) throw err;
      const state = await this.get(containerId, options).catch(() => undefined);
      if (state?.status === 'running' || state?.status === 'paused' || state?.status === 'pausing') {
        throw newError('ERR_CONTAINERD_FAILED_PRECONDITION', `task ${containerId} must be stopped before deletion (it is ${state.status})`, {
          cause: err,
          details: { containerId, status: state.status, method: '/containerd.services.tasks.v1.Tasks/Delete' },
        });
      }
      throw err;
    }
  }

  /** Deletes an exited exec process. */
  async deleteProcess(containerId: string, execId: string, options: ContainerdCallOptions = {}): Promise<ExitStatus & { pid: number }> {
    const r = await this.rpc.tasks.deleteProcess({ containerId, execId }, options);
    return { pid: r.pid, ...exitOf(r.exitStatus, r.exitedAt) };
  }

  /** The state of the task's init process (or exec `execId`). */
  async get(containerId: string, options: ContainerdProcessCallOptions = {}): Promise<ContainerdProcessState> {
    const { execId = '', ...call } = options;
    const r = await this.rpc.tasks.get({ containerId, execId }, call);
    return toProcess(r.process, containerId, execId);
  }

  /** Every task of the namespace. */
  async list(options: ContainerdCallOptions = {}): Promise<ContainerdProcessState[]> {
    const r = await this.rpc.tasks.list({ filter: '' }, options);
    return r.tasks.map((t) => toProcess(t, t.id, ''));
  }

  /** Adds exec process `execId` running `process` (an OCI process spec) to the task; start it with `start`. */
  async exec(
    containerId: string,
    execId: string,
    process: SpecProcess,
    options: ContainerdCallOptions & { stdio?: Partial<StdioPaths>; terminal?: boolean } = {},
  ): Promise<void> {
    const { stdio = {}, terminal = process.terminal ?? false, ...call } = options;
    await this.rpc.tasks.exec(
      {
        containerId,
        execId,
        stdin: stdio.stdin ?? '',
        stdout: stdio.stdout ?? '',
        stderr: stdio.stderr ?? '',
        terminal,
        spec: fromAny(jsonAny(PROCESS_SPEC_TYPE_URL, process)),
      },
      call,
    );
  }

  /** Resizes the process's terminal. */
  async resizePty(containerId: string, size: { width: number; height: number }, options: ContainerdProcessCallOptions = {}): Promise<void> {
    const { execId = '', ...call } = options;
    await this.rpc.tasks.resizePty({ containerId, execId, width: size.width, height: size.height }, call);
  }

  /** Closes the process's stdin. */
  async closeIO(containerId: string, options: ContainerdProcessCallOptions = {}): Promise<void> {
    const { execId = '', ...call } = options;
    await this.rpc.tasks.closeIO({ containerId, execId, stdin: true }, call);
  }

  /** Every process of the task, with the exec each belongs to when the runtime says (runc's `ProcessDetails`). */
  async pids(containerId: string, options: ContainerdCallOptions = {}): Promise<ProcessInfo[]> {
    const r = await this.rpc.tasks.listPids({ containerId }, options);
    return r.processes.map((p) => {
      let execId: string | undefined;
      if (p.info !== undefined && p.info.typeUrl.slice(p.info.typeUrl.lastIndexOf('/') + 1) === 'containerd.runc.v1.ProcessDetails') {
        execId = ProcessDetails.decode(p.info.value).execId || undefined;
      }
      return { pid: p.pid, execId };
    });
  }

  /** Pauses every process of the task (cgroup freezer). */
  async pause(containerId: string, options: ContainerdCallOptions = {}): Promise<void> {
    await this.rpc.tasks.pause({ containerId }, options);
  }

  /** Resumes a paused task. */
  async resume(containerId: string, options: ContainerdCallOptions = {}): Promise<void> {
    await this.rpc.tasks.resume({ containerId }, options);
  }

  /** Changes the task's resources (cgroup limits, `runc update`) and, with `options.annotations`, its annotations. */
  async update(containerId: string, resources: LinuxResources, options: ContainerdUpdateTaskOptions = {}): Promise<void> {
    const { annotations = {}, ...call } = options;
    await this.rpc.tasks.update({ containerId, resources: fromAny(jsonAny(LINUX_RESOURCES_TYPE_URL, resources)), annotations: { ...annotations } }, call);
  }

  /** Metrics samples of the tasks matching `filters` (e.g. `id==<container>`); data is a runtime-specific Any. */
  async metrics(filters: string[], options: ContainerdCallOptions = {}): Promise<Array<{ id: string; timestamp?: Date; data?: AnyValue }>> {
    const r = await this.rpc.tasks.metrics({ filters }, options);
    return r.metrics.map((m) => ({ id: m.id, timestamp: toDate(m.timestamp), data: toAny(m.data) }));
  }
}
