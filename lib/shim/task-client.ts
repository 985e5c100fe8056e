import { constants } from 'node:os';
import { hasCode, newError } from '../errors/index.js';
import { TaskDefinition } from '../gen/containerd/runtime/task/v2/shim.js';
import { ProcessDetails } from '../gen/containerd/types/runc/options/oci.js';
import { Status } from '../gen/containerd/types/task/task.js';
import type { ExitStatus, LinuxResources, ProcessInfo, ProcessStatus, TaskMetrics } from '../oci/index.js';
import { jsonAny, mountToWire, timestampToDate, typeNameOf } from './convert.js';
import { runcOptionsAny } from './runc-options.js';
import type { CreateTaskRequest, ExecProcessRequest, ShimCallOptions, ShimConnectInfo, ShimTaskClientOptions, TaskState } from './task-types.js';
import { TtrpcClient, type TtrpcConnectOptions } from './ttrpc/client.js';
import { createTtrpcClient, type TtrpcServiceClient } from './ttrpc/service.js';

/** The task service this client speaks: what containerd 1.x shims (Debian 12's 1.6) serve. */
export const TASK_SERVICE_V2 = 'containerd.task.v2.Task';

/** Type URLs containerd uses for OCI structs passed as JSON inside an Any. */
export const OCI_PROCESS_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Process';
export const OCI_LINUX_RESOURCES_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources';

const STATUS: Record<number, ProcessStatus> = {
  [Status.UNKNOWN]: 'unknown',
  [Status.CREATED]: 'created',
  [Status.RUNNING]: 'running',
  [Status.STOPPED]: 'stopped',
  [Status.PAUSED]: 'paused',
  [Status.PAUSING]: 'pausing',
};

function signalNumber(signal: number | NodeJS.Signals): number {
  const n = typeof signal === 'number' ? signal : (constants.signals as Record<string, number | undefined>)[signal];
  if (n === undefined || !Number.isInteger(n) || n <= 0 || n > 64)
    throw newError('ERR_INVALID_ARGUMENT', `signal ${String(signal)} is not a signal name or number`);
  return n;
}

function requireId(value: unknown, name: string): void {
  if (typeof value !== 'string' || value === '') throw newError('ERR_INVALID_ARGUMENT', `${name} must be a non-empty string`);
}

/**
 * A typed client of a shim's task service (`containerd.task.v2.Task`) over one ttrpc connection, speaking
 * containerkit's types: numbers for pids and statuses, Dates for times, OCI structs for exec specs and resources.
 * Calls may overlap (`wait` stays pending while others run). Failures are the shim's status as typed errors
 * (ERR_TTRPC_NOT_FOUND for a process that is gone, …); a shim that does not serve the v2 task API at all (a
 * containerd 2.x shim, which serves `containerd.task.v3.Task`) gives ERR_SHIM_TASK_API_UNSUPPORTED.
 */
export class ShimTaskClient implements AsyncDisposable {
  /** The underlying connection (closing it ends this client). */
  readonly ttrpc: TtrpcClient;
  readonly #task: TtrpcServiceClient<typeof TaskDefinition>;
  readonly #callTimeoutMs: number | undefined;

  /** Wraps a connected {@link TtrpcClient}. @throws ERR_INVALID_ARGUMENT for bad options. */
  constructor(client: TtrpcClient, options: ShimTaskClientOptions = {}) {
    const { namespace, callTimeoutMs } = options;
    if (callTimeoutMs !== undefined && (typeof callTimeoutMs !== 'number' || !(callTimeoutMs > 0) || !Number.isFinite(callTimeoutMs))) {
      throw newError('ERR_INVALID_ARGUMENT', 'options.callTimeoutMs must be a finite number of ms > 0');
    }
    this.ttrpc = client;
    this.#callTimeoutMs = callTimeoutMs;
    this.#task = createTtrpcClient(TaskDefinition, client, namespace === undefined ? {} : { namespace });
  }

