import { setMaxListeners } from 'node:events';
import { constants as osConstants } from 'node:os';
import { EventEmitter } from 'eventemitter3';
import { hasCode, newError } from '../errors/index.js';
import type { ExitStatus, Task } from '../oci/index.js';
import { shortId } from '../util/debug.js';
import { logger } from '../util/index.js';
import type { EngineBackend } from './backend.js';
import { readContainerConfig } from './container-config.js';
import type { ContainerStore } from './container-store.js';
import type { ContainerTransaction } from './container-transaction.js';
import type { EngineEvents } from './engine-types.js';
import type { EngineEventAction, EventsLog, NewEngineEvent } from './events-log.js';
import type { ImageService } from './image-service.js';
import type { ContainerRecord } from './record.js';
import { cgroupOomKilled } from './stats.js';

const log = logger('engine');

/** Whether a record says its task should exist. */
export const isLive = (r: ContainerRecord): boolean => r.state.status === 'running' || r.state.status === 'paused';

/**
 * A signal name or number as docker takes it (`SIGTERM`, `TERM`, `15`, `SIGRTMIN+3`) as the task's kill takes it.
 * @throws ERR_INVALID_ARGUMENT for something that is not a signal.
 */
export function toSignal(value: string | number): number | NodeJS.Signals {
  if (typeof value === 'number' || /^\d+$/.test(value)) {
    const n = Number(value);
    if (Number.isSafeInteger(n) && n >= 1 && n <= 64) return n;
  } else {
    const name = value.toUpperCase().startsWith('SIG') ? value.toUpperCase() : `SIG${value.toUpperCase()}`;
    if (Object.hasOwn(osConstants.signals, name)) return name as NodeJS.Signals;
    const rt = /^SIGRTMIN(?:\+(\d{1,2}))?$|^SIGRTMAX(?:-(\d{1,2}))?$/.exec(name);
    // Linux's SIGRTMIN as glibc exposes it is 34, SIGRTMAX 64.
    if (rt) return rt[0].startsWith('SIGRTMIN') ? 34 + Number(rt[1] ?? 0) : 64 - Number(rt[2] ?? 0);
  }
  throw newError('ERR_INVALID_ARGUMENT', `${String(value)} is not a signal`, { details: { signal: String(value) } });
}

/**
 * The shared state of one Engine and the one place a container's exit is recorded. Whoever observes an exit (the
 * watcher of a task this process started or reattached, a `stop`, a `wait`, a lazy `inspect`) calls `settle`:
 * under the container's lock, a record that says running whose task has stopped gets the exit code and time, the
 * task is removed (its shim, mounts, FIFOs, bundle; the snapshot stays for a restart, as docker's container keeps
 * its changes), `die` is published and, with `autoRemove`, the container is removed. Running it twice is harmless.
 * @internal
 */
export class Lifecycle {
  /** Tasks that were gone when the backend opened (their shim died), with the cleanup's exit code. */
  readonly lost = new Map<string, ExitStatus>();
  /** The last exit recorded per container by this process, kept after its removal (for `wait` on 'removed'). */
  readonly exits = new Map<string, ExitStatus>();
  /** Containers whose auto-removal an attached `run` of this process does itself (after reading the log). */
  readonly held = new Set<string>();
  readonly #oom = new Set<string>();
  readonly #changes = new EventEmitter<{ [id: string]: [] }>();
  readonly #closing = new AbortController();
  readonly #watched = new Set<Promise<unknown>>();
  readonly #watchers = new Map<string, AbortController>();

