import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { newError } from '../errors/index.js';
import type { Mount } from '../oci/mount.js';
import { readJsonFile, writeJsonAtomic } from '../util/atomic-file.js';
import { logger } from '../util/debug.js';
import { fsError } from '../util/fs-error.js';
import { withLock } from '../util/lock.js';
import { mountsUsing } from '../util/mountinfo.js';
import type { SnapshotCallOptions, SnapshotInfo, SnapshotKind, SnapshotOptions, Snapshotter, SnapshotUsage } from './snapshotter.js';

const log = logger('unpack:snapshot');

/** One snapshot in the metadata file. */
export interface SnapshotRecord {
  /** Short numeric directory name under `snapshots/` (kept short so overlay's lowerdir fits one page). */
  id: number;
  kind: SnapshotKind;
  parent?: string;
  labels: Record<string, string>;
  created: string;
  updated: string;
}

interface Db {
  version: 1;
  nextId: number;
  snapshots: Record<string, SnapshotRecord>;
}

const MAX_KEY = 1024;

function checkKey(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_KEY || value.includes('\0')) {
    throw newError('ERR_INVALID_ARGUMENT', `${name} must be a non-empty string of at most ${MAX_KEY} characters`);
  }
  return value;
}

function checkOptions(options: SnapshotOptions): Record<string, string> {
  if (typeof options !== 'object' || options === null) throw newError('ERR_INVALID_ARGUMENT', 'options must be an object');
  const { labels, signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw newError('ERR_INVALID_ARGUMENT', 'options.signal must be an AbortSignal');
  if (labels === undefined) return {};
  if (typeof labels !== 'object' || labels === null) throw newError('ERR_INVALID_ARGUMENT', 'options.labels must be an object of strings');
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== 'string') throw newError('ERR_INVALID_ARGUMENT', `options.labels[${JSON.stringify(k)}] must be a string`);
  }
  return { ...labels };
}

function info(name: string, r: SnapshotRecord): SnapshotInfo {
  return { name, kind: r.kind, ...(r.parent === undefined ? {} : { parent: r.parent }), labels: { ...r.labels }, created: r.created, updated: r.updated };
}

/**
 * The part every snapshotter shares: the metadata DB (`<root>/metadata.json`, rewritten atomically under the lock
 * `<root>/metadata.lock`, so several processes may share a root), numeric snapshot directories
 * `<root>/snapshots/<id>/`, and the key/parent rules. Subclasses decide what a snapshot's directories hold and
 * which mounts assemble it.
 */
export abstract class SnapshotStore implements Snapshotter {
  abstract readonly name: string;
  /** The directory the snapshotter owns. */
  readonly root: string;

  constructor(root: string) {
    if (typeof root !== 'string' || root === '' || !root.startsWith('/')) throw newError('ERR_INVALID_ARGUMENT', 'root must be an absolute path');
    this.root = root.replace(/\/+$/, '');
  }

  /** `<root>/snapshots/<id>`. */
  protected snapshotDir(id: number): string {
    return join(this.root, 'snapshots', String(id));
  }

  /** `<root>/snapshots/<id>/fs`: the snapshot's own tree. */
  protected fsDir(id: number): string {
    return join(this.snapshotDir(id), 'fs');
  }

  /** Fills the new snapshot's directory (already made, with an empty `fs`). `chain` is the parent's records, nearest first. */
  protected abstract populate(record: SnapshotRecord, chain: SnapshotRecord[], signal: AbortSignal | undefined): Promise<void>;
  /** The mounts that assemble an active or view snapshot. */
  protected abstract buildMounts(record: SnapshotRecord, chain: SnapshotRecord[]): Mount[];
  /** Called after a commit was recorded (e.g. to drop an overlay work dir). */
  protected async committed(_record: SnapshotRecord): Promise<void> {}

  private get dbPath(): string {
    return join(this.root, 'metadata.json');
  }

  private async readDb(signal: AbortSignal | undefined): Promise<Db> {
    const db = await readJsonFile<Db>(this.dbPath, { signal });
    if (db === undefined) return { version: 1, nextId: 1, snapshots: {} };
    if (db.version !== 1 || typeof db.nextId !== 'number' || typeof db.snapshots !== 'object' || db.snapshots === null) {
      throw newError('ERR_CORRUPT_FILE', `snapshot metadata ${this.dbPath} has an unknown shape`, { details: { path: this.dbPath } });
    }
    return db;
  }

