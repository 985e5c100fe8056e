import { existsSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { newError } from '../errors/index.js';
import type { ExitStatus, TaskCallOptions, TaskEvent } from '../oci/index.js';
import { type ShimContainer, ShimManager, type ShimManagerOptions } from '../shim/index.js';
import { logger, mountsUnder, unmount } from '../util/index.js';
import type { BackendRecovery, CreateTaskRequest, EngineBackend, RemoveTaskOptions } from './backend.js';
import { removeBundle, writeBundle } from './bundle.js';
import { CONTAINER_LOG_NAME } from './container-logs.js';

const log = logger('engine:shim');

// The shim's own rule for ids (ShimManager checks it too); checked here first because the id becomes a path.
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,75}$/;

/** Options of {@link ShimBackend.open}: ShimManager's, but for the root, which is the engine root. */
export interface ShimBackendOptions extends Omit<ShimManagerOptions, 'stateDir' | 'keepLogs'> {
  signal?: AbortSignal;
}

/**
 * The daemonless backend: each container's task runs under its own `containerd-shim-runc-v2` (through
 * {@link ShimManager}), outlives this process, and is found again by a new backend on the same root.
 *
 * On disk, under the engine root: `events.sock`, `runc/`, `bin/` (the C logger), and per container
 * `containers/<id>/` with the shim's `shim.json` and `shim.log`, the task's `container.log` (`stdout: 'log'`, kept
 * after the task is removed, for `logs` of a stopped container and for the next run, which appends), beside the
 * Engine's own record; and the bundle `containers/<id>/bundle/<id>/` (`config.json`, `rootfs/`, the shim's files).
 * The bundle dir is named after the id because the runc shim's `delete` finds the bundle as `../<id>` from its cwd.
 */
export class ShimBackend implements EngineBackend {
  readonly name = 'shim';
  readonly root: string;
  readonly manager: ShimManager;
  readonly recovery: BackendRecovery;

  private constructor(root: string, manager: ShimManager, recovery: BackendRecovery) {
    this.root = root;
    this.manager = manager;
    this.recovery = recovery;
  }

  /**
   * Opens the backend on the engine root `root` (absolute): starts the events server, reattaches to every
   * recorded shim and reads each task's state. Tasks whose shim was gone are cleaned up (runc state, rootfs mount,
   * FIFOs, bundle) and reported as `lost`; a task that exited while no engine ran is `exited` with its real code.
   * Other backends (in this or other processes) may have the root open too (see `ShimManagerOptions.events` for
   * which of them serves the events socket; default `'if-free'`).
   * @throws ERR_INVALID_ARGUMENT; ERR_ALREADY_EXISTS with `events: 'listen'` when another process serves the
   *   root's events socket;
   *   ERR_IO; `signal.reason` on abort.
   */
  static async open(root: string, options: ShimBackendOptions = {}): Promise<ShimBackend> {
    const { signal, ...rest } = options;
    if (typeof root !== 'string' || !isAbsolute(root)) throw newError('ERR_INVALID_ARGUMENT', 'root must be an absolute path');
    const manager = await ShimManager.open({ ...rest, stateDir: root, keepLogs: true }, { signal });
    const recovery: BackendRecovery = { running: [], exited: [], lost: [] };
    try {
      const report = manager.reattachReport;
      for (const id of report.reattached) {
        // A shim that answered Connect but not State is still there: its task counts as running (loadTask has it).
        const state = await manager
          .get(id)
          ?.status({ signal })
          .catch((err: Error) => {
            if (signal?.aborted) throw signal.reason;
            log('state of %s: %s', id, err.message);
            return undefined;
          });
        if (state?.status === 'stopped') recovery.exited.push({ id, code: state.exit?.code ?? 255, exitedAt: state.exit?.exitedAt });
        else recovery.running.push(id);
      }
      const backend = new ShimBackend(root, manager, recovery);
      for (const dead of report.dead) {
        recovery.lost.push({ id: dead.id, code: dead.code, exitedAt: dead.exitedAt });
        await backend.#removeBundle(dead.id, signal).catch((err: Error) => log('bundle of lost task %s stays: %s', dead.id, err.message));
      }
      log(
        'opened %s: running %o, exited %o, lost %o',
        root,
        recovery.running,
        recovery.exited.map((e) => e.id),
        recovery.lost.map((e) => e.id),
      );
      return backend;
    } catch (err) {
      await manager.close();
      throw err;
    }
  }

