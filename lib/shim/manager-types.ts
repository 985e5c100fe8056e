import type { Mount } from '../oci/index.js';
import type { ShimEvent, ShimEventType } from './events.js';
import type { RuncShimOptions } from './runc-options.js';
import type { TtrpcServerOptions } from './ttrpc/server.js';

// The domain types of ShimManager and its containers.

/** Options of a `ShimManager`. */
export interface ShimManagerOptions {
  /**
   * The root this manager owns (absolute): `events.sock`, `runc/` and `containers/<id>/` live here. Two roots never
   * meet: the shims' `-address` is this root's events socket, so their sockets hash differently.
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
   * Limits of the events server on `events.sock` (connections, bytes held per connection, idle timeout); see
   * `TtrpcServerOptions` for the defaults.
   */
  eventsServer?: TtrpcServerOptions;
}

/**
 * Where a container's output goes:
 * - `'pipe'`: a FIFO this process reads (`container.stdout`); while no manager reads it, the container blocks once
 *   the pipe's 64 KiB buffer is full.
 * - `'file'`: the shim appends stdout and stderr, merged and unstamped, to `<containerDir>/output.log` (`file://`).
 * - `'log'`: the shipped logger writes `<containerDir>/container.log`, JSON lines with stream and timestamp apart.
 * - `'null'`: discarded.
 * `'file'` and `'log'` carry both streams, so `stderr` must then be left out or be the same.
 */
export type ShimOutputMode = 'pipe' | 'file' | 'log' | 'null';

/** The stdio of a container or exec without a TTY. */
export interface ShimStdioOptions {
  /** Give it a stdin FIFO (`container.stdin`; ending it sends EOF through `closeIO`). Default false. */
  stdin?: boolean;
  /** Default `'pipe'`. */
  stdout?: ShimOutputMode;
  /** Default: the same as `stdout`. */
  stderr?: ShimOutputMode;
  terminal?: false;
}

/** The stdio of a TTY process: its output (stdout and stderr merged by the terminal) comes on `stdout`. */
export interface ShimTerminalOptions {
  terminal: true;
  stdin?: boolean;
  /** Default `'pipe'`. */
  stdout?: ShimOutputMode;
}

/** Options of `ShimManager.start`. */
export interface ShimStartOptions {
  /** Default `{ stdout: 'pipe', stderr: 'pipe' }`. The bundle's `process.terminal` must match `terminal`. */
  stdio?: ShimStdioOptions | ShimTerminalOptions;
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

/** The stdio a container or exec was given, as recorded (paths of FIFOs or files; absent = none). */
export interface ShimStdioRecord {
  terminal: boolean;
  stdin?: string;
  stdout?: string;
  stderr?: string;
  stdoutMode: ShimOutputMode;
  stderrMode: ShimOutputMode;
  /** Where `'file'` or `'log'` output is written. */
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
export interface DeadShimReport {
  id: string;
  bundle: string;
  /** From the shim's `delete` subcommand: always 137 for the runc shim (it kills what is left), or 255 when it failed. */
  exitStatus: number;
  exitedAt: Date | undefined;
}

/** What `ShimManager.open` found in its root. */
export interface ReattachReport {
  /** Ids of the containers whose shims answered: `manager.get(id)` has them. */
  reattached: string[];
  /** Containers whose shims were dead, now cleaned up (runc state, socket, FIFOs, record; the bundle stays). */
  dead: DeadShimReport[];
}

/** The events a `ShimManager` emits: each shim event under its type, and every one under `event`. */
export type ShimManagerEvents = { [K in ShimEventType]: [Extract<ShimEvent, { type: K }>] } & { event: [ShimEvent] };
