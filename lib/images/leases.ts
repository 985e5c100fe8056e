/**
 * Leases: records under `<root>/leases/` naming content that GC must keep although no image names it yet (what
 * an in-progress pull or unpack is writing). A lease expires; GC ignores expired ones. Additions to a lease and
 * GC's mark-and-sweep take the same lock (`<root>/gc.lock`), so a digest added to a lease before its writer opens
 * is never swept.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { newError } from '../errors/index.js';
import { readJsonFile, writeJsonAtomic } from '../util/atomic-file.js';
import { errnoOf, fsError } from '../util/fs-error.js';
import { withLock } from '../util/lock.js';

/** Default lifetime of a lease: 24 hours. */
export const DEFAULT_LEASE_TTL_MS = 24 * 60 * 60 * 1000;

/** A lease as stored. */
export interface StoreLeaseRecord {
  id: string;
  /** Epoch ms after which the lease no longer protects anything. */
  expiresAt: number;
  /** Digests protected, with their subtrees when present. */
  digests: string[];
  /** Free-form labels (who took it and why). */
  labels?: Record<string, string>;
}

/** The path of the lock that serialises lease updates with GC. */
export function gcLockPath(root: string): string {
  return join(root, 'gc.lock');
}

/** A held lease. Release it when the work is recorded (or failed). */
export class Lease implements AsyncDisposable {
  #record: StoreLeaseRecord;
  #adding: Promise<void> = Promise.resolve();
  constructor(
    private readonly root: string,
    record: StoreLeaseRecord,
  ) {
    this.#record = record;
  }

  get id(): string {
    return this.#record.id;
  }

  get record(): Readonly<StoreLeaseRecord> {
    return this.#record;
  }

  /**
   * Adds digests to the lease (under the GC lock, before their content is written). Calls on one Lease run one after
   * another: concurrent ones would otherwise meet on the GC lock file and wait out its poll interval.
   */
  add(digests: readonly string[], options: { signal?: AbortSignal } = {}): Promise<void> {
    if (digests.every((d) => this.#record.digests.includes(d))) return Promise.resolve();
    const run = this.#adding.then(() => this.#add(digests, options));
    this.#adding = run.catch(() => undefined);
    return run;
  }

  async #add(digests: readonly string[], options: { signal?: AbortSignal }): Promise<void> {
    const fresh = [...new Set(digests)].filter((d) => !this.#record.digests.includes(d));
    if (fresh.length === 0) return;
    const next = { ...this.#record, digests: [...this.#record.digests, ...fresh] };
    await withLock(gcLockPath(this.root), () => writeJsonAtomic(leasePath(this.root, this.id), next, { space: 0, fsync: false, signal: options.signal }), {
      signal: options.signal,
    });
    this.#record = next;
  }

  /** Deletes the lease. Idempotent. */
  async release(): Promise<void> {
    await unlink(leasePath(this.root, this.id)).catch((err: unknown) => {
      if (errnoOf(err) !== 'ENOENT') throw fsError(err, 'delete lease', leasePath(this.root, this.id));
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}

function leasePath(root: string, id: string): string {
  return join(root, 'leases', `${id}.json`);
}

/**
 * Creates a lease protecting `digests` for `ttlMs` (default {@link DEFAULT_LEASE_TTL_MS}).
 * @throws ERR_INVALID_ARGUMENT for a bad ttl; ERR_IO.
 */
export async function createLease(
  root: string,
  options: { ttlMs?: number; digests?: string[]; labels?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Lease> {
  const { ttlMs = DEFAULT_LEASE_TTL_MS, digests = [], labels, signal } = options;
  if (typeof ttlMs !== 'number' || !(ttlMs > 0)) throw newError('ERR_INVALID_ARGUMENT', 'options.ttlMs must be a positive number');
  await mkdir(join(root, 'leases'), { recursive: true });
  const record: StoreLeaseRecord = {
    id: `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`,
    expiresAt: Date.now() + ttlMs,
    digests,
    ...(labels ? { labels } : {}),
  };
  await withLock(gcLockPath(root), () => writeJsonAtomic(leasePath(root, record.id), record, { space: 0, fsync: false, signal }), { signal });
  return new Lease(root, record);
}

/** Every unexpired lease (call under the GC lock for a consistent view). Unreadable lease files are ignored. */
export async function activeLeases(root: string, now = Date.now()): Promise<StoreLeaseRecord[]> {
  const dir = join(root, 'leases');
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: StoreLeaseRecord[] = [];
  for (const name of names) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    const record = await readJsonFile<StoreLeaseRecord>(join(dir, name)).catch(() => undefined);
    if (record && Array.isArray(record.digests) && typeof record.expiresAt === 'number' && record.expiresAt > now) out.push(record);
  }
  return out;
}

/** Deletes expired lease files; returns their ids. */
export async function pruneLeases(root: string, now = Date.now()): Promise<string[]> {
  const dir = join(root, 'leases');
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    const record = await readJsonFile<StoreLeaseRecord>(join(dir, name)).catch(() => undefined);
    if (record === undefined || typeof record.expiresAt !== 'number' || record.expiresAt <= now) {
      await unlink(join(dir, name)).catch(() => undefined);
      removed.push(name.slice(0, -5));
    }
  }
  return removed;
}
