import { newError } from '../errors/index.js';
import { shortId } from '../util/debug.js';
import { logger, writeJsonAtomic } from '../util/index.js';
import { normalizeContainerName } from './ids.js';
import { type ContainerRecord, recordProblem } from './record.js';
import type { RecordFiles } from './record-files.js';

const log = logger('engine:store');

/** A changed copy of a record, or `undefined` after changing the given copy in place. */
export type RecordMutation = (record: ContainerRecord) => ContainerRecord | void | Promise<ContainerRecord | void>;

/**
 * One container's record while its lock is held (see `ContainerStore.withContainer`): the engine keeps the lock
 * across a backend call and the state change that follows it.
 */
export interface ContainerTransaction {
  /** The record as last read or written in this transaction. */
  readonly record: ContainerRecord;
  /**
   * Applies `mutate` to a copy and writes the result atomically. id, name, created and schemaVersion cannot change
   * here. @throws ERR_INVALID_ARGUMENT when the result is malformed or changes one of them; ERR_IO.
   */
  update(mutate: RecordMutation): Promise<ContainerRecord>;
  /**
   * Gives the container a new name (with or without a leading '/'). The new name is reserved before the record
   * changes and the old one freed after, so a crash leaves at most an unbacked name (reclaimed by the next
   * create, listed by `leftovers()`), never two containers with one name.
   * @throws ERR_NAME_IN_USE; ERR_INVALID_CONTAINER_NAME; ERR_IO.
   */
  rename(newName: string): Promise<ContainerRecord>;
  /**
   * Deletes the record, frees the name and removes `<root>/containers/<id>` (log and bundle included). Stop the
   * task and unmount the rootfs first. Later calls on this transaction throw ERR_NO_SUCH_CONTAINER.
   * @throws ERR_FAILED_PRECONDITION when something is still mounted in the directory (`details.mounts`); ERR_IO.
   */
  remove(): Promise<void>;
}

/** @internal */
export class Transaction implements ContainerTransaction {
  #record: ContainerRecord;
  #removed = false;

  constructor(
    readonly files: RecordFiles,
    record: ContainerRecord,
  ) {
    this.#record = record;
  }

  get record(): ContainerRecord {
    return this.#record;
  }

  #live(): ContainerRecord {
    const { id } = this.#record;
    if (this.#removed) throw newError('ERR_NO_SUCH_CONTAINER', `container ${id} was removed in this transaction`, { details: { reference: id } });
    return this.#record;
  }

  async update(mutate: RecordMutation): Promise<ContainerRecord> {
    const record = this.#live();
    const copy = structuredClone(record);
    const next = (await mutate(copy)) ?? copy;
    for (const key of ['schemaVersion', 'id', 'name', 'created'] as const) {
      if (next?.[key] !== record[key]) throw newError('ERR_INVALID_ARGUMENT', `a record's ${key} cannot be changed by update`);
    }
    const problem = recordProblem(next);
    if (problem !== undefined) throw newError('ERR_INVALID_ARGUMENT', `updated record of ${shortId(record.id)} is malformed: ${problem}`);
    await writeJsonAtomic(this.files.recordPath(record.id), next);
    this.#record = next;
    return next;
  }

  async rename(newName: string): Promise<ContainerRecord> {
    const record = this.#live();
    const name = normalizeContainerName(newName);
    if (name === record.name) return record;
    const { id } = record;
    await this.files.reserve(name, id, undefined);
    const next = { ...record, name };
    try {
      await writeJsonAtomic(this.files.recordPath(id), next);
    } catch (err) {
      await this.files.names.release(name, id).catch(() => undefined);
      throw err;
    }
    this.#record = next;
    await this.files.names.release(record.name, id);
    log('%s renamed /%s → /%s', shortId(id), record.name, name);
    return next;
  }

  async remove(): Promise<void> {
    const { id, name } = this.#live();
    await this.files.discardDir(id);
    this.#removed = true;
    await this.files.names.release(name, id);
    log('%s removed', shortId(id));
  }
}
