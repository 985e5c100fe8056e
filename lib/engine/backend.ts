import type { ExitStatus, Mount, Spec, StdioOptions, Task, TaskCallOptions, TaskEvent } from '../oci/index.js';

// What the Engine needs from whatever runs its containers (the daemonless shim backend, containerd): tasks in the
// shared running vocabulary of lib/oci/task.ts, found again after a restart, and one stream of their events.

/** What {@link EngineBackend.createTask} needs to make a container's task. */
export interface CreateTaskRequest {
  /** The container id (the Engine's; also the task's and the runtime's). */
  id: string;
  /**
   * The OCI runtime spec. Its `root.path` is set by the backend (the shim backend writes the bundle with the
   * rootfs at `<bundle>/rootfs`; containerd writes its own).
   */
  spec: Spec;
  /** The mounts that assemble the root filesystem (a snapshot's), mounted by the runner and undone at removal. */
  rootfs: Mount[];
  /** The task's stdio; `stdout: 'log'` keeps the container's log while no Node process runs. */
  stdio: StdioOptions;
  /** Cancels the creation: whatever was made is torn down and the call rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of {@link EngineBackend.removeTask}. */
export interface RemoveTaskOptions extends TaskCallOptions {
  /** Kill a task that still runs (SIGKILL to all its processes) instead of refusing. Default false. */
  force?: boolean;
}

/** A task that ended, and how. */
export interface EndedTask extends ExitStatus {
  id: string;
}

/**
 * What a backend found when it opened: the tasks it runs again, and those that ended while no engine watched.
 * The Engine compares it with its records to recover (a record says running, the backend says exited: the exit
 * happened while no engine ran).
 */
export interface BackendRecovery {
  /** Ids of the tasks that still run (or are created, paused): `loadTask` has them. */
  running: string[];
  /** Tasks whose process exited, with its real exit code and time; `loadTask` still has them until `removeTask`. */
  exited: EndedTask[];
  /**
   * Tasks whose runner was gone (a shim killed, a reboot): already cleaned up by the backend, so `loadTask` does not
   * have them. The code is the runner's cleanup's (137 for the runc shim's), not the process's.
   */
  lost: EndedTask[];
}

/**
 * The Engine's view of what runs its containers. A backend owns the runner's state (shims, runc state, FIFOs,
 * mounts of the rootfs, a bundle it writes); the Engine owns records, logs' reading, images and snapshots.
 *
 * Lifecycle: open the backend (an implementation's static `open`), read `recovery`, `loadTask` the ids the
 * Engine's records name, follow `events`; `createTask` then `task.start()`; `removeTask` once the task is done
 * with; `close()` on the way out, which leaves every task running (a new backend on the same state reattaches).
 *
 * Errors: ERR_INVALID_ARGUMENT (bad id, spec or stdio), ERR_ALREADY_EXISTS (a task with that id exists),
 * ERR_FAILED_PRECONDITION (removing a running task without `force`; a closed backend), the runner's own codes
 * (ERR_SHIM_*, ERR_TTRPC_*, ERR_CONTAINERD_*); `signal.reason` on abort.
 */
export interface EngineBackend {
  /** `shim` or `containerd`. */
  readonly name: string;
  /** What the backend found when it opened. */
  readonly recovery: BackendRecovery;
  /** Creates the task (created, not started: call `start()` on it). On failure nothing of it is left. */
  createTask(request: CreateTaskRequest): Promise<Task>;
  /**
   * The task `id` this backend holds (created or reattached, not removed), or undefined. The Engine takes
   * undefined for a record that says running to mean the task is gone; so a backend shared by several processes
   * must also find a task another process created after it opened (reattaching it on demand).
   */
  loadTask(id: string, options?: TaskCallOptions): Promise<Task | undefined>;
  /**
   * Where the task of container `id` with `stdout: 'log'` writes its log (JSON lines as `readContainerLog` reads
   * them, rotated to `<path>.1`), kept after the task is removed and appended to by its next task.
   */
  logPath(id: string): string;
  /** Every task this backend holds. */
  tasks(options?: TaskCallOptions): Promise<Task[]>;
  /** Events of this backend's tasks from now on; ends quietly when `signal` aborts or the backend closes. */
  events(options?: { signal?: AbortSignal }): AsyncIterable<TaskEvent>;
  /**
   * Removes the task and everything the runner made for it (its shim, FIFOs, the rootfs mount, runc state, the
   * bundle), whether the backend holds it or only its leftovers remain. Resolves with how init ended, when known.
   * @throws ERR_FAILED_PRECONDITION when it still runs and `force` is not set.
   */
  removeTask(id: string, options?: RemoveTaskOptions): Promise<ExitStatus | undefined>;
  /** Lets go of the runner (connections, FIFO ends, servers); every task keeps running. Idempotent. */
  close(): Promise<void>;
}
