import { rm, rmdir } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { hasCode, newError } from '../errors/index.js';
import type { LinuxResources, SpecProcess } from '../oci/index.js';
import { logger, raceSignal, removeFifo, sleep } from '../util/index.js';
import type { ShimRecord, ShimStdioOptions, ShimStdioRecord, ShimTerminalOptions } from './manager-types.js';
import { runShimDelete } from './shim-binary.js';
import type { ShimLogSink } from './shim-log.js';
import { isRecordedShimAlive, killRecordedShim } from './shim-process.js';
import { closeStdio, createStdio, openStdin, planStdio, removeStdio, stdioUris, type LoggerConfig, type StdioEnds } from './shim-stdio.js';
import type { ShimTaskClient } from './task-client.js';
import type { DeletedProcess, ExitInfo, ShimCallOptions, TaskProcess, TaskState } from './task-types.js';
import { socketPathOf } from './ttrpc/client.js';

const log = logger('shim:container');

/** Per-call options of the container's methods. */
export interface ShimOpOptions {
  signal?: AbortSignal;
}

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
  /** Called once the container is removed. */
  forget(id: string): void;
}

const call = (options: ShimOpOptions): ShimCallOptions => (options.signal === undefined ? {} : { signal: options.signal });

function attachCloseIO(stdin: Socket | undefined, closeIO: () => Promise<void>): void {
  // Ending our write end is EOF already; CloseIO also tells the shim to close the process's side.
  stdin?.once('finish', () => void closeIO().catch((err: Error) => log('closeIO: %s', err.message)));
  stdin?.on('error', (err) => log('stdin: %s', err.message));
}

/** Stdio and options of `ShimContainer.exec`. */
export interface ShimExecOptions {
  /** Default `{ stdout: 'pipe', stderr: 'pipe' }`; `'file'` and `'log'` are for containers only. */
  stdio?: ShimStdioOptions | ShimTerminalOptions;
  signal?: AbortSignal;
}

/**
 * An extra process in a container (`exec`): registered, not yet started. Its FIFOs live in the container's dir
 * and are removed by `delete()`.
 */
export class ShimExec {
  readonly containerId: string;
  readonly execId: string;
  /** Write side of its stdin FIFO (after `start`), when asked for; ending it closes stdin in the process. */
  stdin: Socket | undefined;
  readonly stdout: Socket | undefined;
  readonly stderr: Socket | undefined;
  readonly #task: ShimTaskClient;
  readonly #record: ShimStdioRecord;
  readonly #ends: StdioEnds;
  #exit: Promise<ExitInfo> | undefined;

  /** @internal made by `ShimContainer.exec`. */
  constructor(task: ShimTaskClient, containerId: string, execId: string, record: ShimStdioRecord, ends: StdioEnds) {
    this.#task = task;
    this.containerId = containerId;
    this.execId = execId;
    this.#record = record;
    this.#ends = ends;
    this.stdout = ends.stdout;
    this.stderr = ends.stderr;
  }

  /** Starts it; resolves with its pid. @throws ERR_TTRPC_FAILED_PRECONDITION when the container has stopped. */
  async start(options: ShimOpOptions = {}): Promise<number> {
    const pid = await this.#task.start(this.containerId, { ...call(options), execId: this.execId });
    this.stdin = await openStdin(this.#record, 5000, options.signal);
    attachCloseIO(this.stdin, () => this.closeIO());
    return pid;
  }

  /** Resolves when it exits, with its status. One Wait call is shared by every caller; `signal` only stops this wait. */
  wait(options: ShimOpOptions = {}): Promise<ExitInfo> {
    this.#exit ??= this.#task.wait(this.containerId, { execId: this.execId }).catch((err: unknown) => {
      this.#exit = undefined;
      throw err;
    });
    return raceSignal(this.#exit, options.signal);
  }

  /** Sends a signal (default SIGTERM). */
  async kill(signal: number | NodeJS.Signals = 'SIGTERM', options: ShimOpOptions = {}): Promise<void> {
    await this.#task.kill(this.containerId, signal, { ...call(options), execId: this.execId });
  }

  /** Sets its terminal size. */
  async resizePty(width: number, height: number, options: ShimOpOptions = {}): Promise<void> {
    await this.#task.resizePty(this.containerId, { width, height }, { ...call(options), execId: this.execId });
  }

  /** Closes its stdin (EOF). */
  async closeIO(options: ShimOpOptions = {}): Promise<void> {
    await this.#task.closeIO(this.containerId, { ...call(options), execId: this.execId });
  }

  /** Its state. */
  async state(options: ShimOpOptions = {}): Promise<TaskState> {
    return this.#task.state(this.containerId, { ...call(options), execId: this.execId });
  }

