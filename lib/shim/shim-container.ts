import type { Socket } from 'node:net';
import { hasCode, newError } from '../errors/index.js';
import type {
  ConsoleSize,
  ExitStatus,
  LinuxResources,
  ProcessInfo,
  ProcessState,
  SpecProcess,
  Task,
  TaskCallOptions,
  TaskExecOptions,
  TaskKillOptions,
  TaskMetrics,
} from '../oci/index.js';
import { type Lock, logger, raceSignal, sleep } from '../util/index.js';
import { isRecordCurrent, removeContainerFiles } from './container-files.js';
import type { ShimRecord, ShimStdioRecord } from './manager-types.js';
import { runShimDelete } from './shim-binary.js';
import { attachCloseStdin, call, deleteStopped, processState } from './shim-calls.js';
import { ShimExec } from './shim-exec.js';
import type { ShimLogSink } from './shim-log.js';
import { isRecordedShimAlive, killRecordedShim } from './shim-process.js';
import { closeStdio, createStdio, type LoggerConfig, openStdin, planStdio, removeStdio, type StdioEnds, stdioUris } from './shim-stdio.js';
import type { ShimTaskClient } from './task-client.js';

const log = logger('shim:container');

/** What a container needs from its manager. */
export interface ShimContainerContext {
  record: ShimRecord;
  task: ShimTaskClient;
  /** `<stateDir>/containers/<id>`. */
  dir: string;
  /** The shims' `-address` (the manager's events socket). */
  managerAddress: string;
  stdio: StdioEnds;
  /** The read side of the shim's `log` FIFO, when this manager reads it (see `ShimManager`'s notes on it). */
  logSocket?: Socket;
  logSink?: ShimLogSink;
  loggerConfig: LoggerConfig;
  /** Leave the `'log'` output in place when the container is removed (`ShimManagerOptions.keepLogs`). */
  keepLogs: boolean;
  /** Takes the container's lock (`<stateDir>/locks/shim-<id>.lock`), shared with other managers of the root. */
  lock(signal: AbortSignal | undefined): Promise<Lock>;
  /** Called once the container is removed (by this handle or, as found out, by another manager). */
  forget(): void;
}

// What a call fails with once the shim is gone or no longer has the container.
const GONE_CODES = ['ERR_TTRPC_CONNECTION_CLOSED', 'ERR_TTRPC_UNAVAILABLE', 'ERR_TTRPC_NOT_FOUND'] as const;

/**
 * A container run by its own shim, created (not yet started) or reattached: the shim backend's {@link Task}.
 * Output comes on `stdout`/`stderr` (`'pipe'`; each a FIFO read through a non-blocking fd), in `logPath`
 * (`'log'`), or where a `{ uri }` target sends it. Closing the manager leaves it running; `remove()` tears it down
 * completely, `detach()` lets go of it.
 *
 * Other managers of the root may hold it too. Once one of them removed it, a call here that finds the shim gone
 * (or the container unknown to it) fails with ERR_NOT_FOUND, a pending `wait()` ends (with the exit, or with
 * ERR_NOT_FOUND), `remove()` resolves undefined, and the manager forgets it.
 */
export class ShimContainer implements Task {
  readonly id: string;
  /** Always undefined: the container is its init process. */
  readonly execId = undefined;
  readonly bundle: string;
  readonly namespace: string;
  /** `<stateDir>/containers/<id>`: record, FIFOs, `shim.log`, the container log. */
  readonly dir: string;
  readonly address: string;
  readonly shimPid: number;
  readonly createdAt: Date;
  /** The recorded stdio. */
  readonly stdio: Readonly<ShimStdioRecord>;
  /** Write side of the stdin FIFO (after `start`, or when reattached and stdin is still open). */
  stdin: Socket | undefined;
  readonly stdout: Socket | undefined;
  readonly stderr: Socket | undefined;
  /** The shim task client (for what this class does not wrap). */
  readonly task: ShimTaskClient;
  readonly #ctx: ShimContainerContext;
  #exit: Promise<ExitStatus> | undefined;
  #removed = false;

  /** @internal made by `ShimManager`. */
  constructor(ctx: ShimContainerContext) {
    const r = ctx.record;
    this.#ctx = ctx;
    this.id = r.id;
    this.bundle = r.bundle;
    this.namespace = r.namespace;
    this.dir = ctx.dir;
    this.address = r.address;
    this.shimPid = r.shimPid;
    this.createdAt = new Date(r.createdAt);
    this.stdio = r.stdio;
    this.task = ctx.task;
    this.stdin = ctx.stdio.stdin;
    this.stdout = ctx.stdio.stdout;
    this.stderr = ctx.stdio.stderr;
    attachCloseStdin(this.stdin, () => this.closeStdin());
  }

  /** Where `'log'` output is written, if that is the target (a `{ uri }` target is the caller's to know). */
  get logPath(): string | undefined {
    return this.#ctx.record.stdio.logPath;
  }