  /**
   * Connects to a shim's socket address (`unix:///run/containerd/s/<hash>` as its `start` printed it).
   * @throws what `TtrpcClient.open` throws (ERR_TTRPC_UNAVAILABLE at once for a dead socket).
   */
  static async open(address: string, options: ShimTaskClientOptions & TtrpcConnectOptions = {}): Promise<ShimTaskClient> {
    const { connectTimeoutMs, signal, ...rest } = options;
    const client = await TtrpcClient.open(address, {
      ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }),
      ...(signal === undefined ? {} : { signal }),
    });
    try {
      return new ShimTaskClient(client, rest);
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  /** `Connect`: the shim's and the task's pids. */
  async connect(id: string, options: ShimCallOptions = {}): Promise<ShimConnectInfo> {
    requireId(id, 'id');
    const r = await this.#run('connect', { id }, options);
    return { shimPid: r.shimPid, taskPid: r.taskPid, version: r.version };
  }

  /** `Create`: creates the container (runc create) with its stdio; resolves with the init pid. */
  async create(request: CreateTaskRequest, options: ShimCallOptions = {}): Promise<{ pid: number }> {
    requireId(request?.id, 'request.id');
    requireId(request.bundle, 'request.bundle');
    const r = await this.#run(
      'create',
      {
        id: request.id,
        bundle: request.bundle,
        rootfs: (request.rootfs ?? []).map(mountToWire),
        terminal: request.terminal ?? false,
        stdin: request.stdin ?? '',
        stdout: request.stdout ?? '',
        stderr: request.stderr ?? '',
        checkpoint: request.checkpoint ?? '',
        parentCheckpoint: request.parentCheckpoint ?? '',
        ...(request.runcOptions === undefined ? {} : { options: runcOptionsAny(request.runcOptions) }),
      },
      options,
    );
    return { pid: r.pid };
  }

  /** `Start`: starts the init process, or the exec `execId`; resolves with its pid. */
  async start(id: string, options: ShimCallOptions & { execId?: string } = {}): Promise<number> {
    requireId(id, 'id');
    return (await this.#run('start', { id, execId: options.execId ?? '' }, options)).pid;
  }

  /** `Wait`: resolves when the process exits (or has exited). No default deadline: pass `signal` to stop waiting. */
  async wait(id: string, options: ShimCallOptions & { execId?: string } = {}): Promise<ExitStatus> {
    requireId(id, 'id');
    const r = await this.#run('wait', { id, execId: options.execId ?? '' }, options, false);
    return { code: r.exitStatus, exitedAt: timestampToDate(r.exitedAt) };
  }

  /** `Kill`: sends `signal` (number or name) to the process, or with `all` to every process of the container. */
  async kill(id: string, signal: number | NodeJS.Signals, options: ShimCallOptions & { execId?: string; all?: boolean } = {}): Promise<void> {
    requireId(id, 'id');
    await this.#run('kill', { id, execId: options.execId ?? '', signal: signalNumber(signal), all: options.all ?? false }, options);
  }

  /** `Delete`: removes the exec `execId`, or the container (runc delete); resolves with how it ended. */
  async delete(id: string, options: ShimCallOptions & { execId?: string } = {}): Promise<ExitStatus & { pid: number }> {
    requireId(id, 'id');
    const r = await this.#run('delete', { id, execId: options.execId ?? '' }, options);
    return { pid: r.pid, code: r.exitStatus, exitedAt: timestampToDate(r.exitedAt) };
  }

  /** `State`: the process's status, pid, stdio and, once it stopped, its exit. */
  async state(id: string, options: ShimCallOptions & { execId?: string } = {}): Promise<TaskState> {
    requireId(id, 'id');
    const r = await this.#run('state', { id, execId: options.execId ?? '' }, options);
    const status = STATUS[r.status] ?? 'unknown';
    return {
      id: r.id,
      execId: r.execId === '' ? undefined : r.execId,
      bundle: r.bundle,
      pid: r.pid,
      status,
      stdin: r.stdin,
      stdout: r.stdout,
      stderr: r.stderr,
      terminal: r.terminal,
      // The shim sends 0 and Go's zero time until the process stopped.
      exit: status === 'stopped' ? { code: r.exitStatus, exitedAt: timestampToDate(r.exitedAt) } : undefined,
    };
  }

  /** `Exec`: registers an extra process in the container; `start(id, { execId })` runs it. */
  async exec(id: string, execId: string, request: ExecProcessRequest, options: ShimCallOptions = {}): Promise<void> {
    requireId(id, 'id');
    requireId(execId, 'execId');
    if (typeof request?.process !== 'object' || request.process === null)
      throw newError('ERR_INVALID_ARGUMENT', 'request.process must be an OCI process object');
    await this.#run(
      'exec',
      {
        id,
        execId,
        terminal: request.terminal ?? false,
        stdin: request.stdin ?? '',
        stdout: request.stdout ?? '',
        stderr: request.stderr ?? '',
        spec: jsonAny(OCI_PROCESS_TYPE_URL, request.process),
      },
      options,
    );
  }

  /** `ResizePty`: sets the terminal size of a TTY process. */
  async resizePty(id: string, size: { width: number; height: number }, options: ShimCallOptions & { execId?: string } = {}): Promise<void> {
    requireId(id, 'id');
    for (const key of ['width', 'height'] as const) {
      const v = size?.[key];
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw newError('ERR_INVALID_ARGUMENT', `size.${key} must be a uint32`);
    }
    await this.#run('resizePty', { id, execId: options.execId ?? '', width: size.width, height: size.height }, options);
  }

  /** `CloseIO`: closes the process's stdin (EOF inside the container). */
  async closeIO(id: string, options: ShimCallOptions & { execId?: string } = {}): Promise<void> {
    requireId(id, 'id');
    await this.#run('closeIO', { id, execId: options.execId ?? '', stdin: true }, options);
  }

  /** `Pids`: every process of the container, with the exec each belongs to. */
  async pids(id: string, options: ShimCallOptions = {}): Promise<ProcessInfo[]> {
    requireId(id, 'id');
    const r = await this.#run('pids', { id }, options);
    return r.processes.map((p) => {
      let execId: string | undefined;
      if (p.info !== undefined && typeNameOf(p.info.typeUrl) === 'containerd.runc.v1.ProcessDetails') {
        const detail = ProcessDetails.decode(p.info.value).execId;
        execId = detail === '' ? undefined : detail;
      }
      return { pid: p.pid, execId };
    });
  }

  /** `Pause`: freezes the container. */
  async pause(id: string, options: ShimCallOptions = {}): Promise<void> {
    requireId(id, 'id');
    await this.#run('pause', { id }, options);
  }

  /** `Resume`: thaws the container. */
  async resume(id: string, options: ShimCallOptions = {}): Promise<void> {
    requireId(id, 'id');
    await this.#run('resume', { id }, options);
  }

  /** `Update`: changes the container's resources (runc update) and annotations. */
  async update(id: string, resources: LinuxResources, options: ShimCallOptions & { annotations?: Record<string, string> } = {}): Promise<void> {
    requireId(id, 'id');
    await this.#run('update', { id, resources: jsonAny(OCI_LINUX_RESOURCES_TYPE_URL, resources), annotations: options.annotations ?? {} }, options);
  }

  /**
   * `Stats`: the cgroup metrics as the shim sends them (an Any: type URL and protobuf bytes), or undefined. The shim
   * sends no time with them: `timestamp` is undefined.
   */
  async stats(id: string, options: ShimCallOptions = {}): Promise<TaskMetrics | undefined> {
    requireId(id, 'id');
    const r = await this.#run('stats', { id }, options);
    return r.stats === undefined ? undefined : { timestamp: undefined, typeUrl: r.stats.typeUrl, value: r.stats.value };
  }

  /**
   * `Shutdown`: asks the shim to exit. The 1.6 runc shim ignores it while it still holds a container. A shim that
   * exits before its answer is sent closes the connection instead: that counts as done, as containerd counts it.
   */
  async shutdown(id: string, options: ShimCallOptions & { now?: boolean } = {}): Promise<void> {
    requireId(id, 'id');
    try {
      await this.#run('shutdown', { id, now: options.now ?? false }, options);
    } catch (err) {
      if (!hasCode(err, 'ERR_TTRPC_CONNECTION_CLOSED')) throw err;
    }
  }

  /** Closes the connection; pending calls reject with ERR_TTRPC_CONNECTION_CLOSED. */
  async close(): Promise<void> {
    await this.ttrpc.close();
  }

  /** Same as `close()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #run<K extends keyof typeof TaskDefinition.methods>(
    method: K,
    request: Parameters<TtrpcServiceClient<typeof TaskDefinition>[K]>[0],
    options: ShimCallOptions,
    useDefaultTimeout = true,
  ): Promise<Awaited<ReturnType<TtrpcServiceClient<typeof TaskDefinition>[K]>>> {
    const timeoutMs = options.timeoutMs ?? (useDefaultTimeout ? this.#callTimeoutMs : undefined);
    const call = this.#task[method] as (req: typeof request, o: ShimCallOptions) => ReturnType<TtrpcServiceClient<typeof TaskDefinition>[K]>;
    try {
      return await call(request, { ...(options.signal === undefined ? {} : { signal: options.signal }), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    } catch (err) {
      if (hasCode(err, 'ERR_TTRPC_UNIMPLEMENTED') && String(err.details.grpcMessage).startsWith('service ')) {
        throw newError(
          'ERR_SHIM_TASK_API_UNSUPPORTED',
          `the shim does not serve ${TASK_SERVICE_V2}; containerd 2.x shims serve containerd.task.v3.Task, which containerkit does not support`,
          {
            cause: err,
            details: { service: TASK_SERVICE_V2 },
          },
        );
      }
      throw err;
    }
  }
}
