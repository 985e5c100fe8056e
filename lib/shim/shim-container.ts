import { readdir, rm, rmdir } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { hasCode, newError } from '../errors/index.js';
import type {
  ConsoleSize,
  ExitStatus,
  LinuxResources,
  Process,
  ProcessInfo,
  ProcessState,
  SpecProcess,
  Task,
  TaskCallOptions,
  TaskExecOptions,
  TaskKillOptions,
  TaskMetrics,
} from '../oci/index.js';
import { logger, raceSignal, removeFifo, sleep } from '../util/index.js';
import type { ShimRecord, ShimStdioRecord } from './manager-types.js';
import { runShimDelete } from './shim-binary.js';
import type { ShimLogSink } from './shim-log.js';
import { isRecordedShimAlive, killRecordedShim } from './shim-process.js';
import { closeStdio, createStdio, openStdin, planStdio, removeStdio, stdioUris, type LoggerConfig, type StdioEnds } from './shim-stdio.js';
import type { ShimTaskClient } from './task-client.js';
import type { ShimCallOptions, TaskState } from './task-types.js';
import { socketPathOf } from './ttrpc/client.js';

const log = logger('shim:container');

/** A container's record in its dir (see `ShimRecord`). */
export const RECORD_FILE = 'shim.json';

/** What a container needs from its manager. */
export interface ShimContainerContext {
  record: ShimRecord;
  task: ShimTaskClient;
  /** `<stateDir>/containers/<id>`. */
  dir: string;
  /** The shims' `-address` (the manager's events socket). */
  managerAddress: string;
  stdio: StdioEnds;
  logSocket: Socket;
  logSink: ShimLogSink;
  loggerConfig: LoggerConfig;
  /** Leave the `'log'` output in place when the container is removed (`ShimManagerOptions.keepLogs`). */
  keepLogs: boolean;
  /** Called once the container is removed. */
  forget(id: string): void;
}

const call = (options: TaskCallOptions): ShimCallOptions => (options.signal === undefined ? {} : { signal: options.signal });

function attachCloseStdin(stdin: Socket | undefined, closeStdin: () => Promise<void>): void {
  // Ending our write end is EOF already; CloseIO also tells the shim to close the process's side.
  stdin?.once('finish', () => void closeStdin().catch((err: Error) => log('closeStdin: %s', err.message)));
  stdin?.on('error', (err) => log('stdin: %s', err.message));
}

// The shared state of what the shim reports (its stdio paths and bundle stay with ShimTaskClient.state).
const processState = (s: TaskState): ProcessState => ({ id: s.id, execId: s.execId, pid: s.pid, status: s.status, terminal: s.terminal, exit: s.exit });

// The shim refuses to delete a live process with an UNKNOWN status; the shared vocabulary calls that a
// FailedPrecondition, as containerd's client does. Only a failed delete costs the extra State call.
async function deleteStopped(task: ShimTaskClient, id: string, options: ShimCallOptions & { execId?: string }): Promise<ExitStatus & { pid: number }> {
  try {
    return await task.delete(id, options);
  } catch (err) {
    if (options.signal?.aborted) throw err;
    const state = await task.state(id, options).catch(() => undefined);
    if (state === undefined || state.status === 'stopped' || state.status === 'created') throw err;
    const what = options.execId === undefined ? `container ${id}` : `exec ${options.execId} of ${id}`;
    throw newError('ERR_FAILED_PRECONDITION', `${what} is ${state.status}; it must be stopped before it is deleted`, { cause: err, details: { id, execId: options.execId, status: state.status } });
  }
}

/**
 * An extra process in a container (`exec`): registered, not yet started. Its FIFOs live in the container's dir
 * and are removed by `delete()`.
 */
export class ShimExec implements Process {
  /** The container id. */
  readonly id: string;
  readonly execId: string;
  /** Write side of its stdin FIFO (after `start`), when asked for; ending it closes stdin in the process. */
  stdin: Socket | undefined;
  readonly stdout: Socket | undefined;
  readonly stderr: Socket | undefined;
  readonly #task: ShimTaskClient;
  readonly #record: ShimStdioRecord;
  readonly #ends: StdioEnds;
  #exit: Promise<ExitStatus> | undefined;

  /** @internal made by `ShimContainer.exec`. */
  constructor(task: ShimTaskClient, containerId: string, execId: string, record: ShimStdioRecord, ends: StdioEnds) {
    this.#task = task;
    this.id = containerId;
    this.execId = execId;
    this.#record = record;
    this.#ends = ends;
    this.stdout = ends.stdout;
    this.stderr = ends.stderr;
  }

