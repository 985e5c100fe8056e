import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { basename, isAbsolute, join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { newError } from '../errors/index.js';
import { createFifo, eventIterator, logger, openFifo, raceSignal, readJsonFile, writeJsonAtomic } from '../util/index.js';
import type { TaskEvent } from '../oci/index.js';
import { createEventsService } from './events.js';
import { closeEventsServer, removeStaleKeepFiles } from './events-socket.js';
import { buildShimLogger } from './logger-build.js';
import type { ReattachReport, ShimManagerEvents, ShimManagerOptions, ShimRecord, ShimStartOptions } from './manager-types.js';
import { encodeRuncOptions, type RuncShimOptions } from './runc-options.js';
import { runShimStart } from './shim-binary.js';
import { cleanupDeadShim, undoShimStart } from './shim-cleanup.js';
import { RECORD_FILE, ShimContainer, type ShimContainerContext } from './shim-container.js';
import { ShimLogSink } from './shim-log.js';
import { shimIdentityOf } from './shim-process.js';
import { closeStdio, createStdio, planStdio, reopenStdio, stdioUris, type LoggerConfig, type StdioEnds } from './shim-stdio.js';
import { parseShimStartOutput } from './start-output.js';
import { ShimTaskClient } from './task-client.js';
import { TtrpcServer } from './ttrpc/server.js';

const log = logger('shim:manager');

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,75}$/;
const NAMESPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,75}$/;
// close() waits on detaching and on the events server's connections at most this long, in all.
const CLOSE_BOUND_MS = 5000;

function positive(value: unknown, name: string): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)) {
    throw newError('ERR_INVALID_ARGUMENT', `options.${name} must be a finite number > 0`);
  }
}

function nonEmpty(value: unknown, name: string): void {
  if (value !== undefined && (typeof value !== 'string' || value === '')) throw newError('ERR_INVALID_ARGUMENT', `options.${name} must be a non-empty string`);
}

/**
 * Runs containers through containerd shim v2 (`containerd-shim-runc-v2`) with no containerd: containers outlive
 * this process, and a new manager on the same `stateDir` reattaches to them.
 *
 * Identity per root: namespace (default `containerkit`), runc root `<stateDir>/runc`, and the events socket
 * `<stateDir>/events.sock` as the shims' `-address` and `TTRPC_ADDRESS` (so two roots never share a shim socket).
 * One live manager per root at a time: {@link ShimManager.open} fails with ERR_ALREADY_EXISTS while another one
 * listens there.
 *
 * Events the shims forward arrive typed on this emitter (`manager.on('exit', …)`, every one on `'event'`) and
 * through {@link ShimManager.events}. `close()` leaves every container running.
 */
export class ShimManager extends EventEmitter<ShimManagerEvents> {
  readonly stateDir: string;
  readonly namespace: string;
  readonly shimBinary: string;
  readonly runcRoot: string;
  /** `<stateDir>/events.sock`: the events server, and the shims' `-address`. */
  readonly eventsSocket: string;
  readonly #options: ShimManagerOptions;
  readonly #containers = new Map<string, ShimContainer>();
  readonly #starting = new Set<string>();
  readonly #iterators = new Set<() => void>();
  readonly #loggerConfig: LoggerConfig;
  #loggerBuild: Promise<string> | undefined;
  #server: TtrpcServer | undefined;
  #closed = false;
  #reattachReport: ReattachReport = { reattached: [], dead: [] };