  /** `<root>/containers/<id>`: the container's dir (shim record, log, the Engine's record). */
  containerDir(id: string): string {
    return join(this.root, 'containers', checkId(id));
  }

  /** `<root>/containers/<id>/bundle/<id>`: the task's bundle. */
  bundlePath(id: string): string {
    return join(this.containerDir(id), 'bundle', id);
  }

  /** `<root>/containers/<id>/container.log`: where `stdout: 'log'` goes (JSON lines, rotated to `.1`). */
  logPath(id: string): string {
    return join(this.containerDir(id), CONTAINER_LOG_NAME);
  }

  /**
   * Writes the bundle from `spec` (rootfs at `<bundle>/rootfs`, where the shim mounts `rootfs`) and creates the
   * task in a new shim. On failure the shim, its files and the bundle are gone again.
   * @throws ERR_INVALID_ARGUMENT; ERR_ALREADY_EXISTS for a task that exists; ERR_FAILED_PRECONDITION when the
   *   bundle of an earlier task is still mounted; ShimManager.start's errors; `signal.reason` on abort.
   */
  async createTask(request: CreateTaskRequest): Promise<ShimContainer> {
    const { id, spec, rootfs, stdio, signal } = request;
    const bundle = this.bundlePath(id);
    if ((await this.manager.load(id, { signal })) !== undefined) throw newError('ERR_ALREADY_EXISTS', `container ${id} has a task`, { details: { id } });
    signal?.throwIfAborted();
    // What an earlier task of this container left (a crash between its steps) goes first; a mount refuses.
    await removeBundle(bundle, { signal });
    try {
      await writeBundle(bundle, spec, { signal });
      return await this.manager.start(id, bundle, { stdio, rootfs, signal });
    } catch (err) {
      await this.#removeBundle(id, undefined).catch((e: Error) => log('bundle of failed task %s: %s', id, e.message));
      throw err;
    }
  }

  /** The task `id` (started here, reattached, or started by another backend on the root since), or undefined. */
  async loadTask(id: string, options: TaskCallOptions = {}): Promise<ShimContainer | undefined> {
    return this.manager.load(checkId(id), options);
  }

  /** Every task of this root, whichever backend started it. */
  async tasks(options: TaskCallOptions = {}): Promise<ShimContainer[]> {
    return (await this.manager.loadAll(options)).containers;
  }

  /** The shims' events from now on; ends quietly on abort or `close()`. */
  events(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<TaskEvent> {
    return this.manager.events(options);
  }

  /**
   * Removes the task (ShimContainer.remove: delete in the shim, which unmounts the rootfs, shutdown, the shim's
   * files), then the bundle. With no task held (a lost one), only the bundle is left to remove.
   * @throws ERR_FAILED_PRECONDITION when it runs and `force` is not set.
   */
  async removeTask(id: string, options: RemoveTaskOptions = {}): Promise<ExitStatus | undefined> {
    const { signal, force = false } = options;
    const task = await this.manager.load(checkId(id), { signal });
    const ended = task === undefined ? undefined : await task.remove({ force, ...(signal === undefined ? {} : { signal }) });
    await this.#removeBundle(id, signal);
    return ended === undefined ? undefined : { code: ended.code, exitedAt: ended.exitedAt };
  }

  /** Closes the manager; every task keeps running. */
  async close(): Promise<void> {
    await this.manager.close();
  }

  /** Same as `close()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // The task is gone: a mount still under its bundle is a leftover (a shim killed before its delete), undone here.
  async #removeBundle(id: string, signal: AbortSignal | undefined): Promise<void> {
    const bundle = this.bundlePath(id);
    if (!existsSync(bundle)) return;
    for (const point of await mountsUnder(bundle, { signal })) {
      log('unmounting leftover %s', point);
      await unmount(point, { signal });
    }
    await removeBundle(bundle, { signal });
    await rmdir(dirname(bundle)).catch(() => undefined);
  }
}

function checkId(id: unknown): string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id))
    throw newError('ERR_INVALID_ARGUMENT', 'id must be 1–76 letters, digits, _ . - (starting with a letter or digit)');
  return id;
}
