import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { newError } from '../errors/index.js';
import type { TaskEvent } from '../oci/index.js';
import { acquireLock, eventIterator, type Lock, type LockOptions, logger, raceSignal } from '../util/index.js';
import { isRecordCurrent, RECORD_FILE, readRecord } from './container-files.js';
import { createEventsService } from './events.js';
import { closeEventsServer, removeStaleKeepFiles, serveEventsSocket } from './events-socket.js';
import { exitThroughWait } from './exit-through-wait.js';
import { lazyShimLogger } from './logger-build.js';
import { checkManagerOptions, checkStartArgs, ID_PATTERN } from './manager-options.js';
import type { ReattachReport, ShimManagerEvents, ShimManagerOptions, ShimStartOptions } from './manager-types.js';
import type { RuncShimOptions } from './runc-options.js';
import { type AttachSettings, attachRecorded } from './shim-attach.js';
import { ShimContainer, type ShimContainerContext } from './shim-container.js';
import { type LaunchSettings, launchShim } from './shim-launch.js';
import { type LoggerConfig, planStdio } from './shim-stdio.js';
import { TtrpcServer } from './ttrpc/server.js';

const log = logger('shim:manager');

// close() waits on detaching and on the events server's connections at most this long, in all.
const CLOSE_BOUND_MS = 5000;

