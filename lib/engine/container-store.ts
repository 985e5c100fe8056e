import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hasCode, newError } from '../errors/index.js';
import { shortId } from '../util/debug.js';
import { logger, writeJsonAtomic } from '../util/index.js';
import { makeDirs } from '../util/make-dirs.js';
import { type ContainerTransaction, type RecordMutation, Transaction } from './container-transaction.js';
import type { CreateOptions } from './create-options.js';
import { generateName, isContainerId, isValidContainerName, newContainerId, normalizeContainerName } from './ids.js';
import { type ContainerImage, type ContainerRecord, initialState } from './record.js';
import { RecordFiles } from './record-files.js';
import { discardLeftover, findLeftovers, type Leftover } from './store-leftovers.js';

const log = logger('engine:store');

// Names drawn before a create without a name gives up (each clash widens the space, see generateName).
const NAME_ATTEMPTS = 20;

/** Options of {@link ContainerStore.open}. */
export interface ContainerStoreOptions {
  /** How long a mutation waits for another process's lock on the same container, in ms. Default 30000. */
  lockTimeoutMs?: number;
}

/** Options of the store's calls. */
export interface StoreCallOptions {
  signal?: AbortSignal;
}

/** What {@link ContainerStore.create} needs. */
export interface NewContainer {
  /** The name, with or without a leading '/'. Default: a generated `adjective_surname`. */
  name?: string;
  image: ContainerImage;
  config: CreateOptions;
}

/**
 * The containers of one root, on disk: `<root>/containers/<id>/record.json` (written atomically), one file per
 * name under `<root>/names/` and per-container locks under `<root>/locks/`. Any number of processes may use one
 * root: mutations of a container hold its lock (stale once its holder dies), names are taken with an exclusive
 * link so two processes creating one name cannot both win, and readers take no lock.
 */
export class ContainerStore {
  readonly #files: RecordFiles;

  private constructor(
    readonly root: string,
    lockTimeoutMs: number,
  ) {
    this.#files = new RecordFiles(root, lockTimeoutMs);
  }

  /**
   * Opens (and creates the directories of) the store under `root`.
   * @throws ERR_INVALID_ARGUMENT for a relative root or a bad option; ERR_IO when the directories cannot be made.
   */
  static async open(root: string, options: ContainerStoreOptions = {}): Promise<ContainerStore> {
    if (typeof root !== 'string' || !root.startsWith('/')) throw newError('ERR_INVALID_ARGUMENT', 'root must be an absolute path');
    const { lockTimeoutMs = 30_000 } = options;
    if (!(typeof lockTimeoutMs === 'number' && lockTimeoutMs >= 0)) throw newError('ERR_INVALID_ARGUMENT', 'options.lockTimeoutMs must be a number >= 0');
    for (const dir of ['containers', 'names', 'locks']) await makeDirs(join(root, dir), 0o711);
    return new ContainerStore(root, lockTimeoutMs);
  }

  /** `<root>/containers/<id>`: the record, the log and the bundle live here. */
  containerDir(id: string): string {
    return this.#files.containerDir(id);
  }