  /** Starts it; resolves with its pid. @throws ERR_TTRPC_FAILED_PRECONDITION when the container has stopped. */
  async start(options: TaskCallOptions = {}): Promise<number> {
    const pid = await this.#task.start(this.id, { ...call(options), execId: this.execId });
    this.stdin = await openStdin(this.#record, 5000, options.signal);
    attachCloseStdin(this.stdin, () => this.closeStdin());
    return pid;
  }

  /** Resolves when it exits, with its status. One Wait call is shared by every caller; `signal` only stops this wait. */
  wait(options: TaskCallOptions = {}): Promise<ExitStatus> {
    this.#exit ??= this.#task.wait(this.id, { execId: this.execId }).catch((err: unknown) => {
      this.#exit = undefined;
      throw err;
    });
    return raceSignal(this.#exit, options.signal);
  }

  /** Sends a signal (default SIGTERM); `all` does not apply to an exec. */
  async kill(signal: number | NodeJS.Signals = 'SIGTERM', options: TaskKillOptions = {}): Promise<void> {
    await this.#task.kill(this.id, signal, { ...call(options), execId: this.execId });
  }

  /** Sets its terminal size. */
  async resize(size: ConsoleSize, options: TaskCallOptions = {}): Promise<void> {
    await this.#task.resizePty(this.id, size, { ...call(options), execId: this.execId });
  }

  /** Closes its stdin (EOF). */
  async closeStdin(options: TaskCallOptions = {}): Promise<void> {
    await this.#task.closeIO(this.id, { ...call(options), execId: this.execId });
  }

