import type { ExitStatus, Mount, OutputTarget, StdioOptions, TaskEvent, TaskEventType } from '../oci/index.js';
import type { RuncShimOptions } from './runc-options.js';
import type { TtrpcServerOptions } from './ttrpc/server.js';

// The domain types of ShimManager and its containers.

/** Options of a `ShimManager`. */
export interface ShimManagerOptions {
  /**
   * The root this manager works in (absolute): `events.sock`, `runc/`, `containers/<id>/` and its locks
   * `locks/shim-<id>.lock` live here. A container dir may also hold a caller's files, which the manager leaves
   * alone; a dir with no `shim.json` is not its own. Two roots never meet: the shims' `-address` is this root's
   * events socket, so their sockets hash differently. Other managers (in this or other processes) may share it.
   */
  stateDir: string;
  /** The shims' `-namespace`. Default `containerkit`. */
  namespace?: string;
  /** The shim binary, a name on PATH or an absolute path. Default `containerd-shim-runc-v2`. */
  shimBinary?: string;
  /** runc's state root handed to the shims; they append `<namespace>/`. Default `<stateDir>/runc`. */
  runcRoot?: string;
  /** The runc binary the shims run. Default: the shim's (`runc` on PATH). */
  runcBinary?: string;
  /** Longest wait for a shim's socket when reattaching, in ms. Default 500 (a dead socket fails at once anyway). */
  connectTimeoutMs?: number;
  /** Deadline of every shim call except `wait`, in ms. Default 30000. */
  callTimeoutMs?: number;
  /** Largest size of each container's `shim.log` before it is rotated to `shim.log.1`, in bytes. Default 1 MiB. */
  shimLogMaxBytes?: number;
  /**
   * The logger the shims launch for `stdout: 'log'` (absolute path, run through `binary://` with fds 3/4/5 and the
   * arguments `path <file> max <bytes>`). Default: containerkit's C logger, built with `cc` on first use into
   * `<stateDir>/bin/` (see `buildShimLogger`).
   */
  loggerBinary?: string;
  /** Size at which the logger rotates `container.log` to `container.log.1`, in bytes. Default 10 MiB. */
  logMaxBytes?: number;
  /**
   * Leave `container.log` (and `container.log.1`) in place when a container is removed or found dead, for a caller
   * that keeps a container's log beyond its task (an engine whose restarted container appends to the same log, and
   * whose `logs` still reads it after the exit). The log is then the caller's to remove. Default false.
   */
  keepLogs?: boolean;
  /**
   * Whether this manager serves the root's events socket `<stateDir>/events.sock`, where every shim of the root
   * publishes its events (by address: whoever listens there gets them all). Any number of managers, in any number
   * of processes, may open one root; at most one of them serves the socket at a time.
   * - `'if-free'` (default): serve it unless another live process does; a socket nobody accepts on (its server
   *   died) is taken over. A manager that finds it served goes without, and does not take it over later: a manager
   *   opened after the server's process died does.
   * - `'listen'`: serve it or fail: `open` throws ERR_ALREADY_EXISTS while another live process serves it (for a
   *   caller that must see every event of the root).
   * - `'none'`: never serve it (a short-lived caller that only reads or acts on containers).
   *
   * A manager without the socket (`servesEvents` false) still learns each of its containers' exit through the
   * shim's Wait, so `wait()` and the whole `Task` interface work alike; only its `events()` differs (see there).
   */
  events?: EventsSocketMode;
  /**
   * Limits of the events server on `events.sock` (connections, bytes held per connection, idle timeout); see
   * `TtrpcServerOptions` for the defaults.
   */
  eventsServer?: TtrpcServerOptions;
}

/** Whether a manager serves its root's events socket: see `ShimManagerOptions.events`. */
export type EventsSocketMode = 'listen' | 'if-free' | 'none';

/** Options of `ShimManager.start`. */
export interface ShimStartOptions {
  /**
   * Default `{ stdout: 'pipe', stderr: 'pipe' }`. The bundle's `process.terminal` must match `terminal`. How the
   * shim treats each output target:
   * - `'pipe'`: a FIFO under `<containerDir>`, read through `container.stdout`/`stderr`; while no manager reads it,
   *   the container blocks once the pipe's 64 KiB buffer is full.
   * - `'log'`: the logger (see `ShimManagerOptions.loggerBinary`) writes `<containerDir>/container.log`, JSON lines
   *   with stream and timestamp apart (`container.logPath`); removed with the container.
   * - `'null'`: discarded.
   * - `{ uri }`: handed to the shim as is: an absolute FIFO path the caller made, `file:///<path>` (the shim
   *   appends stdout and stderr, merged and unstamped; the file is the caller's and stays after `remove()`) or
   *   `binary:///<path>?<args>` (a logger of the caller's, run with fds 3/4/5).
   * `'log'`, `file://` and `binary://` carry both streams, so `stderr` must then be left out or be the same.
   */
  stdio?: StdioOptions;
  /** Extra runc options (the runc root and binary come from the manager unless set here). */
  runcOptions?: RuncShimOptions;
  /**
   * Mounts the shim makes onto `<bundle>/rootfs` at create and undoes at delete (an overlay of image layers, as
   * containerd passes a snapshot). Default none: config.json's `root.path` must then be ready.
   */
  rootfs?: Mount[];
  /** Cancels the start; everything made so far is torn down, and the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** The stdio a container or exec was given, as recorded (the FIFOs this side made; absent = none). */
export interface ShimStdioRecord {
  terminal: boolean;
  stdin?: string;
  stdout?: string;
  stderr?: string;
  stdoutMode: OutputTarget;
  stderrMode: OutputTarget;
  /** Where `'log'` output is written. */
  logPath?: string;
}

/** What a manager writes to `<stateDir>/containers/<id>/shim.json` (atomically), enough to reattach. */
export interface ShimRecord {
  version: 1;
  id: string;
  namespace: string;
  bundle: string;
  /** The shim's ttrpc address. */
  address: string;
  shimPid: number;
  /**
   * Who `shimPid` is: its start time (clock ticks since boot, `/proc/<pid>/stat` field 22) and the boot id. The
   * manager signals the pid only while both still match, never a later process that got the same pid (after a
   * reboot or pid reuse). Absent in records of older versions: such a pid is never signalled.
   */
  shimIdentity?: { start: number; boot?: string };
  shimBinary: string;
  runcRoot: string;
  stdio: ShimStdioRecord;
  /** ISO time of `start`. */
  createdAt: string;
}

/** A container whose shim was found dead when a manager opened its root, and what cleaning it up gave. */
export interface DeadShimReport extends ExitStatus {
  id: string;
  bundle: string;
  /** From the shim's `delete` subcommand: always 137 for the runc shim (it kills what is left), or 255 when it failed. */
  code: number;
}

/** What `ShimManager.open` (or `loadAll`) found in its root. */
export interface ReattachReport {
  /** Ids of the containers whose shims answered: `manager.get(id)` has them. */
  reattached: string[];
  /**
   * Containers whose shims were dead, now cleaned up by this manager (runc state, socket, FIFOs, record; the bundle
   * stays). A dead shim that another manager cleaned up first is in neither list.
   */
  dead: DeadShimReport[];
}

/** The events a `ShimManager` emits: each shim event under its type, and every one under `event`. */
export type ShimManagerEvents = { [K in TaskEventType]: [Extract<TaskEvent, { type: K }>] } & { event: [TaskEvent] };