  /** Forgets it in the shim (after it exited) and removes its FIFOs. */
  async delete(options: ShimOpOptions = {}): Promise<DeletedProcess> {
    const deleted = await this.#task.delete(this.containerId, { ...call(options), execId: this.execId });
    closeStdio({ ...this.#ends, stdin: this.stdin });
    await removeStdio(this.#record);
    return deleted;
  }
}

/**
 * A container run by its own shim, created (not yet started) or reattached. Output comes on `stdout`/`stderr`
 * (`'pipe'` mode; each a FIFO read through a non-blocking fd) or in `logPath` (`'file'`/`'log'`). Closing the
 * manager leaves it running; `remove()` tears it down completely.
 */
export class ShimContainer {
  readonly id: string;
  readonly bundle: string;
  readonly namespace: string;
  /** `<stateDir>/containers/<id>`: record, FIFOs, `shim.log`, output logs. */
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
  #exit: Promise<ExitInfo> | undefined;
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
    attachCloseIO(this.stdin, () => this.closeIO());
  }

  /** Where `'file'` or `'log'` output is written, if that is the mode. */
  get logPath(): string | undefined {
    return this.#ctx.record.stdio.logPath;
  }

  /** The record this container was reattached from (a copy). */
  get record(): ShimRecord {
    return structuredClone(this.#ctx.record);
  }

  /** Starts the init process; resolves with its pid. */
  async start(options: ShimOpOptions = {}): Promise<number> {
    const pid = await this.task.start(this.id, call(options));
    if (this.stdin === undefined && this.stdio.stdin !== undefined) {
      this.stdin = await openStdin(this.#ctx.record.stdio, 5000, options.signal);
      attachCloseIO(this.stdin, () => this.closeIO());
    }
    return pid;
  }

  /**
   * Resolves when the init process exits (at once when it exited already, even while no manager ran), with its
   * status and the shim's exit time. One Wait call is shared by every caller; `signal` only stops this wait.
   */
  wait(options: ShimOpOptions = {}): Promise<ExitInfo> {
    this.#exit ??= this.task.wait(this.id).catch((err: unknown) => {
      this.#exit = undefined;
      throw err;
    });
    return raceSignal(this.#exit, options.signal);
  }

  /** Sends a signal (default SIGTERM) to init, or with `all` to every process. @throws ERR_TTRPC_NOT_FOUND once it exited. */
  async kill(signal: number | NodeJS.Signals = 'SIGTERM', options: ShimOpOptions & { all?: boolean } = {}): Promise<void> {
    await this.task.kill(this.id, signal, { ...call(options), all: options.all ?? false });
  }

  /** `runc delete` of the stopped (or created) container in the shim; resolves with how it ended. The shim stays up. */
  async delete(options: ShimOpOptions = {}): Promise<DeletedProcess> {
    return this.task.delete(this.id, call(options));
  }

  /** Its state as the shim knows it (status, pid, exit status and time). */
  async state(options: ShimOpOptions = {}): Promise<TaskState> {
    return this.task.state(this.id, call(options));
  }

  /** Registers `process` as exec `execId` with its own stdio; call `start()` on the result. */
  async exec(execId: string, process: SpecProcess, options: ShimExecOptions = {}): Promise<ShimExec> {
    if (typeof execId !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(execId)) throw newError('ERR_INVALID_ARGUMENT', 'execId must be 1–64 letters, digits, _ . -');
    const plan = planStdio(this.dir, `exec-${execId}-`, options.stdio ?? {});
    if (plan.stdoutMode === 'file' || plan.stdoutMode === 'log') throw newError('ERR_INVALID_ARGUMENT', `options.stdio.stdout '${plan.stdoutMode}' is for containers, not execs`);
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
  async resizePty(width: number, height: number, options: ShimOpOptions = {}): Promise<void> {
    await this.task.resizePty(this.id, { width, height }, call(options));
  }

  /** Closes init's stdin (EOF inside the container). */
  async closeIO(options: ShimOpOptions = {}): Promise<void> {
    await this.task.closeIO(this.id, call(options));
  }

  /** Every process of the container. */
  async pids(options: ShimOpOptions = {}): Promise<TaskProcess[]> {
    return this.task.pids(this.id, call(options));
  }

  /** Cgroup metrics as the shim sends them (type URL and protobuf bytes). */
  async stats(options: ShimOpOptions = {}): Promise<{ typeUrl: string; value: Uint8Array } | undefined> {
    return this.task.stats(this.id, call(options));
  }

  /** Freezes it. */
  async pause(options: ShimOpOptions = {}): Promise<void> {
    await this.task.pause(this.id, call(options));
  }

  /** Thaws it. */
  async resume(options: ShimOpOptions = {}): Promise<void> {
    await this.task.resume(this.id, call(options));
  }

  /** Changes its resources (runc update). */
  async update(resources: LinuxResources, options: ShimOpOptions = {}): Promise<void> {
    await this.task.update(this.id, resources, call(options));
  }

  /**
   * Tears it down completely: `Delete` in the shim (with `force`, a running container is SIGKILLed first),
   * `Shutdown`, waits for the shim to exit, then removes its socket, FIFOs (stdio and the bundle's `log`), the
   * container dir (record, `shim.log`, output logs) and runc's namespace dir when empty. The bundle is the
   * caller's to remove. Resolves with how init ended (undefined when the shim had deleted it already).
   *
   * @throws ERR_FAILED_PRECONDITION when it is still running and `force` is not set.
   */
  async remove(options: ShimOpOptions & { force?: boolean } = {}): Promise<DeletedProcess | undefined> {
    const { signal, force = false } = options;
    signal?.throwIfAborted();
    if (this.#removed) return undefined;
    let deleted: DeletedProcess | undefined;
    // NOT_FOUND: deleted in the shim already (the shim still runs); a closed connection: the shim is gone.
    let reachable = true;
    const state = await this.state({ signal }).catch((err: unknown) => {
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
    await removeContainerFiles(record, dir);
    this.#ctx.forget(this.id);
  }
}

/**
 * Removes what a manager and a shim leave for a container outside its bundle's own files: the shim socket, the
 * bundle's `log` FIFO, stdio FIFOs and output logs, the container dir and runc's namespace dir when empty.
 */
export async function removeContainerFiles(record: ShimRecord, dir: string): Promise<void> {
  const quiet = (err: Error): void => log('cleanup of %s: %s', record.id, err.message);
  if (record.address !== '') await rm(socketPathOf(record.address), { force: true }).catch(quiet);
  await removeFifo(join(record.bundle, 'log')).catch(quiet);
  await removeStdio(record.stdio).catch(quiet);
  await rm(dir, { recursive: true, force: true }).catch(quiet);
  await rmdir(join(record.runcRoot, record.namespace)).catch(() => undefined);
}
