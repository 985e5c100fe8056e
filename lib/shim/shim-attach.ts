import type { Socket } from 'node:net';
import { join } from 'node:path';
import { hasCode } from '../errors/index.js';
import { createFifo, type Lock, type LockOptions, logger, openFifo, writeJsonAtomic } from '../util/index.js';
import { isRecordCurrent, RECORD_FILE, readRecord } from './container-files.js';
import type { DeadShimReport, ShimRecord } from './manager-types.js';
import { cleanupDeadShim } from './shim-cleanup.js';
import { ShimLogSink } from './shim-log.js';
import { shimIdentityOf } from './shim-process.js';
import { reopenStdio, type StdioEnds } from './shim-stdio.js';
import { ShimTaskClient } from './task-client.js';

const log = logger('shim:manager');

/** What reattaching to a recorded shim needs of its manager. */
export interface AttachSettings {
  namespace: string;
  /** The manager's events socket path (the shims' `-address`). */
  eventsSocket: string;
  callTimeoutMs: number;
  connectTimeoutMs: number;
  shimLogMaxBytes: number;
  keepLogs: boolean;
  /** Whether to read the shim's `log` FIFO into `<dir>/shim.log`. */
  readLog: boolean;
  /** Takes the container's lock, shared with every manager of the root. */
  lock(id: string, options: LockOptions): Promise<Lock>;
}

/** A live shim, connected again. */
export interface AttachedShim {
  record: ShimRecord;
  task: ShimTaskClient;
  stdio: StdioEnds;
  logSocket?: Socket;
  logSink?: ShimLogSink;
}

/** What became of a record: its shim answered, it was dead and this manager cleaned it up, or it is gone. */
export type AttachResult = { attached: AttachedShim } | { dead: DeadShimReport } | { gone: true };

/**
 * Connects to the shim `record` names. A shim that does not answer is cleaned up under the container's lock after
 * the record is read and the shim tried once more, so of several managers that find it dead at once exactly one
 * cleans up (the others find the record gone, or a new container of that id, which they attach to instead).
 */
export async function attachRecorded(record: ShimRecord, dir: string, settings: AttachSettings, signal: AbortSignal | undefined): Promise<AttachResult> {
  const attached = await connectRecorded(record, dir, settings, false, signal);
  if (attached !== undefined) return { attached };
  const lock = await settings.lock(record.id, { signal });
  try {
    const now = await readRecord(record.id, dir, signal);
    if (now === undefined) return { gone: true };
    const again = await connectRecorded(now, dir, settings, true, signal);
    if (again !== undefined) return { attached: again };
    return { dead: await cleanupDeadShim(now, dir, settings.eventsSocket, signal, settings.keepLogs) };
  } finally {
    await lock.release();
  }
}

async function connectRecorded(
  record: ShimRecord,
  dir: string,
  settings: AttachSettings,
  locked: boolean,
  signal: AbortSignal | undefined,
): Promise<AttachedShim | undefined> {
  if (record.address === '') return undefined;
  let task: ShimTaskClient | undefined;
  try {
    task = await ShimTaskClient.open(record.address, {
      namespace: settings.namespace,
      callTimeoutMs: settings.callTimeoutMs,
      connectTimeoutMs: settings.connectTimeoutMs,
      signal,
    });
    const info = await task.connect(record.id, { signal, timeoutMs: 2000 });
    if (record.shimPid !== 0 && info.shimPid !== record.shimPid) log('shim of %s is pid %d, recorded %d', record.id, info.shimPid, record.shimPid);
    await restamp(record, info.shimPid, dir, settings, locked, signal);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    log('shim of %s does not answer: %s', record.id, (err as Error).message);
    await task?.close();
    return undefined;
  }
  const shimLog = settings.readLog ? await readShimLog(record, dir, settings, signal) : {};
  const stdio = await reopenStdio(record.stdio, signal).catch((err: Error) => {
    log('cannot reopen stdio of %s: %s', record.id, err.message);
    return {};
  });
  return { record, task, stdio, ...shimLog };
}

// The shim answered as `pid`: record who that process is (a record of an older version has no identity yet). The
// rewrite is made under the container's lock, and only while the record is still this container's.
async function restamp(
  record: ShimRecord,
  pid: number,
  dir: string,
  settings: AttachSettings,
  locked: boolean,
  signal: AbortSignal | undefined,
): Promise<void> {
  const identity = await shimIdentityOf(pid, signal);
  if (pid === record.shimPid && identity?.start === record.shimIdentity?.start && identity?.boot === record.shimIdentity?.boot) return;
  record.shimPid = pid;
  record.shimIdentity = identity;
  let lock: Lock | undefined;
  try {
    // Briefly: the holder may be a start of this very container, which writes the record itself.
    if (!locked) lock = await settings.lock(record.id, { signal, timeoutMs: 2000 });
    if (await isRecordCurrent(record, dir)) await writeJsonAtomic(join(dir, RECORD_FILE), record, { signal });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    log('cannot update the record of %s: %s', record.id, hasCode(err, 'ERR_LOCK_TIMEOUT') ? 'its lock is busy' : (err as Error).message);
  } finally {
    await lock?.release();
  }
}

// Reads the shim's log FIFO again. Without it the shim's log lines go nowhere (its writes fail with EPIPE, which it
// survives); the container is still usable.
async function readShimLog(
  record: ShimRecord,
  dir: string,
  settings: AttachSettings,
  signal: AbortSignal | undefined,
): Promise<Pick<AttachedShim, 'logSocket' | 'logSink'>> {
  const logPath = join(record.bundle, 'log');
  let logSocket: Socket;
  try {
    logSocket = await openFifo(logPath, 'rw', { signal });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    log('cannot reopen %s: %s', logPath, (err as Error).message);
    await createFifo(logPath, { mode: 0o700 }).catch(() => undefined);
    const again = await openFifo(logPath, 'rw', { signal }).catch(() => undefined);
    if (again === undefined) return {};
    logSocket = again;
  }
  const logSink = new ShimLogSink(join(dir, 'shim.log'), record.id, settings.shimLogMaxBytes);
  logSink.attach(logSocket);
  return { logSocket, logSink };
}