  /** Runs `fn` on the DB under the lock and writes it back when `fn` returns true for `changed`. */
  private async update<T>(
    signal: AbortSignal | undefined,
    fn: (db: Db) => Promise<{ value: T; changed: boolean }> | { value: T; changed: boolean },
  ): Promise<T> {
    signal?.throwIfAborted();
    try {
      await mkdir(join(this.root, 'snapshots'), { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fsError(err, 'create', join(this.root, 'snapshots'));
    }
    return withLock(
      join(this.root, 'metadata.lock'),
      async () => {
        const db = await this.readDb(signal);
        const { value, changed } = await fn(db);
        if (changed) await writeJsonAtomic(this.dbPath, db, { space: 0 });
        return value;
      },
      { signal },
    );
  }

  private chainOf(db: Db, parent: string | undefined): SnapshotRecord[] {
    const chain: SnapshotRecord[] = [];
    let name = parent;
    while (name !== undefined) {
      const r = db.snapshots[name];
      if (!r) throw newError('ERR_INTERNAL', `snapshot metadata lost parent ${name}`);
      chain.push(r);
      name = r.parent;
    }
    return chain;
  }

  private async create(kind: 'active' | 'view', key: string, parent: string | undefined, options: SnapshotOptions): Promise<Mount[]> {
    checkKey(key, 'key');
    if (parent !== undefined) checkKey(parent, 'parent');
    const labels = checkOptions(options);
    const { signal } = options;
    const { record, chain } = await this.update(signal, async (db) => {
      if (db.snapshots[key]) throw newError('ERR_ALREADY_EXISTS', `snapshot ${key} already exists`, { details: { key } });
      if (parent !== undefined) {
        const p = db.snapshots[parent];
        if (!p) throw newError('ERR_NOT_FOUND', `parent snapshot ${parent} does not exist`, { details: { parent } });
        if (p.kind !== 'committed') throw newError('ERR_FAILED_PRECONDITION', `parent snapshot ${parent} is not committed`, { details: { parent } });
      }
      const now = new Date().toISOString();
      const rec: SnapshotRecord = { id: db.nextId++, kind, ...(parent === undefined ? {} : { parent }), labels, created: now, updated: now };
      // A leftover directory of a crashed run under this id is discarded first.
      await rm(this.snapshotDir(rec.id), { recursive: true, force: true });
      try {
        await mkdir(this.fsDir(rec.id), { recursive: true, mode: 0o755 });
      } catch (err) {
        throw fsError(err, 'create', this.fsDir(rec.id));
      }
      db.snapshots[key] = rec;
      return { value: { record: rec, chain: this.chainOf(db, parent) }, changed: true };
    });
    let mounts: Mount[];
    try {
      // Outside the lock: a native copy can take long.
      await this.populate(record, chain, signal);
      mounts = this.buildMounts(record, chain);
    } catch (err) {
      await this.remove(key).catch((e: unknown) => log('cleanup of %s failed: %s', key, (e as Error).message));
      throw err;
    }
    log('%s %s %s (id %d) on %s', this.name, kind, key, record.id, parent ?? '(nothing)');
    return mounts;
  }

  /** See {@link Snapshotter.prepare}. */
  prepare(key: string, parent?: string, options: SnapshotOptions = {}): Promise<Mount[]> {
    return this.create('active', key, parent, options);
  }

  /** See {@link Snapshotter.view}. */
  view(key: string, parent?: string, options: SnapshotOptions = {}): Promise<Mount[]> {
    return this.create('view', key, parent, options);
  }

  /** See {@link Snapshotter.mounts}. */
  async mounts(key: string, options: SnapshotCallOptions = {}): Promise<Mount[]> {
    checkKey(key, 'key');
    checkOptions(options);
    options.signal?.throwIfAborted();
    const db = await this.readDb(options.signal);
    const r = db.snapshots[key];
    if (!r) throw newError('ERR_NOT_FOUND', `snapshot ${key} does not exist`, { details: { key } });
    if (r.kind === 'committed') throw newError('ERR_FAILED_PRECONDITION', `snapshot ${key} is committed: make a view of it to mount it`, { details: { key } });
    return this.buildMounts(r, this.chainOf(db, r.parent));
  }

  /** See {@link Snapshotter.commit}. */
  async commit(name: string, key: string, options: SnapshotOptions = {}): Promise<void> {
    checkKey(name, 'name');
    checkKey(key, 'key');
    const labels = checkOptions(options);
    const rec = await this.update(options.signal, (db) => {
      const r = db.snapshots[key];
      if (!r) throw newError('ERR_NOT_FOUND', `snapshot ${key} does not exist`, { details: { key } });
      if (r.kind !== 'active') throw newError('ERR_FAILED_PRECONDITION', `snapshot ${key} is not active`, { details: { key } });
      if (db.snapshots[name]) throw newError('ERR_ALREADY_EXISTS', `snapshot ${name} already exists`, { details: { name } });
      delete db.snapshots[key];
      r.kind = 'committed';
      r.labels = { ...r.labels, ...labels };
      r.updated = new Date().toISOString();
      db.snapshots[name] = r;
      return { value: r, changed: true };
    });
    await this.committed(rec);
    log('%s committed %s as %s (id %d)', this.name, key, name, rec.id);
  }

  /** See {@link Snapshotter.remove}. */
  async remove(key: string, options: SnapshotCallOptions = {}): Promise<void> {
    checkKey(key, 'key');
    checkOptions(options);
    const rec = await this.update(options.signal, async (db) => {
      const r = db.snapshots[key];
      if (!r) throw newError('ERR_NOT_FOUND', `snapshot ${key} does not exist`, { details: { key } });
      const child = Object.entries(db.snapshots).find(([, c]) => c.parent === key);
      if (child) throw newError('ERR_FAILED_PRECONDITION', `snapshot ${key} has a child ${child[0]}`, { details: { key, child: child[0] } });
      // Every mount a snapshot hands out names its own directory (a bind source or an overlay layer), so a mount
      // that is still there shows up here; deleting the tree under it would pull a running container's files away.
      const mountPoints = await mountsUsing(this.snapshotDir(r.id), { signal: options.signal });
      if (mountPoints.length > 0) {
        throw newError('ERR_SNAPSHOT_MOUNTED', `snapshot ${key} is mounted at ${mountPoints.join(', ')}: unmount it first`, { details: { key, mountPoints } });
      }
      delete db.snapshots[key];
      return { value: r, changed: true };
    });
    try {
      await rm(this.snapshotDir(rec.id), { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      throw fsError(err, 'remove', this.snapshotDir(rec.id));
    }
  }

  /** See {@link Snapshotter.stat}. */
  async stat(key: string, options: SnapshotCallOptions = {}): Promise<SnapshotInfo> {
    checkKey(key, 'key');
    checkOptions(options);
    const r = (await this.readDb(options.signal)).snapshots[key];
    if (!r) throw newError('ERR_NOT_FOUND', `snapshot ${key} does not exist`, { details: { key } });
    return info(key, r);
  }

  /** See {@link Snapshotter.walk}. */
  async walk(options: SnapshotCallOptions = {}): Promise<SnapshotInfo[]> {
    checkOptions(options);
    const db = await this.readDb(options.signal);
    const order = (k: SnapshotKind): number => (k === 'committed' ? 0 : 1);
    return Object.entries(db.snapshots)
      .map(([name, r]) => info(name, r))
      .sort((a, b) => order(a.kind) - order(b.kind) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * The host directory holding `key`'s own tree: for `native` the full tree; for `overlay` the layer's own changes
   * (its upper dir). Not part of {@link Snapshotter}: code that works on any snapshotter uses the mounts instead.
   */
  async directory(key: string, options: SnapshotCallOptions = {}): Promise<string> {
    checkKey(key, 'key');
    checkOptions(options);
    const r = (await this.readDb(options.signal)).snapshots[key];
    if (!r) throw newError('ERR_NOT_FOUND', `snapshot ${key} does not exist`, { details: { key } });
    return this.fsDir(r.id);
  }

  /** See {@link Snapshotter.usage}: walks the snapshot's own tree, hardlinked files counted once. */
  async usage(key: string, options: SnapshotCallOptions = {}): Promise<SnapshotUsage> {
    const dir = await this.directory(key, options);
    const seen = new Set<string>();
    let size = 0;
    let inodes = 0;
    const visit = async (path: string): Promise<void> => {
      options.signal?.throwIfAborted();
      const st = await lstat(path, { bigint: true });
      const id = `${st.dev}:${st.ino}`;
      if (seen.has(id)) return;
      seen.add(id);
      inodes++;
      if (st.isFile()) size += Number(st.size);
      if (st.isDirectory()) for (const name of await readdir(path)) await visit(join(path, name));
    };
    try {
      await visit(dir);
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw fsError(err, 'measure', dir);
    }
    return { size, inodes };
  }
}