  /**
   * Creates a container record with a new id, reserving its name. Two processes creating the same name at once:
   * one wins, the other gets ERR_NAME_IN_USE. Nothing stays reserved when this fails.
   * @throws ERR_NAME_IN_USE; ERR_INVALID_CONTAINER_NAME; ERR_INVALID_ARGUMENT for a bad image or config;
   *   ERR_LOCK_TIMEOUT, ERR_IO. Rejects with `signal.reason` on abort.
   */
  async create(input: NewContainer, options: StoreCallOptions = {}): Promise<ContainerRecord> {
    const { signal } = options;
    const given = input.name === undefined ? undefined : normalizeContainerName(input.name);
    const { image, config } = input;
    if (typeof image?.name !== 'string' || typeof image.id !== 'string') throw newError('ERR_INVALID_ARGUMENT', 'image.name and image.id must be strings');
    if (typeof config !== 'object' || config === null) throw newError('ERR_INVALID_ARGUMENT', 'config must be an object');
    signal?.throwIfAborted();
    const files = this.#files;
    const id = newContainerId();
    // The lock comes before the directory: a directory without a record and without a live lock is a leftover.
    const lock = await files.lock(id, signal);
    let name: string | undefined;
    try {
      await makeDirs(files.containerDir(id), 0o711);
      if (given !== undefined) await files.reserve(given, id, signal);
      name = given ?? (await this.#reserveGenerated(id, signal));
      const record: ContainerRecord = {
        schemaVersion: 1,
        id,
        name,
        created: new Date().toISOString(),
        image: { ...image },
        config: structuredClone(config),
        state: initialState(),
      };
      await writeJsonAtomic(files.recordPath(id), record, { signal });
      log('%s created as /%s', shortId(id), name);
      return record;
    } catch (err) {
      if (name !== undefined) await files.names.release(name, id).catch(() => undefined);
      else if (given !== undefined) await files.names.release(given, id).catch(() => undefined);
      await rm(files.containerDir(id), { recursive: true, force: true }).catch(() => undefined);
      throw err;
    } finally {
      await lock.release();
    }
  }

  async #reserveGenerated(id: string, signal: AbortSignal | undefined): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const name = generateName(attempt);
      try {
        await this.#files.reserve(name, id, signal);
        return name;
      } catch (err) {
        if (!hasCode(err, 'ERR_NAME_IN_USE') || attempt + 1 >= NAME_ATTEMPTS) throw err;
      }
    }
  }

  /**
   * The record of the container with this exact id.
   * @throws ERR_NO_SUCH_CONTAINER; ERR_CORRUPT_FILE when its record cannot be parsed; ERR_IO.
   */
  async get(id: string, options: StoreCallOptions = {}): Promise<ContainerRecord> {
    const record = isContainerId(id) ? await this.#files.read(id, options.signal) : undefined;
    if (record === undefined) throw newError('ERR_NO_SUCH_CONTAINER', `no such container: ${id}`, { details: { reference: id } });
    return record;
  }

  /**
   * Finds a container as docker does: by full id, then by exact name (with or without a leading '/'), then by a
   * unique id prefix. Takes no lock.
   * @throws ERR_NO_SUCH_CONTAINER; ERR_AMBIGUOUS_CONTAINER_REFERENCE when a prefix matches several (`details.ids`);
   *   ERR_INVALID_ARGUMENT for an empty reference; ERR_CORRUPT_FILE, ERR_IO.
   */
  async resolve(reference: string, options: StoreCallOptions = {}): Promise<ContainerRecord> {
    const { signal } = options;
    if (typeof reference !== 'string' || reference === '' || reference === '/') {
      throw newError('ERR_INVALID_ARGUMENT', 'a container reference must be a non-empty string');
    }
    signal?.throwIfAborted();
    const files = this.#files;
    if (isContainerId(reference)) {
      const byId = await files.read(reference, signal);
      if (byId !== undefined) return byId;
    }
    const name = reference.startsWith('/') ? reference.slice(1) : reference;
    if (isValidContainerName(name)) {
      const holder = await files.names.holder(name);
      const byName = holder !== undefined && isContainerId(holder) ? await files.read(holder, signal) : undefined;
      if (byName?.name === name) return byName;
    }
    if (/^[0-9a-f]+$/.test(reference)) {
      const ids = (await files.ids()).filter((id) => id.startsWith(reference));
      const records = (await Promise.all(ids.map((id) => files.read(id, signal).catch(() => undefined)))).filter((r) => r !== undefined);
      if (records.length === 1) return records[0]!;
      if (records.length > 1) {
        throw newError('ERR_AMBIGUOUS_CONTAINER_REFERENCE', `multiple containers found with id prefix ${reference}`, {
          details: { reference, ids: records.map((r) => r.id) },
        });
      }
    }
    throw newError('ERR_NO_SUCH_CONTAINER', `no such container: ${reference}`, { details: { reference } });
  }

  /**
   * Every container that has a readable record, in no set order. Takes no lock. Half-made and corrupt records are
   * left out (see {@link ContainerStore.leftovers}). @throws ERR_IO
   */
  async list(options: StoreCallOptions = {}): Promise<ContainerRecord[]> {
    const { signal } = options;
    const files = this.#files;
    const records = await Promise.all(
      (await files.ids()).map((id) =>
        files.read(id, signal).catch((err: unknown) => {
          if (signal?.aborted) throw signal.reason;
          log('skipping %s: %s', shortId(id), (err as Error).message);
          return undefined;
        }),
      ),
    );
    return records.filter((r) => r !== undefined);
  }

  /**
   * Resolves `reference`, takes the container's lock, reads its record again and runs `fn` with a transaction on
   * it; the lock is released when `fn` settles. Locks are not re-entrant: inside `fn`, use the transaction's
   * update/rename/remove, not the store's.
   * @throws the errors of {@link ContainerStore.resolve}; ERR_NO_SUCH_CONTAINER when it is removed meanwhile;
   *   ERR_LOCK_TIMEOUT. Rejects with `signal.reason` on abort.
   */
  async withContainer<T>(reference: string, fn: (tx: ContainerTransaction) => Promise<T> | T, options: StoreCallOptions = {}): Promise<T> {
    const { signal } = options;
    const { id } = await this.resolve(reference, { signal });
    const lock = await this.#files.lock(id, signal);
    try {
      const record = await this.get(id, { signal });
      return await fn(new Transaction(this.#files, record));
    } finally {
      await lock.release();
    }
  }

  /** {@link ContainerTransaction.update} in its own transaction. */
  update(reference: string, mutate: RecordMutation, options: StoreCallOptions = {}): Promise<ContainerRecord> {
    return this.withContainer(reference, (tx) => tx.update(mutate), options);
  }

  /** {@link ContainerTransaction.rename} in its own transaction. */
  rename(reference: string, newName: string, options: StoreCallOptions = {}): Promise<ContainerRecord> {
    normalizeContainerName(newName);
    return this.withContainer(reference, (tx) => tx.rename(newName), options);
  }

  /** {@link ContainerTransaction.remove} in its own transaction. */
  remove(reference: string, options: StoreCallOptions = {}): Promise<void> {
    return this.withContainer(reference, (tx) => tx.remove(), options);
  }

  /**
   * What crashes left behind and no live process is working on: container directories without a readable record,
   * and names no record backs. Each is judged under its container's lock, taken without waiting, so a create or
   * rename in progress is never reported. Hand them to {@link ContainerStore.discard}. @throws ERR_IO
   */
  leftovers(options: StoreCallOptions = {}): Promise<Leftover[]> {
    return findLeftovers(this.#files, options.signal);
  }

  /**
   * Removes a leftover found by {@link ContainerStore.leftovers}, after checking again under the lock that it still
   * is one (otherwise nothing happens). A directory with a corrupt record goes too.
   * @throws ERR_FAILED_PRECONDITION when a leftover directory still has mounts; ERR_IO.
   */
  discard(leftover: Leftover, options: StoreCallOptions = {}): Promise<void> {
    return discardLeftover(this.#files, leftover, options.signal);
  }
}