  constructor(
    readonly emitter: EventEmitter<EngineEvents>,
    readonly store: ContainerStore,
    readonly images: ImageService,
    readonly backend: EngineBackend,
    readonly eventsLog: EventsLog,
  ) {
    // Every watched task listens on it: an engine watching more than 10 containers is no leak.
    setMaxListeners(0, this.#closing.signal);
  }

  /** Aborted when the engine closes. */
  get closing(): AbortSignal {
    return this.#closing.signal;
  }

  /** Appends an event to the root's log and emits it here. Never throws (an event is not worth failing an operation). */
  async publish(event: NewEngineEvent): Promise<void> {
    try {
      const stamped = await this.eventsLog.append(event);
      this.emitter.emit('event', stamped);
      this.emitter.emit(stamped.Type, stamped);
    } catch (err) {
      log('event %s %s not recorded: %s', event.Type, event.Action, (err as Error).message);
    }
  }

  /** Publishes a container event with docker's attributes (name, image, labels) plus `extra`. */
  containerEvent(record: ContainerRecord, action: EngineEventAction, extra: Record<string, string> = {}): Promise<void> {
    const labels = Object.fromEntries(Object.entries(record.config.labels ?? {}));
    return this.publish({
      Type: 'container',
      Action: action,
      Actor: { ID: record.id, Attributes: { ...labels, name: record.name, image: record.image.name, ...extra } },
    });
  }

  /** Tells local waiters that `id`'s record changed. */
  changed(id: string): void {
    this.#changes.emit(id);
  }

  /** Resolves at the next local change of `id`'s record, after `ms` (another process's change), or on abort. */
  nextChange(id: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#changes.off(id, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#changes.once(id, done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Records an OOM kill of `id`'s current run (from the backend's events). */
  async oom(id: string): Promise<void> {
    this.#oom.add(id);
    const record = await this.store.get(id).catch(() => undefined);
    if (record !== undefined) await this.containerEvent(record, 'oom');
  }

  /** Settles `task`'s container once the task exits, until the engine closes or the container is removed here. */
  watch(task: Task): void {
    const { id } = task;
    const stop = new AbortController();
    this.#watchers.get(id)?.abort(); // a watch of an earlier task of it
    this.#watchers.set(id, stop);
    const signal = AbortSignal.any([this.closing, stop.signal]);
    const watching = task
      .wait({ signal })
      .then(() => (stop.signal.aborted ? undefined : this.settle(id, signal)))
      .catch((err: unknown) => {
        if (!signal.aborted) log('watching %s: %s', shortId(id), (err as Error).message);
      })
      .finally(() => {
        this.#watched.delete(watching);
        if (this.#watchers.get(id) === stop) this.#watchers.delete(id);
      });
    this.#watched.add(watching);
  }

  /** {@link settleLocked} under the container's lock; undefined when the container is gone. */
  async settle(reference: string, signal?: AbortSignal): Promise<ContainerRecord | undefined> {
    try {
      return await this.store.withContainer(reference, (tx) => this.settleLocked(tx), { signal });
    } catch (err) {
      if (hasCode(err, 'ERR_NO_SUCH_CONTAINER')) return undefined;
      throw err;
    }
  }

  /**
   * If the record says running or paused and the task has stopped (or is gone), records the exit and removes the
   * task; with `autoRemove` (not held by a `run`), removes the container. Returns the record as it is after.
   */
  async settleLocked(tx: ContainerTransaction, forceExit?: ExitStatus): Promise<ContainerRecord> {
    const record = tx.record;
    const { id } = record;
    if (!isLive(record)) return record;
    let exit = forceExit;
    let error = '';
    if (exit === undefined) {
      const task = await this.backend.loadTask(id);
      if (task === undefined) {
        // Lost when the backend opened; else neither running nor exited: its runner's state is gone (removed by
        // hand, a crash between steps).
        exit = this.lost.get(id);
        if (exit === undefined) {
          exit = { code: 255, exitedAt: undefined };
          error = 'task not found';
        }
      } else {
        // A task of a later start (by another Engine) than the one lost: the loss is history.
        this.lost.delete(id);
        const state = await task.status().catch((err: unknown) => {
          // ERR_NOT_FOUND: another process removed the task (its handle says so).
          if ((['ERR_TTRPC_CONNECTION_CLOSED', 'ERR_TTRPC_UNAVAILABLE', 'ERR_TTRPC_NOT_FOUND', 'ERR_NOT_FOUND'] as const).some((code) => hasCode(err, code)))
            return undefined;
          throw err;
        });
        if (state !== undefined && state.status !== 'stopped') return record;
        exit = state?.exit ?? { code: 255, exitedAt: undefined };
      }
    }
    const oomKilled = this.#oom.delete(id) || (await cgroupOomKilled(await this.#cgroupOf(id)));
    const ended = await this.backend.removeTask(id, { force: true });
    if (ended !== undefined && forceExit === undefined && !this.lost.has(id)) exit = ended;
    this.lost.delete(id);
    const code = exit.code;
    const next = await tx.update((r) => {
      r.state = { ...r.state, status: 'exited', pid: 0, exitCode: code, finishedAt: (exit.exitedAt ?? new Date()).toISOString(), oomKilled, error };
    });
    this.exits.set(id, { code, exitedAt: exit.exitedAt });
    log('%s exited with %d', shortId(id), code);
    await this.containerEvent(next, 'die', { exitCode: String(code) });
    this.changed(id);
    if (next.config.autoRemove === true && !this.held.has(id)) await this.removeLocked(tx);
    return next;
  }

  /**
   * Removes the container whose lock `tx` holds: a live task is killed (its exit recorded), then the task, the
   * rootfs snapshot, the record with its directory (log, spec, files) and the name go; `destroy` is published.
   */
  async removeLocked(tx: ContainerTransaction): Promise<void> {
    const { id } = tx.record;
    if (isLive(tx.record)) {
      const ended = await this.backend.removeTask(id, { force: true });
      await this.settleLocked(tx, ended ?? { code: 137, exitedAt: new Date() });
      if (tx.record.config.autoRemove === true && !this.held.has(id)) return; // settle removed it
    } else if ((await this.backend.loadTask(id)) !== undefined) {
      await this.backend.removeTask(id, { force: true }); // a start cut short left it
    }
    await this.images.releaseRootfs(id);
    const record = tx.record;
    await tx.remove();
    // Its watcher, woken by the kill, would only take the lock of a container that is gone (and leave it behind
    // for a moment after this returns).
    this.#watchers.get(id)?.abort();
    log('%s removed', shortId(id));
    await this.containerEvent(record, 'destroy');
    this.changed(id);
  }

  async #cgroupOf(id: string): Promise<string | undefined> {
    const saved = await readContainerConfig(this.store.containerDir(id), id).catch(() => undefined);
    return saved?.spec.linux?.cgroupsPath;
  }

  /** Stops watching (tasks keep running). */
  async close(): Promise<void> {
    this.#closing.abort(newError('ERR_FAILED_PRECONDITION', 'the engine is closed'));
    await Promise.allSettled([...this.#watched]);
  }
}
