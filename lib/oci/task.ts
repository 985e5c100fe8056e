import type { Readable, Writable } from 'node:stream';
import type { Mount } from './mount.js';
import type { ConsoleSize, LinuxResources, SpecProcess } from './runtime-spec.js';

// The running half's one vocabulary: what a backend's tasks and processes are, how they end, what they report.
// ShimManager's containers and ContainerdClient's tasks both implement these, so code written against `Task` runs
// on either backend. Pure types: no I/O here.

/** How a process ended: its exit code (128 + N after signal N) and when, when the backend knows. */
export interface ExitStatus {
  code: number;
  /** Undefined when the backend has no exit time (Go's zero time). */
  exitedAt: Date | undefined;
}

/** A process's lifecycle status. */
export type ProcessStatus = 'unknown' | 'created' | 'running' | 'stopped' | 'paused' | 'pausing';

/** Per-call options of every `Task` and `Process` method. */
export interface TaskCallOptions {
  /** Rejects the call with `signal.reason` on abort (the backend may still carry it out). */
  signal?: AbortSignal;
}

/** Options of `kill`. */
export interface TaskKillOptions extends TaskCallOptions {
  /** Signal every process of the task, not only init (ignored for an exec). Default false. */
  all?: boolean;
}

/** A process's state as its backend reports it. */
export interface ProcessState {
  /** The container (task) id. */
  id: string;
  /** Undefined for the task's init process. */
  execId: string | undefined;
  /** 0 before it was started. */
  pid: number;
  status: ProcessStatus;
  terminal: boolean;
  /** Set once it stopped. */
  exit: ExitStatus | undefined;
}

/** One process of a task, as `pids` lists it. */
export interface ProcessInfo {
  pid: number;
  /** The exec it was started for, when the backend knows; undefined for init's processes. */
  execId: string | undefined;
}

/** A task's cgroup metrics, as the backend sends them: a protobuf Any (`io.containerd.cgroups.v1.Metrics`, …). */
export interface TaskMetrics {
  timestamp: Date | undefined;
  typeUrl: string;
  value: Uint8Array;
}

/**
 * Where one output stream goes:
 * - `'pipe'`: a FIFO this process reads (the process's `stdout`/`stderr`); the process blocks once the pipe is full
 *   while nobody reads it.
 * - `'log'`: the backend's logger writes the container's log (stdout and stderr apart, a timestamp per line), also
 *   while no Node process runs.
 * - `'null'`: discarded.
 * - `{ uri }`: handed to the shim as it is (`file:///…`, `binary:///…?…`, or a FIFO path made by the caller).
 */
export type OutputTarget = 'pipe' | 'log' | 'null' | { uri: string };

/** The stdio of a task or exec. With `terminal`, output comes on `stdout` only (the terminal merges the streams). */
export interface StdioOptions {
  /** Allocate a pseudo-terminal (the spec's `process.terminal` must agree). Default false. */
  terminal?: boolean;
  /** Give it a stdin FIFO (the process's `stdin` after `start`; ending it is EOF). Default false. */
  stdin?: boolean;
  /** Default `'pipe'`. */
  stdout?: OutputTarget;
  /** Default: the same as `stdout`. Ignored with `terminal`. */
  stderr?: OutputTarget;
}

/** What a started process exposes of its stdio: the ends this side holds, for `'pipe'` streams and stdin. */
export interface ProcessStreams {
  /** Write end of its stdin, after `start`, when asked for; ending it closes stdin in the process. */
  readonly stdin: Writable | undefined;
  readonly stdout: Readable | undefined;
  readonly stderr: Readable | undefined;
}

/** One process of a task: its init process or an exec. */
export interface Process extends ProcessStreams {
  /** The container (task) id. */
  readonly id: string;
  /** Undefined for the init process. */
  readonly execId: string | undefined;
  /** Starts it; resolves with its pid. */
  start(options?: TaskCallOptions): Promise<number>;
  /** Resolves once it exited (at once when it has), with how it ended. `signal` stops only this wait. */
  wait(options?: TaskCallOptions): Promise<ExitStatus>;
  /** Sends a signal (default SIGTERM). */
  kill(signal?: number | NodeJS.Signals, options?: TaskKillOptions): Promise<void>;
  /** Its state. */
  status(options?: TaskCallOptions): Promise<ProcessState>;
  /** Sets its terminal's size. */
  resize(size: ConsoleSize, options?: TaskCallOptions): Promise<void>;
  /** Closes its stdin (EOF inside). */
  closeStdin(options?: TaskCallOptions): Promise<void>;
  /** Forgets the exited (or never started) process in the backend and closes its stdio; resolves with how it ended. */
  delete(options?: TaskCallOptions): Promise<ExitStatus & { pid: number }>;
}

/** Options of `Task.exec`. */
export interface TaskExecOptions extends TaskCallOptions {
  /** Default `{ stdout: 'pipe' }` (and stderr the same); `'log'` is for tasks only. */
  stdio?: StdioOptions;
}

/** A container's task: its init process and the container's lifetime. */
export interface Task extends Process {
  readonly execId: undefined;
  /** Adds exec `execId` running `process` (args, env, cwd, user…) with its own stdio; `start()` the result. */
  exec(execId: string, process: SpecProcess, options?: TaskExecOptions): Promise<Process>;
  /** Every process of the task. */
  pids(options?: TaskCallOptions): Promise<ProcessInfo[]>;
  /** Freezes every process. */
  pause(options?: TaskCallOptions): Promise<void>;
  /** Thaws it. */
  resume(options?: TaskCallOptions): Promise<void>;
  /** Changes its resources (cgroup limits). */
  update(resources: LinuxResources, options?: TaskCallOptions): Promise<void>;
  /** Its cgroup metrics; undefined when the backend has none. */
  metrics(options?: TaskCallOptions): Promise<TaskMetrics | undefined>;
}

/** What every task event carries besides its payload. */
export interface TaskEventBase {
  /** The topic, e.g. `/tasks/exit`. */
  topic: string;
  namespace: string;
  /** When it was published. */
  timestamp: Date | undefined;
}

/** The stdio a task was created with, as its create event reports it (paths or URIs; '' for none). */
export interface TaskEventIO {
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
}

/** A task event, from a shim or from containerd, decoded by its payload's type. */
export type TaskEvent = TaskEventBase &
  (
    | { type: 'create'; containerId: string; bundle: string; pid: number; rootfs: Mount[]; io: TaskEventIO; checkpoint: string }
    | { type: 'start'; containerId: string; pid: number }
    /** `execId` is undefined for the init process. */
    | ({ type: 'exit'; containerId: string; execId: string | undefined; pid: number } & ExitStatus)
    | ({ type: 'delete'; containerId: string; execId: string | undefined; pid: number } & ExitStatus)
    | { type: 'oom'; containerId: string }
    | { type: 'exec-added'; containerId: string; execId: string }
    | { type: 'exec-started'; containerId: string; execId: string; pid: number }
    | { type: 'paused'; containerId: string }
    | { type: 'resumed'; containerId: string }
    | { type: 'checkpointed'; containerId: string; checkpoint: string }
    /** A payload type the decoder does not know; kept raw. */
    | { type: 'unknown'; typeUrl: string; value: Uint8Array }
  );

/** The `type` of a {@link TaskEvent}. */
export type TaskEventType = TaskEvent['type'];
