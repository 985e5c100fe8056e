import { join } from 'node:path';
import { errnoOf } from '../util/fs-error.js';
import { CONTAINER_LOG_NAME, containerLogs } from './container-logs.js';
import { ContainerStore } from './container-store.js';
import type { ContainerInspect, ContainerSummary, EngineLogsOptions, ListOptions } from './engine-types.js';
import { inspectRecord, listContainers, type RecordView, settledRecord } from './inspect.js';
import { isLive } from './lifecycle.js';
import type { LogEntry } from './log-lines.js';
import type { ContainerRecord } from './record.js';

function processGone(pid: number): boolean {
  if (pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return errnoOf(err) === 'ESRCH';
  }
}

/**
 * docker ps, inspect and logs over a root's records, without a backend: no shim is connected, nothing is locked,
 * so it works while another process holds the root (an attached `run`) and loads none of the runtime's modules.
 * It cannot record an exit nobody watched: a record that says running whose process is gone reads as exited (its
 * code unknown: the last one recorded) and sets {@link stale}, so a caller that needs the real code opens an Engine,
 * which settles it.
 */
export class ContainerReader implements RecordView {
  readonly store: ContainerStore;
  readonly backend: RecordView['backend'];
  #stale = false;

  private constructor(store: ContainerStore) {
    this.store = store;
    this.backend = { logPath: (id) => join(store.containerDir(id), CONTAINER_LOG_NAME) };
  }

  /** Opens the records under the engine root `root`. @throws ERR_INVALID_ARGUMENT; ERR_IO */
  static async open(root: string): Promise<ContainerReader> {
    return new ContainerReader(await ContainerStore.open(root));
  }

  /** Whether a record read so far says running while its process is gone (an exit only an Engine can record). */
  get stale(): boolean {
    return this.#stale;
  }

  /** The record of `reference`; one whose process is gone as exited (see the class). @internal */
  async settle(reference: string, signal?: AbortSignal): Promise<ContainerRecord | undefined> {
    const record = await this.store.resolve(reference, { signal });
    if (!isLive(record) || !processGone(record.state.pid)) return record;
    this.#stale = true;
    return { ...record, state: { ...record.state, status: 'exited', pid: 0 } };
  }

  /** As `Engine.list`. */
  list(options: ListOptions = {}): Promise<ContainerSummary[]> {
    return listContainers(this, options);
  }

  /** As `Engine.inspect`. */
  async inspect(reference: string, options: { signal?: AbortSignal } = {}): Promise<ContainerInspect> {
    return inspectRecord(this, await settledRecord(this, reference, options.signal));
  }

  /** As `Engine.logs`: a follower ends once the container stopped or its process is gone. */
  logs(reference: string, options: EngineLogsOptions = {}): AsyncGenerator<LogEntry> {
    return containerLogs(this, reference, options);
  }
}
