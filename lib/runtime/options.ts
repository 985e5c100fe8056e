/**
 * The options of {@link OCIRuntime} (global flags, fixed per instance) and of each verb (per-call flags), kept
 * apart the way go-runc keeps `Runc` and `CreateOpts`. args.ts turns them into argv.
 * @module
 */
import type { StdioOption } from './io.js';

/** Options of the runtime itself; they become runc's global flags on every call. */
export interface OCIRuntimeOptions {
  /**
   * The runtime binary, a name looked up in PATH or a path. Default `runc`. Any runtime with runc's CLI works
   * (crun, youki); containerkit is tested with runc 1.1.
   */
  binary?: string;
  /** `--root`: where the runtime keeps container state. Default: runc's own (`/run/runc` for root). */
  root?: string;
  /**
   * `--log`: a log file shared by every call. Default: none, and each call that can fail gets a private JSON log
   * in a temp dir (deleted afterwards), so errors carry runc's own message. With a shared log, a failure's message
   * is read from what the call appended, which concurrent calls may interleave.
   */
  log?: string;
  /** `--log-format` for {@link OCIRuntimeOptions.log}. Default `json` (the only format errors can be read from). */
  logFormat?: 'json' | 'text';
  /** `--systemd-cgroup`: cgroups through systemd (cgroupsPath as `slice:prefix:name`). Default false. */
  systemdCgroup?: boolean;
  /** `--rootless`: `true`, `false`, or `undefined` for runc's own detection ("auto"). Default `undefined`. */
  rootless?: boolean;
  /** `--criu`: the criu binary checkpoint and restore use. Default `criu` (looked up in PATH). */
  criu?: string;
  /** `--debug`: runc logs debug lines to the log. Default false. */
  debug?: boolean;
  /**
   * Environment for runc. Default: this process's. `NOTIFY_SOCKET` is always removed: runc would hand it to the
   * container and wait for sd_notify readiness on it, which is systemd's business, not the caller's.
   */
  env?: NodeJS.ProcessEnv;
}

/** What every verb accepts. */
export interface CallOptions {
  /** Cancels the call: runc is killed and the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of `create`. `runc create` has no `--detach`: it always returns once the container is created. */
export interface CreateOptions extends CallOptions {
  /** `--pid-file`: also write the init's pid here (the result carries it either way). */
  pidFile?: string;
  /** `--no-pivot`: use chroot-like MS_MOVE instead of pivot_root (rootfs on a ramdisk). Default false. */
  noPivot?: boolean;
  /** `--no-new-keyring`: keep the caller's session keyring. Default false. */
  noNewKeyring?: boolean;
  /**
   * `--console-socket`: where runc sends the terminal's master fd when config.json asks for a terminal. Serving
   * it needs SCM_RIGHTS fd passing, which Node 20 lacks: detached terminals belong to the ShimManager.
   */
  consoleSocket?: string;
  /**
   * The container's stdio, which it keeps after runc exits. Default `'ignore'` (/dev/null). `'pipe'` gives its
   * stdout and stderr as streams in the result; stdin can only be `'ignore'` or `'inherit'` (Node closes a pipe
   * to it when runc exits: feeding a detached container's stdin takes FIFOs, the ShimManager's way).
   */
  stdio?: StdioOption;
}

/** Options of `run`. */
export interface RunOptions extends CallOptions {
  /** `--detach`: return once the container started (a {@link DetachedResult}); default false (wait for its exit). */
  detach?: boolean;
  /**
   * The process's stdio. Default: foreground `'pipe'` for stdout and stderr (collected into the result) with
   * stdin from /dev/null, or from {@link RunOptions.input}; detached `'ignore'` (and see
   * {@link CreateOptions.stdio} for what a detached process's stdio can be).
   */
  stdio?: StdioOption;
  /** Foreground only: bytes for the process's stdin, which is then closed. */
  input?: string | Buffer;
  /** `--pid-file`. */
  pidFile?: string;
  /** `--no-pivot`. Default false. */
  noPivot?: boolean;
  /** `--no-new-keyring`. Default false. */
  noNewKeyring?: boolean;
  /** `--no-subreaper`. Default false. */
  noSubreaper?: boolean;
  /** `--keep` (foreground): leave the stopped container for `delete`. Default false. */
  keep?: boolean;
  /** `--console-socket` (detached with a terminal; see {@link CreateOptions.consoleSocket}). */
  consoleSocket?: string;
}

/** Options of `exec`. */
export interface ExecOptions extends CallOptions {
  /** Return once the process started (a {@link DetachedResult}); default false (wait for its exit). */
  detach?: boolean;
  /** Run it on a terminal (sets `terminal` in the process spec). Foreground only, unless a console socket is given. */
  tty?: boolean;
  /** stdio as for {@link RunOptions.stdio}. */
  stdio?: StdioOption;
  /** Foreground only: bytes for the process's stdin. */
  input?: string | Buffer;
  /** `--pid-file`. */
  pidFile?: string;
  /** `--console-socket` (see {@link CreateOptions.consoleSocket}). */
  consoleSocket?: string;
  /** `--ignore-paused`: exec into a paused container (the process stays frozen until resume). */
  ignorePaused?: boolean;
}

/** Options of `kill`. */
export interface KillOptions extends CallOptions {
  /** `--all`: signal every process of the container, not only its init. Default false. */
  all?: boolean;
}

/** Options of `delete`. */
export interface DeleteOptions extends CallOptions {
  /** `--force`: SIGKILL a running container first. Default false. */
  force?: boolean;
}

/** Options of `events`. */
export interface EventsOptions extends CallOptions {
  /** Milliseconds between stats samples (`--interval`). Default 5000, runc's own default. */
  interval?: number;
}

/** criu options checkpoint and restore share. */
export interface CriuOptions extends CallOptions {
  /** `--work-path`: criu's logs and work files. Default: the image path. */
  workPath?: string;
  /** `--tcp-established`. */
  tcpEstablished?: boolean;
  /** `--ext-unix-sk`. */
  extUnixSk?: boolean;
  /** `--shell-job`. */
  shellJob?: boolean;
  /** `--file-locks`. */
  fileLocks?: boolean;
  /** `--manage-cgroups-mode`. Default: runc's (`soft`). */
  manageCgroupsMode?: 'soft' | 'full' | 'strict';
  /** `--empty-ns`: namespaces to create empty instead of restoring (e.g. `network`). */
  emptyNamespaces?: string[];
  /** `--auto-dedup`. */
  autoDedup?: boolean;
}

/** Options of `checkpoint`. */
export interface CheckpointOptions extends CriuOptions {
  /** `--parent-path`: a previous pre-dump, relative to the image path. */
  parentPath?: string;
  /** `--leave-running`. Default false (the container stops once dumped). */
  leaveRunning?: boolean;
  /** `--pre-dump`: dump memory only and leave the container running. */
  preDump?: boolean;
}

/** Options of `restore`. */
export interface RestoreOptions extends CriuOptions {
  /** Return once restored (a {@link DetachedResult}); default false (wait for the exit, as `run`). */
  detach?: boolean;
  stdio?: StdioOption;
  /** `--pid-file`. */
  pidFile?: string;
  /** `--no-subreaper`. */
  noSubreaper?: boolean;
  /** `--no-pivot`. */
  noPivot?: boolean;
  /** `--console-socket`. */
  consoleSocket?: string;
}
