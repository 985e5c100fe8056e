import { existsSync } from 'node:fs';
import { readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { logger, readJsonFile, removeFifo } from '../util/index.js';
import type { ShimRecord } from './manager-types.js';
import { removeStdio } from './shim-stdio.js';
import { socketPathOf } from './ttrpc/client.js';

const log = logger('shim:container');

/** A container's record in its dir (see `ShimRecord`). */
export const RECORD_FILE = 'shim.json';

/**
 * The record in `dir`, or undefined when there is none. An unreadable record, or one naming another id, is removed
 * (records are written atomically, so such a file is debris, never a write in progress).
 */
export async function readRecord(id: string, dir: string, signal?: AbortSignal): Promise<ShimRecord | undefined> {
  const path = join(dir, RECORD_FILE);
  // A dir without a record holds only a caller's files (an engine's container that has no task).
  if (!existsSync(path)) return undefined;
  const record = await readJsonFile<ShimRecord>(path, { signal }).catch((err: Error) => {
    if (signal?.aborted) throw signal.reason;
    log('unreadable record in %s: %s', dir, err.message);
    return undefined;
  });
  if (record !== undefined && record.id === id) return record;
  if (existsSync(path)) {
    log('no usable record in %s; removing it', dir);
    await rm(path, { force: true });
    await rmdir(dir).catch(() => undefined);
  }
  return undefined;
}

/**
 * Whether `dir` still holds the record of the very container `record` describes: false once it was removed, or
 * replaced by a new container with the same id (whose shim has the same hashed address, so `createdAt` tells them
 * apart: starts of one id are serialised by its lock).
 */
export async function isRecordCurrent(record: ShimRecord, dir: string): Promise<boolean> {
  const now = await readJsonFile<ShimRecord>(join(dir, RECORD_FILE)).catch(() => undefined);
  return now !== undefined && now.id === record.id && now.createdAt === record.createdAt;
}

/**
 * Removes what a manager and a shim leave for a container outside its bundle's own files: the shim socket, the
 * bundle's `log` FIFO, stdio FIFOs (the container's and its execs'), the `'log'` output unless `keepLog`, the
 * record and `shim.log`; then the container dir once it is empty (it may hold a caller's files, such as an
 * engine's record, which stay) and runc's namespace dir when empty.
 */
export async function removeContainerFiles(record: ShimRecord, dir: string, options: { keepLog?: boolean } = {}): Promise<void> {
  const quiet = (err: Error): void => log('cleanup of %s: %s', record.id, err.message);
  if (record.address !== '') await rm(socketPathOf(record.address), { force: true }).catch(quiet);
  await removeFifo(join(record.bundle, 'log')).catch(quiet);
  await removeStdio(record.stdio, options).catch(quiet);
  const names = await readdir(dir).catch(() => [] as string[]);
  // Exec FIFOs of execs never deleted (`exec-<id>-stdin`…), then the record last: while it exists, the next
  // manager still finds the container to clean up.
  for (const name of names.filter((n) => n.startsWith('exec-'))) await rm(join(dir, name), { force: true }).catch(quiet);
  for (const name of ['shim.log', 'shim.log.1', RECORD_FILE]) await rm(join(dir, name), { force: true }).catch(quiet);
  await rmdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT' && err.code !== 'ENOTEMPTY') quiet(err);
  });
  await rmdir(join(record.runcRoot, record.namespace)).catch(() => undefined);
}
