import type { Readable, Writable } from 'node:stream';
import type { PullProgress } from '../images/index.js';
import type { RegistryClient } from '../registry/index.js';
import type { Snapshotter } from '../unpack/index.js';
import type { ContainerResources, CreateOptions } from './create-options.js';
import type { EngineEvent } from './events-log.js';
import type { ContainerStatus } from './record.js';
import type { SnapshotterChoice } from './rootfs.js';

// The Engine's options and results, in docker's terms. Types only.

/** Options of `Engine.open`. */
export interface EngineOptions {
  /** The engine root (absolute): images, snapshots, containers, events and the runner's state live here. */
  root: string;
  /** What runs the containers. Default `'shim'` (daemonless: one containerd-shim-runc-v2 per container). */
  backend?: 'shim';
  /** The registry client pulls and pushes use. Without one they throw ERR_FAILED_PRECONDITION. */
  registry?: RegistryClient;
  /** A snapshotter, or which one to open under the root. Default `'auto'` (overlay where it mounts, else native). */
  snapshotter?: Snapshotter | SnapshotterChoice;
  /** The shims' namespace (runc state and cgroups are under it). Default `containerkit`. */
  namespace?: string;
  /** Deadline of each call to a shim except waits, in ms. Default 30000. */
  callTimeoutMs?: number;
  /** How long a container operation waits for another process's lock on the same container, in ms. Default 30000. */
  lockTimeoutMs?: number;
  /** Cancels the opening (and the recovery it does). */
  signal?: AbortSignal;
}

/** The events of an Engine's emitter: every event under `event`, and under its type. */
export type EngineEvents = {
  event: [EngineEvent];
  container: [EngineEvent];
  image: [EngineEvent];
};

/** A container, as `create` and a detached `run` return it. */
export interface ContainerHandle {
  /** The full id (64 hex characters). */
  id: string;
  /** The name, without a leading '/'. */
  name: string;
}

/** Options of `Engine.create`: docker's create options, plus how the image is found. */
export interface EngineCreateOptions extends CreateOptions {
  /** Progress of a pull the create makes. */
  onProgress?: (event: PullProgress) => void;
  signal?: AbortSignal;
}

/** Options of `Engine.run`. */
export interface RunOptions extends EngineCreateOptions {
  /** Return the handle once started instead of waiting for the exit. Default false. */
  detach?: boolean;
}

/** What an attached `Engine.run` resolves with. */
export interface RunResult {
  id: string;
  /** The container's exit code (128 + N after signal N). */
  exitCode: number;
  /** Everything it wrote to stdout (from its log). */
  stdout: string;
  /** Everything it wrote to stderr (from its log). */
  stderr: string;
}

/** docker's wait conditions. */
export type WaitCondition = 'next-exit' | 'not-running' | 'removed';

/** Options of `Engine.wait`. */
export interface WaitOptions {
  /** Default `'not-running'`. */
  condition?: WaitCondition;
  signal?: AbortSignal;
}

/** Options of `Engine.stop` and `Engine.restart`. */
export interface StopOptions {
  /** Seconds between the stop signal and SIGKILL; -1 waits forever. Default: the container's `stopTimeout` (10). */
  timeout?: number;
  signal?: AbortSignal;
}

/** Options of `Engine.remove`. */
export interface RemoveOptions {
  /** Kill a running container first instead of refusing. Default false. */
  force?: boolean;
  signal?: AbortSignal;
}

/** Options of `Engine.logs` (docker logs). */
export interface EngineLogsOptions {
  /** Default true. */
  stdout?: boolean;
  /** Default true. */
  stderr?: boolean;
  /** Keep reading new lines until the container stops (or `signal` aborts). Default false. */
  follow?: boolean;
  since?: Date;
  until?: Date;
  /** Prefix each line with its RFC 3339 time. Default false. */
  timestamps?: boolean;
  /** Only the last `tail` lines. Default: all. */
  tail?: number;
  signal?: AbortSignal;
}

/** Options of `Engine.exec`. */
export interface ExecOptions {
  /** `KEY=value` entries over the container's environment. */
  env?: string[];
  /** Absolute working directory. Default: the container's. */
  workdir?: string;
  /** `user[:group]` resolved in the container. Default: the container's user. */
  user?: string;
  /** Allocate a terminal (output then comes on stdout only). Default false. */
  tty?: boolean;
  /** Bytes written to its stdin, then EOF. Default: no stdin. */
  stdin?: string | Uint8Array;
  signal?: AbortSignal;
}

/** Options of `Engine.execStream`. */
export interface ExecStreamOptions extends Omit<ExecOptions, 'stdin'> {
  /** Give it a stdin (`ExecStream.stdin`; ending it is EOF). Default false. */
  stdin?: boolean;
}