/**
 * Runs containers through containerd shim v2 (`containerd-shim-runc-v2`) with no containerd: containers outlive
 * this process, and a new manager on the same `stateDir` reattaches to them.
 *
 * Identity per root: namespace (default `containerkit`), runc root `<stateDir>/runc`, and the events socket
 * `<stateDir>/events.sock` as the shims' `-address` and `TTRPC_ADDRESS` (so two roots never share a shim socket).
 *
 * Any number of managers, in any number of processes, may open one root at once (a daemonless CLI opens one per
 * call). Changes to a container (start, remove, cleaning up a dead shim, rewriting its record) run under its lock
 * `<stateDir>/locks/shim-<id>.lock` (stale when its holder died; see `acquireLock`); reading takes no lock. At
 * most one manager serves the events socket (`ShimManagerOptions.events`). A container started by another manager
 * is found by {@link ShimManager.load} / {@link ShimManager.loadAll}; one removed by another manager makes this
 * manager's handle fail with ERR_NOT_FOUND.
 *
 * The shim's `<bundle>/log` FIFO (drained into `shim.log`) is read by the manager that started it (the shim opens
 * it blocking) and by the events-socket owner that reattaches it at `open`; managers that merely `load` a container
 * never read it, so no two split its lines. While nobody reads it, the shim's log writes fail with EPIPE and go.
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
  readonly #loading = new Map<string, Promise<ShimContainer | undefined>>();
  readonly #iterators = new Set<() => void>();
  readonly #watched = new WeakSet<ShimContainer>();
  readonly #loggerConfig: LoggerConfig;
  readonly #buildLogger: () => Promise<string>;
  #server: TtrpcServer | undefined;
  #opened = false;
  #closed = false;
  #watchExits = false;
  #reattachReport: ReattachReport = { reattached: [], dead: [] };

  /** Checks the options; {@link ShimManager.open} then opens the root. */
  private constructor(options: ShimManagerOptions) {
    super();
    checkManagerOptions(options);
    const { stateDir, namespace = 'containerkit', shimBinary = 'containerd-shim-runc-v2', runcRoot } = options;
    this.#options = { ...options };
    this.stateDir = stateDir;
    this.namespace = namespace;
    this.shimBinary = shimBinary;
    this.runcRoot = runcRoot ?? join(stateDir, 'runc');
    this.eventsSocket = join(stateDir, 'events.sock');
    if (Buffer.byteLength(this.eventsSocket) > 107)
      throw newError('ERR_INVALID_ARGUMENT', `options.stateDir is too long: ${this.eventsSocket} exceeds a unix socket path's 107 bytes`);
    // An empty binary means "build ours on first use" (see #ensureLogger).
    this.#loggerConfig = { binary: options.loggerBinary ?? '', maxBytes: options.logMaxBytes ?? 10 * 1024 * 1024 };
    this.#buildLogger = lazyShimLogger(join(stateDir, 'bin'));
  }

  /** What opening the root found: the containers reattached and the dead ones cleaned up. */
  get reattachReport(): ReattachReport {
    return this.#reattachReport;
  }

  /** Whether this manager serves the events socket (see `ShimManagerOptions.events`). */
  get servesEvents(): boolean {
    return this.#server !== undefined;
  }

  /**
   * Opens the root: creates it, serves `events.sock` as `options.events` says (replacing a dead socket file), and
   * reattaches to every recorded container: live shims are connected (short timeouts: a dead socket fails at once),
   * dead ones are cleaned up with the shim's `delete` subcommand (which kills a container left behind) and
   * reported. A shim that runs but does not answer is SIGKILLed only while its pid still names the recorded process
   * (start time and boot id, see `ShimRecord.shimIdentity`); a pid that is someone else's now, or cannot be
   * verified, is never signalled. Of managers that find one dead shim at once, exactly one cleans it up and
   * reports it (see `ReattachReport`).
   *
   * What it found is {@link ShimManager.reattachReport}. A failed open stops serving the socket again (containers
   * keep running).
   *
   * @throws ERR_INVALID_ARGUMENT naming a bad option; ERR_ALREADY_EXISTS when `events` is `'listen'` and another
   *   live process serves the socket; ERR_IO for filesystem failures. Rejects with `signal.reason` on abort.
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
    this.#opened = true;
    await mkdir(join(this.stateDir, 'containers'), { recursive: true, mode: 0o711 });
    await mkdir(join(this.stateDir, 'locks'), { recursive: true, mode: 0o700 });
    const server = new TtrpcServer(this.#options.eventsServer);
    server.register(createEventsService((event) => this.#onEvent(event)));
    // `shim.events.lock` never names a container's lock: an id cannot make `shim-<id>` read `shim.events`.
    if (await serveEventsSocket(server, this.eventsSocket, this.#options.events ?? 'if-free', join(this.stateDir, 'locks', 'shim.events.lock'), signal)) {
      this.#server = server;
      await removeStaleKeepFiles(this.eventsSocket);
    }
    const report = await this.#scan(true, signal);
    log(
      'root %s (events %s): reattached %o, cleaned up %o',
      this.stateDir,
      this.servesEvents ? 'served' : 'not served',
      report.reattached,
      report.dead.map((d) => d.id),
    );
    return report;
  }

  /**
   * The containers this manager holds (started, reattached or loaded, not yet removed). Containers started by
   * other managers since come with {@link ShimManager.loadAll}.
   */
  list(): ShimContainer[] {
    return [...this.#containers.values()];
  }

  /** The container `id` if this manager holds it, or undefined; {@link ShimManager.load} also finds other managers'. */
  get(id: string): ShimContainer | undefined {
    return this.#containers.get(id);
  }

  /**
   * The container `id` of this root, whoever started it: the one held, or one reattached now from its record (a
   * container another manager started after this one opened). A dead shim found so is cleaned up (as `open` does)
   * and gives undefined, as does an id with no record. A held container that another manager removed (or replaced)
   * meanwhile is let go of first.
   * @throws ERR_INVALID_ARGUMENT for a bad id; ERR_FAILED_PRECONDITION when not open; `signal.reason` on abort.
   */
  async load(id: string, options: { signal?: AbortSignal } = {}): Promise<ShimContainer | undefined> {
    if (typeof id !== 'string' || !ID_PATTERN.test(id))
      throw newError('ERR_INVALID_ARGUMENT', 'id must be 1–76 letters, digits, _ . - (starting with a letter or digit)');
    options.signal?.throwIfAborted();
    if (!this.#opened || this.#closed) throw newError('ERR_FAILED_PRECONDITION', 'ShimManager is closed');
    if (this.#starting.has(id)) return undefined;
    let loading = this.#loading.get(id);
    if (loading === undefined) {
      loading = this.#load(id, undefined, false, options.signal).finally(() => this.#loading.delete(id));
      this.#loading.set(id, loading);
    }
    return raceSignal(loading, options.signal);
  }

  /**
   * Every container of the root: what `list()` holds, brought up to date with the records on disk (containers of
   * other managers are reattached, removed ones let go of, dead shims cleaned up and reported).
   * @throws ERR_FAILED_PRECONDITION when not open; ERR_IO; `signal.reason` on abort.
   */
  async loadAll(options: { signal?: AbortSignal } = {}): Promise<{ containers: ShimContainer[]; report: ReattachReport }> {
    options.signal?.throwIfAborted();
    if (!this.#opened || this.#closed) throw newError('ERR_FAILED_PRECONDITION', 'ShimManager is closed');
    const report = await this.#scan(false, options.signal);
    return { containers: this.list(), report };
  }

  /**
   * Events of this root's shims from now on, as an endless async iterator. It ends quietly on `close()`, `return()`
   * (a `break`) or when `signal` aborts (events queued before the abort are still read).
   *
   * A manager that does not serve the events socket (`servesEvents` false) receives no shim events: it yields only
   * `exit` events of its containers' init processes (those it holds from the first `events()` call on, and those it
   * starts or loads later), learned through each one's Wait, with topic `/tasks/exit` and the exit time as
   * `timestamp` (the same events reach `on('exit')` then). Execs' exits and other event types never come.
   */
  events(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<TaskEvent> {
    if (!this.#watchExits) {
      this.#watchExits = true;
      for (const container of this.#containers.values()) this.#watchExit(container);
    }
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
   * `rootfs/`). Stdio FIFOs and the record go to `<stateDir>/containers/<id>/`, the `log` FIFO into the bundle.
   * Runs under the container's lock: of managers that start one id at once, one wins.
   *
   * @throws ERR_INVALID_ARGUMENT for a bad id, bundle or option; ERR_ALREADY_EXISTS when `id` is in use in this
   *   root (by any manager); ERR_LOCK_TIMEOUT when another manager holds the container's lock for 30 s;
   *   ERR_SHIM_START_FAILED / ERR_TOOL_MISSING when the shim cannot start; ERR_SHIM_TASK_API_UNSUPPORTED for
   *   a v3 (containerd 2.x) shim; the shim's errors of `Create` (ERR_TTRPC_*). On failure nothing is left behind.
   *   Rejects with `signal.reason` on abort.
   */
  async start(id: string, bundle: string, options: ShimStartOptions = {}): Promise<ShimContainer> {
    const { signal } = options;
    checkStartArgs(id, bundle);
    const plan = planStdio(join(this.stateDir, 'containers', id), '', options.stdio ?? {});
    signal?.throwIfAborted();
    if (!this.#opened || this.#closed) throw newError('ERR_FAILED_PRECONDITION', 'ShimManager is closed');
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
    let lock: Lock | undefined;
    try {
      lock = await this.#lock(id, { signal });
      // The dir may exist with a caller's files in it (an engine's record); a shim record in it is a container.
      await mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      if (existsSync(join(dir, RECORD_FILE))) throw newError('ERR_ALREADY_EXISTS', `container ${id} has a record in this root`, { details: { id, dir } });
      const request = { id, bundle, dir, plan, runcOptions: { ...runcOptions, root: runcOptions.root ?? this.runcRoot }, rootfs: options.rootfs ?? [] };
      return this.#hold(this.#container(await launchShim(request, this.#launchSettings(), signal)));
    } finally {
      this.#starting.delete(id);
      await lock?.release();
    }
  }

  /**
   * Closes this side: clients, FIFO ends, the events server if it serves it (its socket file stays, so shims
   * publishing while no manager runs fail at once instead of waiting 5 s per event). Containers and shims keep
   * running. Idempotent. Always finishes: connections of shims (even ones that connect while it closes) are
   * destroyed, and no peer is waited on for more than 5 s in all.
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
    const binary = await this.#buildLogger();
    signal?.throwIfAborted();
    this.#loggerConfig.binary = binary;
  }

  #onEvent(event: TaskEvent): void {
    if (event.namespace !== this.namespace || this.#closed) return;
    this.emit('event', event);
    (this.emit as (type: string, e: TaskEvent) => boolean)(event.type, event);
  }

  // Without the events socket, a container's exit is learned through its Wait (see `events()`).
  #watchExit(container: ShimContainer): void {
    if (!this.#watchExits || this.#server !== undefined || this.#watched.has(container)) return;
    this.#watched.add(container);
    exitThroughWait(container, this.namespace).then(
      (event) => this.#onEvent(event),
      (err: Error) => log('no exit of %s: %s', container.id, err.message),
    );
  }

  #lock(id: string, options: LockOptions): Promise<Lock> {
    return acquireLock(join(this.stateDir, 'locks', `shim-${id}.lock`), options);
  }

  // Reads every record; reattaches what this manager does not hold yet, lets go of what is gone from disk.
  async #scan(atInit: boolean, signal: AbortSignal | undefined): Promise<ReattachReport> {
    const report: ReattachReport = { reattached: [], dead: [] };
    const ids = (await readdir(join(this.stateDir, 'containers'))).sort();
    for (const id of ids) {
      signal?.throwIfAborted();
      if (this.#starting.has(id) || !ID_PATTERN.test(id)) continue;
      await this.#load(id, report, atInit, signal);
    }
    for (const [id, held] of this.#containers) if (!ids.includes(id) && !(await isRecordCurrent(held.record, held.dir))) await this.#letGo(held);
    return report;
  }

  async #load(id: string, report: ReattachReport | undefined, atInit: boolean, signal: AbortSignal | undefined): Promise<ShimContainer | undefined> {
    const dir = join(this.stateDir, 'containers', id);
    const record = await readRecord(id, dir, signal);
    const held = this.#containers.get(id);
    if (held !== undefined) {
      if (record?.createdAt === held.record.createdAt) return held;
      await this.#letGo(held);
    }
    if (record === undefined) return undefined;
    // Only the events-socket owner reads reattached shims' log FIFOs, and only at open (see the class notes).
    const result = await attachRecorded(record, dir, { ...this.#attachSettings(), readLog: atInit && this.servesEvents }, signal);
    if ('dead' in result) report?.dead.push(result.dead);
    if (!('attached' in result)) return undefined;
    if (this.#closed || this.#containers.has(id)) {
      // Closed, or started here meanwhile: this connection is not wanted.
      await this.#container(result.attached).detach();
      return this.#containers.get(id);
    }
    report?.reattached.push(id);
    return this.#hold(this.#container(result.attached));
  }

  #launchSettings(): LaunchSettings {
    const { namespace, shimBinary, eventsSocket } = this;
    const { callTimeoutMs = 30_000, shimLogMaxBytes = 1024 * 1024, keepLogs = false } = this.#options;
    return { namespace, shimBinary, eventsSocket, callTimeoutMs, shimLogMaxBytes, keepLogs, loggerConfig: this.#loggerConfig };
  }

  #attachSettings(): Omit<AttachSettings, 'readLog'> {
    return {
      namespace: this.namespace,
      eventsSocket: this.eventsSocket,
      callTimeoutMs: this.#options.callTimeoutMs ?? 30_000,
      connectTimeoutMs: this.#options.connectTimeoutMs ?? 500,
      shimLogMaxBytes: this.#options.shimLogMaxBytes ?? 1024 * 1024,
      keepLogs: this.#options.keepLogs === true,
      lock: (id, options) => this.#lock(id, options),
    };
  }

  async #letGo(container: ShimContainer): Promise<void> {
    if (this.#containers.get(container.id) === container) this.#containers.delete(container.id);
    await container.detach().catch((err: Error) => log('detach %s: %s', container.id, err.message));
  }

  #hold(container: ShimContainer): ShimContainer {
    this.#containers.set(container.id, container);
    this.#watchExit(container);
    return container;
  }

  // A handle on a connected shim, bound to this manager (started or reattached alike).
  #container(parts: Pick<ShimContainerContext, 'record' | 'task' | 'stdio' | 'logSocket' | 'logSink'>): ShimContainer {
    const { id } = parts.record;
    const container: ShimContainer = new ShimContainer({
      ...parts,
      dir: join(this.stateDir, 'containers', id),
      managerAddress: this.eventsSocket,
      loggerConfig: this.#loggerConfig,
      keepLogs: this.#options.keepLogs === true,
      lock: (signal) => this.#lock(id, { signal }),
      forget: () => {
        if (this.#containers.get(id) === container) this.#containers.delete(id);
      },
    });
    return container;
  }
}