  /** Its state. */
  async status(options: TaskCallOptions = {}): Promise<ProcessState> {
    return processState(await this.#task.state(this.id, { ...call(options), execId: this.execId }));
  }

  /**
   * Forgets it in the shim (after it exited) and removes its FIFOs.
   * @throws ERR_FAILED_PRECONDITION while it runs.
   */
  async delete(options: TaskCallOptions = {}): Promise<ExitStatus & { pid: number }> {
    const deleted = await deleteStopped(this.#task, this.id, { ...call(options), execId: this.execId });
    closeStdio({ ...this.#ends, stdin: this.stdin });
    await removeStdio(this.#record);
    return deleted;
  }
}

/**
 * A container run by its own shim, created (not yet started) or reattached: the shim backend's {@link Task}.
 * Output comes on `stdout`/`stderr` (`'pipe'`; each a FIFO read through a non-blocking fd), in `logPath`
 * (`'log'`), or where a `{ uri }` target sends it. Closing the manager leaves it running; `remove()` tears it down
 * completely, `detach()` lets go of it.
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
    const pid = await this.task.start(this.id, call(options));
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
    this.#exit ??= this.task.wait(this.id).catch((err: unknown) => {
      this.#exit = undefined;
      throw err;
    });
    return raceSignal(this.#exit, options.signal);
  }

  /** Sends a signal (default SIGTERM) to init, or with `all` to every process. @throws ERR_TTRPC_NOT_FOUND once it exited. */
  async kill(signal: number | NodeJS.Signals = 'SIGTERM', options: TaskKillOptions = {}): Promise<void> {
    await this.task.kill(this.id, signal, { ...call(options), all: options.all ?? false });
  }

  /**
   * `runc delete` of the stopped (or created) container in the shim; resolves with how it ended. The shim stays up:
   * `remove()` ends it.
   * @throws ERR_FAILED_PRECONDITION while it runs or is paused.
   */
  async delete(options: TaskCallOptions = {}): Promise<ExitStatus & { pid: number }> {
    return deleteStopped(this.task, this.id, call(options));
  }

  /** Its state as the shim knows it (status, pid, and its exit once it stopped). */
  async status(options: TaskCallOptions = {}): Promise<ProcessState> {
    return processState(await this.task.state(this.id, call(options)));
  }

  /**
   * Registers `process` as exec `execId` with its own stdio (default `{ stdout: 'pipe', stderr: 'pipe' }`; `'log'` is
   * for containers only); call `start()` on the result.
   * @throws ERR_INVALID_ARGUMENT for a bad id or stdio; ERR_TTRPC_ALREADY_EXISTS for an id in use.
   */
  async exec(execId: string, process: SpecProcess, options: TaskExecOptions = {}): Promise<ShimExec> {
    if (typeof execId !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(execId)) throw newError('ERR_INVALID_ARGUMENT', 'execId must be 1–64 letters, digits, _ . -');
    const plan = planStdio(this.dir, `exec-${execId}-`, options.stdio ?? {});
    if (plan.stdoutMode === 'log') throw newError('ERR_INVALID_ARGUMENT', "options.stdio.stdout 'log' is for containers, not execs");
    const ends = await createStdio(plan, options.signal);
    try {
      const uris = stdioUris(plan, this.#ctx.loggerConfig);
      await this.task.exec(this.id, execId, { process: { ...process, terminal: uris.terminal }, ...uris }, call(options));
    } catch (err) {
      closeStdio(ends);
      await removeStdio(plan);
      throw err;
    }
    return new ShimExec(this.task, this.id, execId, plan, ends);
  }

  /** Sets init's terminal size. */
  async resize(size: ConsoleSize, options: TaskCallOptions = {}): Promise<void> {
    await this.task.resizePty(this.id, size, call(options));
  }

  /** Closes init's stdin (EOF inside the container). */
  async closeStdin(options: TaskCallOptions = {}): Promise<void> {
    await this.task.closeIO(this.id, call(options));
  }

  /** Every process of the container. */
  async pids(options: TaskCallOptions = {}): Promise<ProcessInfo[]> {
    return this.task.pids(this.id, call(options));
  }

  /** Cgroup metrics as the shim sends them (type URL and protobuf bytes; no timestamp). */
  async metrics(options: TaskCallOptions = {}): Promise<TaskMetrics | undefined> {
    return this.task.stats(this.id, call(options));
  }

  /** Freezes it. */
  async pause(options: TaskCallOptions = {}): Promise<void> {
    await this.task.pause(this.id, call(options));
  }

  /** Thaws it. */
  async resume(options: TaskCallOptions = {}): Promise<void> {
    await this.task.resume(this.id, call(options));
  }

  /** Changes its resources (runc update). */
  async update(resources: LinuxResources, options: TaskCallOptions = {}): Promise<void> {
    await this.task.update(this.id, resources, call(options));
  }

  /**
   * Tears it down completely: `Delete` in the shim (with `force`, a running container is SIGKILLed first),
   * `Shutdown`, waits for the shim to exit, then removes its socket, FIFOs (stdio and the bundle's `log`), the
   * manager's files in the container dir (record, `shim.log`, the container log unless the manager keeps logs),
   * that dir once empty, and runc's namespace dir when empty. The bundle is the caller's to remove. Resolves with
   * how init ended (undefined when the shim had deleted it already).
   *
   * @throws ERR_FAILED_PRECONDITION when it is still running and `force` is not set.
   */
  async remove(options: TaskCallOptions & { force?: boolean } = {}): Promise<(ExitStatus & { pid: number }) | undefined> {
    const { signal, force = false } = options;
    signal?.throwIfAborted();
    if (this.#removed) return undefined;
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
      if (!force) throw newError('ERR_FAILED_PRECONDITION', `container ${this.id} is ${state.status}; stop it first or pass force`, { details: { id: this.id, status: state.status } });
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
    this.#ctx.logSocket.destroy();
    await this.task.close();
    await this.#ctx.logSink.flush();
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
      await runShimDelete({ shimBinary: record.shimBinary, namespace: record.namespace, address: this.#ctx.managerAddress, id: this.id, bundle: this.bundle, signal });
    }
    this.#removed = true;
    closeStdio({ ...this.#ctx.stdio, stdin: this.stdin });
    this.#ctx.logSocket.destroy();
    await this.#ctx.logSink.flush();
    await removeContainerFiles(record, dir, { keepLog: this.#ctx.keepLogs });
    this.#ctx.forget(this.id);
  }
}

/**
 * Removes what a manager and a shim leave for a container outside its bundle's own files: the shim socket, the
 * bundle's `log` FIFO, stdio FIFOs (the container's and its execs'), the `'log'` output unless `keepLog`, the
 * record and `shim.log`; then the container dir once it is empty (it may hold a caller's files, such as an
 * engine's record, which stay) and runc's namespace dir when empty.
 */
export async function removeContainerFiles(record: ShimRecord, dir: string, options: { keepLog?: boolean } = {}): Promise<void> {
  const quiet = (err: Error): void => log('cleanup of %s: %s', record.id, err.message);
  if (record.address !== '') await rm(socketPathOf(record.address), { force: true }).catch(quiet);
  await removeFifo(join(record.bundle, 'log')).catch(quiet);
  await removeStdio(record.stdio, options).catch(quiet);
  const names = await readdir(dir).catch(() => [] as string[]);
  // Exec FIFOs of execs never deleted (`exec-<id>-stdin`…), then the record last: while it exists, the next
  // manager still finds the container to clean up.
  for (const name of names.filter((n) => n.startsWith('exec-'))) await rm(join(dir, name), { force: true }).catch(quiet);
  for (const name of ['shim.log', 'shim.log.1', RECORD_FILE]) await rm(join(dir, name), { force: true }).catch(quiet);
  await rmdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT' && err.code !== 'ENOTEMPTY') quiet(err);
  });
  await rmdir(join(record.runcRoot, record.namespace)).catch(() => undefined);
}