  /** The record this container was reattached from (a copy). */
  get record(): ShimRecord {
    return structuredClone(this.#ctx.record);
  }

  /** Starts the init process; resolves with its pid. */
  async start(options: TaskCallOptions = {}): Promise<number> {
    const pid = await this.#checked(this.task.start(this.id, call(options)));
    if (this.stdin === undefined && this.stdio.stdin !== undefined) {
      this.stdin = await openStdin(this.#ctx.record.stdio, 5000, options.signal);
      attachCloseStdin(this.stdin, () => this.closeStdin());
    }
    return pid;
  }

  /**
   * Resolves when the init process exits (at once when it exited already, even while no manager ran), with its
   * exit code and the shim's exit time. One Wait call is shared by every caller; `signal` only stops this wait.
   */
  wait(options: TaskCallOptions = {}): Promise<ExitStatus> {
    this.#exit ??= this.#checked(this.task.wait(this.id)).catch((err: unknown) => {
      this.#exit = undefined;
      throw err;
    });
    return raceSignal(this.#exit, options.signal);
  }

  /** Sends a signal (default SIGTERM) to init, or with `all` to every process. @throws ERR_TTRPC_NOT_FOUND once it exited. */
  async kill(signal: number | NodeJS.Signals = 'SIGTERM', options: TaskKillOptions = {}): Promise<void> {
    await this.#checked(this.task.kill(this.id, signal, { ...call(options), all: options.all ?? false }));
  }

  /**
   * `runc delete` of the stopped (or created) container in the shim; resolves with how it ended. The shim stays up:
   * `remove()` ends it.
   * @throws ERR_FAILED_PRECONDITION while it runs or is paused.
   */
  async delete(options: TaskCallOptions = {}): Promise<ExitStatus & { pid: number }> {
    return this.#checked(deleteStopped(this.task, this.id, call(options)));
  }

  /** Its state as the shim knows it (status, pid, and its exit once it stopped). */
  async status(options: TaskCallOptions = {}): Promise<ProcessState> {
    return processState(await this.#checked(this.task.state(this.id, call(options))));
  }

  /**
   * Registers `process` as exec `execId` with its own stdio (default `{ stdout: 'pipe', stderr: 'pipe' }`; `'log'` is
   * for containers only); call `start()` on the result.
   * @throws ERR_INVALID_ARGUMENT for a bad id or stdio; ERR_TTRPC_ALREADY_EXISTS for an id in use.
   */
  async exec(execId: string, process: SpecProcess, options: TaskExecOptions = {}): Promise<ShimExec> {
    if (typeof execId !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(execId))
      throw newError('ERR_INVALID_ARGUMENT', 'execId must be 1–64 letters, digits, _ . -');
    const plan = planStdio(this.dir, `exec-${execId}-`, options.stdio ?? {});
    if (plan.stdoutMode === 'log') throw newError('ERR_INVALID_ARGUMENT', "options.stdio.stdout 'log' is for containers, not execs");
    const ends = await createStdio(plan, options.signal);
    try {
      const uris = stdioUris(plan, this.#ctx.loggerConfig);
      await this.#checked(this.task.exec(this.id, execId, { process: { ...process, terminal: uris.terminal }, ...uris }, call(options)));
    } catch (err) {
      closeStdio(ends);
      await removeStdio(plan);
      throw err;
    }
    return new ShimExec(this.task, this.id, execId, plan, ends);
  }

  /** Sets init's terminal size. */
  async resize(size: ConsoleSize, options: TaskCallOptions = {}): Promise<void> {
    await this.#checked(this.task.resizePty(this.id, size, call(options)));
  }

  /** Closes init's stdin (EOF inside the container). */
  async closeStdin(options: TaskCallOptions = {}): Promise<void> {
    await this.#checked(this.task.closeIO(this.id, call(options)));
  }

  /** Every process of the container. */
  async pids(options: TaskCallOptions = {}): Promise<ProcessInfo[]> {
    return this.#checked(this.task.pids(this.id, call(options)));
  }

  /** Cgroup metrics as the shim sends them (type URL and protobuf bytes; no timestamp). */
  async metrics(options: TaskCallOptions = {}): Promise<TaskMetrics | undefined> {
    return this.#checked(this.task.stats(this.id, call(options)));
  }

  /** Freezes it. */
  async pause(options: TaskCallOptions = {}): Promise<void> {
    await this.#checked(this.task.pause(this.id, call(options)));
  }

  /** Thaws it. */
  async resume(options: TaskCallOptions = {}): Promise<void> {
    await this.#checked(this.task.resume(this.id, call(options)));
  }

  /** Changes its resources (runc update). */
  async update(resources: LinuxResources, options: TaskCallOptions = {}): Promise<void> {
    await this.#checked(this.task.update(this.id, resources, call(options)));
  }

  /**
   * Tears it down completely: `Delete` in the shim (with `force`, a running container is SIGKILLed first),
   * `Shutdown`, waits for the shim to exit, then removes its socket, FIFOs (stdio and the bundle's `log`), the
   * manager's files in the container dir (record, `shim.log`, the container log unless the manager keeps logs),
   * that dir once empty, and runc's namespace dir when empty. The bundle is the caller's to remove. Resolves with
   * how init ended (undefined when the shim had deleted it already, or another manager removed the container). Runs
   * under the container's lock, shared with the other managers of the root.
   *
   * @throws ERR_FAILED_PRECONDITION when it is still running and `force` is not set; ERR_LOCK_TIMEOUT when another
   *   manager holds the container's lock for 30 s.
   */
  async remove(options: TaskCallOptions & { force?: boolean } = {}): Promise<(ExitStatus & { pid: number }) | undefined> {
    const { signal, force = false } = options;
    signal?.throwIfAborted();
    if (this.#removed) return undefined;
    // Under the container's lock: another manager may be removing it, or may have removed it (and started anew).
    const lock = await this.#ctx.lock(signal);
    try {
      if (await isRecordCurrent(this.#ctx.record, this.dir)) return await this.#remove(force, signal);
      await this.#gone();
      return undefined;
    } finally {
      await lock.release();
    }
  }

  async #remove(force: boolean, signal: AbortSignal | undefined): Promise<(ExitStatus & { pid: number }) | undefined> {
    let deleted: (ExitStatus & { pid: number }) | undefined;
    // NOT_FOUND: deleted in the shim already (the shim still runs); a closed connection: the shim is gone.
    let reachable = true;
    const state = await this.status({ signal }).catch((err: unknown) => {
      if (hasCode(err, 'ERR_TTRPC_NOT_FOUND')) return undefined;
      if (hasCode(err, 'ERR_TTRPC_CONNECTION_CLOSED') || hasCode(err, 'ERR_TTRPC_UNAVAILABLE')) {
        reachable = false;
        return undefined;
      }
      throw err;
    });
    if (state !== undefined && state.status !== 'stopped' && state.status !== 'created') {
      if (!force)
        throw newError('ERR_FAILED_PRECONDITION', `container ${this.id} is ${state.status}; stop it first or pass force`, {
          details: { id: this.id, status: state.status },
        });
      if (state.status === 'paused' || state.status === 'pausing') await this.resume({ signal }).catch(() => undefined);
      await this.kill('SIGKILL', { signal, all: true }).catch(() => undefined);
      await this.wait({ signal });
    }
    if (state !== undefined) {
      deleted = await this.delete({ signal }).catch((err: unknown) => {
        if (hasCode(err, 'ERR_TTRPC_NOT_FOUND')) return undefined;
        throw err;
      });
    }
    if (reachable) {
      await this.task.shutdown(this.id, { signal, timeoutMs: 5000 }).catch((err: Error) => log('shutdown of %s: %s', this.id, err.message));
    }
    await this.#cleanup(signal);
    return deleted;
  }

  /** Closes this side (client, FIFO ends); the container and its shim keep running. */
  async detach(): Promise<void> {
    closeStdio({ ...this.#ctx.stdio, stdin: this.stdin });
    this.#ctx.logSocket?.destroy();
    await this.task.close();
    await this.#ctx.logSink?.flush();
  }

  // A call that failed as if the shim were gone fails with ERR_NOT_FOUND when the container was removed (by another
  // manager of the root: its record is gone or is a newer container's); this handle then lets go and is forgotten.
  async #checked<T>(pending: Promise<T>): Promise<T> {
    try {
      return await pending;
    } catch (err) {
      if (!GONE_CODES.some((code) => hasCode(err, code)) || (await isRecordCurrent(this.#ctx.record, this.dir))) throw err;
      await this.#gone();
      throw newError('ERR_NOT_FOUND', `container ${this.id} was removed`, { cause: err, details: { id: this.id } });
    }
  }

  async #gone(): Promise<void> {
    this.#removed = true;
    await this.detach();
    this.#ctx.forget();
  }

  async #cleanup(signal: AbortSignal | undefined): Promise<void> {
    const { record, dir } = this.#ctx;
    await this.task.close();
    // The shim exits within ~50 ms of Shutdown; a shim that does not (or a container it still holds) is forced.
    // Its pid counts only while it names the recorded process: a reused pid is somebody else's.
    const deadline = Date.now() + 5000;
    while ((await isRecordedShimAlive(record)) && Date.now() < deadline) await sleep(5, signal);
    if (await killRecordedShim(record)) {
      log('shim %d of %s did not exit; killed it', this.shimPid, this.id);
      await runShimDelete({
        shimBinary: record.shimBinary,
        namespace: record.namespace,
        address: this.#ctx.managerAddress,
        id: this.id,
        bundle: this.bundle,
        signal,
      });
    }
    this.#removed = true;
    closeStdio({ ...this.#ctx.stdio, stdin: this.stdin });
    this.#ctx.logSocket?.destroy();
    await this.#ctx.logSink?.flush();
    await removeContainerFiles(record, dir, { keepLog: this.#ctx.keepLogs });
    this.#ctx.forget();
  }
}