/** A running exec whose stdio the caller reads and writes (`Engine.execStream`). */
export interface ExecStream {
  readonly execId: string;
  /** Its stdin, with `stdin: true`; ending it is EOF inside. */
  readonly stdin: Writable | undefined;
  /** Its stdout (the terminal's output with `tty`). Read it: a full pipe blocks the process. */
  readonly stdout: Readable | undefined;
  /** Its stderr; undefined with `tty`. */
  readonly stderr: Readable | undefined;
  /**
   * Resolves with its exit code once it exited and its output ended (output still unread 2 s after the exit is
   * cut), then forgets it in the task (`exec_die` is published). Idempotent.
   */
  wait(): Promise<{ exitCode: number }>;
  /** Sends it a signal (default SIGTERM). */
  kill(signal?: string | number): Promise<void>;
}

/** What `Engine.exec` resolves with. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** `docker ps` filters; each list matches when any of its entries does, and all given filters must match. */
export interface ListFilters {
  /** `key` or `key=value`, on the merged labels. */
  label?: string[];
  status?: ContainerStatus[];
  /** A substring of the name. */
  name?: string[];
  /** An id prefix. */
  id?: string[];
  /** An image name (normalised as docker does) or id (prefix). */
  ancestor?: string[];
}

/** Options of `Engine.list`. */
export interface ListOptions {
  /** Also containers that are not running. Default false. */
  all?: boolean;
  filters?: ListFilters;
  signal?: AbortSignal;
}

/** One row of `Engine.list`, shaped like the Engine API's `/containers/json`. */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  /** Unix seconds. */
  Created: number;
  State: ContainerStatus;
  /** docker's human text: `Up 3 seconds`, `Exited (0) 2 minutes ago`, `Created`. */
  Status: string;
  Labels: Record<string, string>;
}

/** A mount as `inspect` shows it. */
export interface InspectMount {
  Type: 'bind' | 'tmpfs';
  Source: string;
  Destination: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/** What `Engine.inspect` returns: a subset of `docker inspect`. */
export interface ContainerInspect {
  Id: string;
  /** With a leading '/', as docker shows it. */
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  Image: string;
  State: {
    Status: ContainerStatus;
    Running: boolean;
    Paused: boolean;
    Restarting: boolean;
    OOMKilled: boolean;
    Dead: boolean;
    Pid: number;
    ExitCode: number;
    Error: string;
    StartedAt: string;
    FinishedAt: string;
  };
  Config: {
    Hostname: string;
    User: string;
    Tty: boolean;
    OpenStdin: boolean;
    Env: string[];
    Cmd: string[];
    Entrypoint: string[] | null;
    Image: string;
    WorkingDir: string;
    Labels: Record<string, string>;
    StopSignal: string;
    StopTimeout: number;
  };
  HostConfig: {
    AutoRemove: boolean;
    Privileged: boolean;
    ReadonlyRootfs: boolean;
    NetworkMode: string;
    Init: boolean;
    CapAdd: string[];
    CapDrop: string[];
    Memory: number;
    MemorySwap: number;
    NanoCpus: number;
    CpuShares: number;
    CpusetCpus: string;
    PidsLimit: number;
  };
  Mounts: InspectMount[];
  /** Where the container's log is. */
  LogPath: string;
}

/** One process of `Engine.top`. */
export interface TopProcess {
  pid: number;
  ppid: number;
  uid: number;
  /** The state letter of /proc/<pid>/stat (R, S, D, Z, T…). */
  state: string;
  /** CPU time (user + system) in seconds. */
  cpuSeconds: number;
  /** Resident memory in bytes. */
  rssBytes: number;
  /** When it started. */
  startedAt: Date;
  /** Its argv joined by spaces (`[name]` for a kernel thread or a zombie). */
  command: string;
}

/** What `Engine.top` returns: the processes, and the same as docker's `ps -ef`-like table. */
export interface TopResult {
  processes: TopProcess[];
  Titles: string[];
  Processes: string[][];
}

/** One snapshot of a container's resource use (`docker stats --no-stream`). */
export interface ContainerStats {
  read: Date;
  /** Memory in use, in bytes (cache included, as the cgroup counts it). */
  memoryUsageBytes: number;
  /** The limit, in bytes; undefined when unlimited. */
  memoryLimitBytes: number | undefined;
  /** CPU time used since it started, in nanoseconds. */
  cpuUsageNanos: number;
  /** Processes (tasks) in it. */
  pids: number;
  /** The pids limit; undefined when unlimited. */
  pidsLimit: number | undefined;
}

/** A published port (none until networking comes). */
export interface PortBinding {
  containerPort: string;
  hostIp: string;
  hostPort: string;
}

/** Resources `Engine.update` changes (docker update). */
export type UpdateResources = ContainerResources;
