import { existsSync } from 'node:fs';
import { readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type ContainerkitError, hasCode, newError } from '../errors/index.js';
import { shortId } from '../util/debug.js';
import { errnoOf, fsError } from '../util/fs-error.js';
import { acquireLock, type Lock, logger, mountsUsing, readJsonFile } from '../util/index.js';
import { isContainerId } from './ids.js';
import { NameTable } from './name-table.js';
import { type ContainerRecord, recordProblem } from './record.js';

const log = logger('engine:store');

/** The ERR_NAME_IN_USE error. */
export function nameConflict(name: string, id: string | undefined, why: string): ContainerkitError {
  return newError('ERR_NAME_IN_USE', `the container name "/${name}" is ${why}`, { details: { name, id } });
}

/**
 * The files of a container store and the steps every operation is built from. Internal to the store: it holds
 * the rules (lock before directory, reserve before record) that make crashes recoverable.
 * @internal
 */
export class RecordFiles {
  readonly names: NameTable;

  constructor(
    readonly root: string,
    readonly lockTimeoutMs: number,
  ) {
    this.names = new NameTable(join(root, 'names'));
  }

  containerDir(id: string): string {
    return join(this.root, 'containers', id);
  }

  recordPath(id: string): string {
    return join(this.containerDir(id), 'record.json');
  }

  /** Takes `id`'s lock, `<root>/locks/container-<id>.lock`. */
  lock(id: string, signal: AbortSignal | undefined, timeoutMs = this.lockTimeoutMs): Promise<Lock> {
    return acquireLock(join(this.root, 'locks', `container-${id}.lock`), { timeoutMs, signal });
  }

  /** `check()` run under `id`'s lock when that is free now (or stale); undefined without running it when busy. */
  async ifIdle<T>(id: string, signal: AbortSignal | undefined, check: () => Promise<T>): Promise<T | undefined> {
    let lock: Lock;
    try {
      lock = await this.lock(id, signal, 0);
    } catch (err) {
      if (hasCode(err, 'ERR_LOCK_TIMEOUT')) return undefined;
      throw err;
    }
    try {
      return await check();
    } finally {
      await lock.release();
    }
  }

  /** The record of `id`, undefined when there is none. @throws ERR_CORRUPT_FILE, ERR_IO */
  async read(id: string, signal?: AbortSignal): Promise<ContainerRecord | undefined> {
    const path = this.recordPath(id);
    const value = await readJsonFile<ContainerRecord>(path, { signal });
    if (value === undefined) return undefined;
    const problem = recordProblem(value) ?? (value.id === id ? undefined : `id ${JSON.stringify(value.id)} is not the directory's`);
    if (problem !== undefined) throw newError('ERR_CORRUPT_FILE', `${path}: ${problem}`, { details: { path } });
    return value;
  }

  /** The ids that have a directory under `<root>/containers`. @throws ERR_IO */
  async ids(): Promise<string[]> {
    const dir = join(this.root, 'containers');
    try {
      return (await readdir(dir)).filter(isContainerId);
    } catch (err) {
      throw fsError(err, 'list', dir);
    }
  }

  /** Whether `id` has a record named `name`; a corrupt record counts as a yes (it is kept for inspection). */
  async backs(id: string, name: string): Promise<boolean> {
    try {
      return (await this.read(id))?.name === name;
    } catch (err) {
      if (hasCode(err, 'ERR_CORRUPT_FILE')) return true;
      throw err;
    }
  }

  /**
   * Reserves `name` for `id` (whose lock the caller holds), reclaiming it from a create or rename that crashed.
   * @throws ERR_NAME_IN_USE when another container has it, or a live process is reserving it.
   */
  async reserve(name: string, id: string, signal: AbortSignal | undefined): Promise<void> {
    for (let round = 0; round < 100; round++) {
      signal?.throwIfAborted();
      if (await this.names.tryReserve(name, id)) return;
      const holder = await this.names.holder(name);
      if (holder === undefined) continue; // freed in between
      if (holder === id) return; // left by our own rename that crashed: ours already
      if (!isContainerId(holder)) throw nameConflict(name, undefined, 'held by an unreadable reservation (see leftovers())');
      if (await this.backs(holder, name)) throw nameConflict(name, holder, `already in use by container ${holder}`);
      // No record backs it: a create or rename of `holder` under way, or one that crashed. Only a crashed one
      // leaves the lock free (or stale), and only a holder of that lock may remove a name pointing to it.
      const reclaimed = await this.ifIdle(holder, signal, async () => {
        if (await this.backs(holder, name)) throw nameConflict(name, holder, `already in use by container ${holder}`);
        log('reclaiming name /%s from %s, left by a create or rename that did not finish', name, shortId(holder));
        await this.names.release(name, holder);
        return true;
      });
      if (reclaimed === undefined) throw nameConflict(name, holder, `being reserved by container ${holder}`);
    }
    throw nameConflict(name, undefined, 'contended (taken and freed repeatedly)');
  }

  /**
   * Deletes `id`'s record, then its directory (a crash in between leaves a plain leftover directory). Refuses
   * while anything is mounted in the directory: a recursive delete would walk into a bind-mounted host path.
   * @throws ERR_FAILED_PRECONDITION with `details.mounts`; ERR_IO.
   */
  async discardDir(id: string): Promise<void> {
    const dir = this.containerDir(id);
    const mounts = await mountsUsing(dir);
    if (mounts.length > 0) {
      throw newError('ERR_FAILED_PRECONDITION', `container ${shortId(id)} still has mounts in ${dir}; unmount them before removing it`, {
        details: { id, mounts },
      });
    }
    try {
      await unlink(this.recordPath(id));
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw fsError(err, 'remove', this.recordPath(id));
    }
    try {
      await rm(dir, { recursive: true, force: true });
    } catch (err) {
      throw fsError(err, 'remove', dir);
    }
  }

  /**
   * Why `id`'s directory is a leftover (no record, corrupt record), or undefined when its record is fine or the
   * directory is gone (removed by another process since it was listed: nothing is left).
   */
  async dirProblem(id: string): Promise<string | undefined> {
    try {
      if ((await this.read(id)) !== undefined) return undefined;
      return existsSync(this.containerDir(id)) ? 'no record.json' : undefined;
    } catch (err) {
      if (hasCode(err, 'ERR_CORRUPT_FILE')) return (err as Error).message;
      throw err;
    }
  }
}