  /** Checks the options; {@link ShimManager.open} then opens the root. */
  private constructor(options: ShimManagerOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw newError('ERR_INVALID_ARGUMENT', 'options must be an object');
    const { stateDir, namespace = 'containerkit', shimBinary = 'containerd-shim-runc-v2', runcRoot, runcBinary } = options;
    if (typeof stateDir !== 'string' || !isAbsolute(stateDir)) throw newError('ERR_INVALID_ARGUMENT', 'options.stateDir must be an absolute path');
    if (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace)) throw newError('ERR_INVALID_ARGUMENT', 'options.namespace must be 1–76 letters, digits, _ . -');
    nonEmpty(shimBinary, 'shimBinary');
    nonEmpty(runcBinary, 'runcBinary');
    if (runcRoot !== undefined && (typeof runcRoot !== 'string' || !isAbsolute(runcRoot))) throw newError('ERR_INVALID_ARGUMENT', 'options.runcRoot must be an absolute path');
    if (options.loggerBinary !== undefined && (typeof options.loggerBinary !== 'string' || !isAbsolute(options.loggerBinary))) {
      throw newError('ERR_INVALID_ARGUMENT', 'options.loggerBinary must be an absolute path');
    }
    for (const key of ['connectTimeoutMs', 'callTimeoutMs', 'shimLogMaxBytes', 'logMaxBytes'] as const) positive(options[key], key);
    this.#options = { ...options };
    this.stateDir = stateDir;
    this.namespace = namespace;
    this.shimBinary = shimBinary;
    this.runcRoot = runcRoot ?? join(stateDir, 'runc');
    this.eventsSocket = join(stateDir, 'events.sock');
    if (Buffer.byteLength(this.eventsSocket) > 107) throw newError('ERR_INVALID_ARGUMENT', `options.stateDir is too long: ${this.eventsSocket} exceeds a unix socket path's 107 bytes`);
    // An empty binary means "build ours on first use" (see #ensureLogger).
    this.#loggerConfig = { binary: options.loggerBinary ?? '', maxBytes: options.logMaxBytes ?? 10 * 1024 * 1024 };
  }

  /** What opening the root found: the containers reattached and the dead ones cleaned up. */
  get reattachReport(): ReattachReport {
    return this.#reattachReport;
  }

  /**
   * Opens the root: creates it, listens on `events.sock` again (replacing a dead socket file), and reattaches to
   * every recorded container: live shims are connected (short timeouts: a dead socket fails at once), dead ones
   * are cleaned up with the shim's `delete` subcommand (which kills a container left behind) and reported. A shim
   * that runs but does not answer is SIGKILLed only while its pid still names the recorded process (start time and
   * boot id, see `ShimRecord.shimIdentity`); a pid that is someone else's now, or cannot be verified, is never
   * signalled.
   *
   * What it found is {@link ShimManager.reattachReport}. A failed open stops listening again (containers keep running).
   *
   * @throws ERR_INVALID_ARGUMENT naming a bad option; ERR_ALREADY_EXISTS when another manager listens on this root;
   *   ERR_IO for filesystem failures. Rejects with `signal.reason` on abort.
   */
  static async open(options: ShimManagerOptions, { signal }: { signal?: AbortSignal } = {}): Promise<ShimManager> {
    signal?.throwIfAborted();
    const manager = new ShimManager(options);
    try {
      manager.#reattachReport = await manager.#open(signal);
    } catch (err) {
      await manager.close().catch((closeErr: unknown) => log('closing after a failed open: %O', closeErr));
      throw err;
    }
    return manager;
  }

  async #open(signal: AbortSignal | undefined): Promise<ReattachReport> {
    await mkdir(join(this.stateDir, 'containers'), { recursive: true, mode: 0o711 });
    const server = new TtrpcServer(this.#options.eventsServer);
    server.register(createEventsService((event) => this.#onEvent(event)));
    await server.listen(this.eventsSocket, { signal });
    this.#server = server;
    await removeStaleKeepFiles(this.eventsSocket);
    const report: ReattachReport = { reattached: [], dead: [] };
    for (const id of (await readdir(join(this.stateDir, 'containers'))).sort()) {
      signal?.throwIfAborted();
      const dir = join(this.stateDir, 'containers', id);
      // A dir without a record holds only a caller's files (an engine's container that has no task).
      if (!existsSync(join(dir, RECORD_FILE))) continue;
      const record = await readJsonFile<ShimRecord>(join(dir, RECORD_FILE), { signal }).catch((err: Error) => {
        log('unreadable record in %s: %s', dir, err.message);
        return undefined;
      });
      if (record === undefined || record.id !== id) {
        log('no usable record in %s; removing it', dir);
        await rm(join(dir, RECORD_FILE), { force: true });
        await rmdir(dir).catch(() => undefined);
        continue;
      }
      const container = await this.#reattach(record, dir, signal);
      if (container !== undefined) {
        this.#containers.set(id, container);
        report.reattached.push(id);
      } else {
        report.dead.push(await cleanupDeadShim(record, dir, this.eventsSocket, signal, this.#options.keepLogs === true));
      }
    }
    log('root %s: reattached %o, cleaned up %o', this.stateDir, report.reattached, report.dead.map((d) => d.id));
    return report;
  }

  /** The containers this manager holds (started or reattached, not yet removed). */
  list(): ShimContainer[] {
    return [...this.#containers.values()];
  }

  /** The container `id`, or undefined. */
  get(id: string): ShimContainer | undefined {
    return this.#containers.get(id);
  }

  /**
   * Events forwarded by this root's shims from now on, as an endless async iterator. It ends quietly on `close()`,
   * `return()` (a `break`) or when `signal` aborts (events queued before the abort are still read).
   */
  events(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<TaskEvent> {
    return eventIterator<TaskEvent>(
      (push, end) => {
        this.on('event', push);
        this.#iterators.add(end);
        return () => {
          this.off('event', push);
          this.#iterators.delete(end);
        };
      },
      { signal: options.signal, onAbort: 'end' },
    );
  }

  /**
   * Starts a shim for the bundle and creates the container in it (not yet started: call `start()` on the
   * result). `bundle` is an absolute directory named `id` holding `config.json` (with `root.path` set, or a ready
   * `rootfs/`). Stdio FIFOs and the record go to `<stateDir>/containers/<id>/`; the `log` FIFO goes into the
   * bundle (the shim's fixed place), drained into `<stateDir>/containers/<id>/shim.log`.
   *
   * @throws ERR_INVALID_ARGUMENT for a bad id, bundle or option; ERR_ALREADY_EXISTS when `id` is in use in this
   *   root; ERR_SHIM_START_FAILED / ERR_TOOL_MISSING when the shim cannot start; ERR_SHIM_TASK_API_UNSUPPORTED for
   *   a v3 (containerd 2.x) shim; the shim's errors of `Create` (ERR_TTRPC_*). On failure nothing is left behind.
   *   Rejects with `signal.reason` on abort.
   */
  async start(id: string, bundle: string, options: ShimStartOptions = {}): Promise<ShimContainer> {
    const { signal } = options;
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) throw newError('ERR_INVALID_ARGUMENT', 'id must be 1–76 letters, digits, _ . - (starting with a letter or digit)');
    if (typeof bundle !== 'string' || !isAbsolute(bundle)) throw newError('ERR_INVALID_ARGUMENT', 'bundle must be an absolute path');
    if (basename(bundle) !== id) throw newError('ERR_INVALID_ARGUMENT', `the bundle directory must be named after the id (${id}): the shim's delete finds it that way`);
    const plan = planStdio(join(this.stateDir, 'containers', id), '', options.stdio ?? {});
    signal?.throwIfAborted();
    if (this.#server === undefined || this.#closed) throw newError('ERR_FAILED_PRECONDITION', 'ShimManager is closed');
    if (this.#containers.has(id) || this.#starting.has(id)) throw newError('ERR_ALREADY_EXISTS', `container ${id} exists in this root`, { details: { id } });
    if (!existsSync(join(bundle, 'config.json'))) throw newError('ERR_INVALID_ARGUMENT', `bundle ${bundle} has no config.json`);
    const dir = join(this.stateDir, 'containers', id);
    if (plan.stdoutMode === 'log') await this.#ensureLogger(signal);
    if (this.#containers.has(id) || this.#starting.has(id)) throw newError('ERR_ALREADY_EXISTS', `container ${id} exists in this root`, { details: { id } });
    this.#starting.add(id);
    const runcOptions: RuncShimOptions = {
      root: this.runcRoot,
      ...(this.#options.runcBinary === undefined ? {} : { binaryName: this.#options.runcBinary }),
      ...options.runcOptions,
    };
    const record: ShimRecord = {
      version: 1,
      id,
      namespace: this.namespace,
      bundle,
      address: '',
      shimPid: 0,
      shimBinary: this.shimBinary,
      runcRoot: runcOptions.root ?? this.runcRoot,
      stdio: plan,
      createdAt: new Date().toISOString(),
    };
    let ends: StdioEnds = {};
    let logSocket: Socket | undefined;
    let task: ShimTaskClient | undefined;
    try {
      // The dir may exist with a caller's files in it (an engine's record); a shim record in it is a container.
      await mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      if (existsSync(join(dir, RECORD_FILE))) throw newError('ERR_ALREADY_EXISTS', `container ${id} has a record in this root`, { details: { id, dir } });
    } catch (err) {
      this.#starting.delete(id);
      throw err;
    }
    try {
      // The shim daemon opens <bundle>/log write-only and blocking: a reader must exist before `start`.
      const logPath = join(bundle, 'log');
      await createFifo(logPath, { mode: 0o700, signal });
      logSocket = await openFifo(logPath, 'rw', { signal });
      const logSink = new ShimLogSink(join(dir, 'shim.log'), id, this.#options.shimLogMaxBytes ?? 1024 * 1024);
      logSink.attach(logSocket);
      ends = await createStdio(plan, signal);
      const binaryCall = { shimBinary: this.shimBinary, namespace: this.namespace, address: this.eventsSocket, id, bundle, signal };
      const output = await runShimStart(binaryCall, encodeRuncOptions(runcOptions));
      // From here a shim runs: record where, so that a crash before the end still lets the next manager clean up.
      record.address = parseShimStartOutput(output).address;
      await writeJsonAtomic(join(dir, RECORD_FILE), record, { signal });
      task = await ShimTaskClient.open(record.address, { namespace: this.namespace, callTimeoutMs: this.#options.callTimeoutMs ?? 30_000, connectTimeoutMs: 5000, signal });
      record.shimPid = (await task.connect(id, { signal })).shimPid;
      record.shimIdentity = await shimIdentityOf(record.shimPid, signal);
      const uris = stdioUris(plan, this.#loggerConfig);
      // The record gains the shim pid while runc creates the container; both must be done before going on (or
      // before undoing, which removes the record's dir).
      const [written, created] = await Promise.allSettled([
        writeJsonAtomic(join(dir, RECORD_FILE), record, { signal }),
        task.create({ id, bundle, ...uris, runcOptions, rootfs: options.rootfs ?? [] }, { signal }),
      ]);
      if (created.status === 'rejected') throw created.reason;
      if (written.status === 'rejected') throw written.reason;
      const container = this.#container({ record, task, dir, stdio: ends, logSocket, logSink });
      this.#containers.set(id, container);
      log('created %s (shim pid %d, %s)', id, record.shimPid, record.address);
      return container;
    } catch (err) {
      log('start of %s failed: %s', id, (err as Error).message);
      // The log FIFO keeps its reader until the shim is gone: a shim daemon opens it blocking, and would hang
      // in that open, unkillable by Shutdown, if the reader went first.
      await undoShimStart(record, dir, task, this.eventsSocket, this.#options.keepLogs === true);
      closeStdio(ends);
      logSocket?.destroy();
      throw err;
    } finally {
      this.#starting.delete(id);
    }
  }

  /**
   * Closes this side: clients, FIFO ends, the events server (its socket file stays, so shims publishing while no
   * manager runs fail at once instead of waiting 5 s per event). Containers and shims keep running. Idempotent.
   * Always finishes: connections of shims (even ones that connect while it closes) are destroyed, and no peer is
   * waited on for more than 5 s in all.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const bound = AbortSignal.timeout(CLOSE_BOUND_MS);
    for (const finish of [...this.#iterators]) finish();
    for (const container of this.#containers.values()) {
      await raceSignal(container.detach(), bound).catch((err: Error) => log('detach %s: %s', container.id, err.message));
    }
    this.#containers.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await closeEventsServer(server, this.eventsSocket, bound);
  }

  /** Same as `close()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // The logger binary for 'log' output: the caller's, or ours built once into <stateDir>/bin.
  async #ensureLogger(signal: AbortSignal | undefined): Promise<void> {
    if (this.#loggerConfig.binary !== '') return;
    this.#loggerBuild ??= buildShimLogger(join(this.stateDir, 'bin')).catch((err: unknown) => {
      this.#loggerBuild = undefined;
      throw err;
    });
    const binary = await this.#loggerBuild;
    signal?.throwIfAborted();
    this.#loggerConfig.binary = binary;
  }

  #onEvent(event: TaskEvent): void {
    if (event.namespace !== this.namespace) return;
    this.emit('event', event);
    (this.emit as (type: string, e: TaskEvent) => boolean)(event.type, event);
  }

  async #reattach(record: ShimRecord, dir: string, signal: AbortSignal | undefined): Promise<ShimContainer | undefined> {
    if (record.address === '') return undefined;
    let task: ShimTaskClient | undefined;
    try {
      task = await ShimTaskClient.open(record.address, {
        namespace: this.namespace,
        callTimeoutMs: this.#options.callTimeoutMs ?? 30_000,
        connectTimeoutMs: this.#options.connectTimeoutMs ?? 500,
        signal,
      });
      const info = await task.connect(record.id, { signal, timeoutMs: 2000 });
      if (record.shimPid !== 0 && info.shimPid !== record.shimPid) log('shim of %s is pid %d, recorded %d', record.id, info.shimPid, record.shimPid);
      await this.#restamp(record, info.shimPid, dir, signal);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      log('shim of %s does not answer: %s', record.id, (err as Error).message);
      await task?.close();
      return undefined;
    }
    const logPath = join(record.bundle, 'log');
    let logSocket: Socket;
    try {
      logSocket = await openFifo(logPath, 'rw', { signal });
    } catch (err) {
      // Without the FIFO the shim's log lines go nowhere; the container is still usable.
      log('cannot reopen %s: %s', logPath, (err as Error).message);
      await createFifo(logPath, { mode: 0o700 }).catch(() => undefined);
      logSocket = await openFifo(logPath, 'rw', { signal });
    }
    const logSink = new ShimLogSink(join(dir, 'shim.log'), record.id, this.#options.shimLogMaxBytes ?? 1024 * 1024);
    logSink.attach(logSocket);
    const ends = await reopenStdio(record.stdio, signal).catch((err: Error) => {
      log('cannot reopen stdio of %s: %s', record.id, err.message);
      return {};
    });
    return this.#container({ record, task, dir, stdio: ends, logSocket, logSink });
  }

  // The shim answered as `pid`: record who that process is (a record of an older version has no identity yet).
  async #restamp(record: ShimRecord, pid: number, dir: string, signal: AbortSignal | undefined): Promise<void> {
    const identity = await shimIdentityOf(pid, signal);
    if (pid === record.shimPid && identity?.start === record.shimIdentity?.start && identity?.boot === record.shimIdentity?.boot) return;
    record.shimPid = pid;
    record.shimIdentity = identity;
    await writeJsonAtomic(join(dir, RECORD_FILE), record, { signal }).catch((err: Error) => {
      if (signal?.aborted) throw signal.reason;
      log('cannot update the record of %s: %s', record.id, err.message);
    });
  }

  // A handle on a connected shim, bound to this manager (started or reattached alike).
  #container(parts: Pick<ShimContainerContext, 'record' | 'task' | 'dir' | 'stdio' | 'logSocket' | 'logSink'>): ShimContainer {
    return new ShimContainer({
      ...parts,
      managerAddress: this.eventsSocket,
      loggerConfig: this.#loggerConfig,
      keepLogs: this.#options.keepLogs === true,
      forget: (gone) => this.#containers.delete(gone),
    });
  }
}
