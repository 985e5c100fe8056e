import { isSameProcess, logger, stampProcess } from '../util/index.js';
import type { ShimRecord } from './manager-types.js';

const log = logger('shim:manager');

type Recorded = Pick<ShimRecord, 'id' | 'shimPid' | 'shimIdentity'>;

/** The identity to record for the live shim `pid`; undefined when /proc does not show it. */
export async function shimIdentityOf(pid: number, signal?: AbortSignal): Promise<ShimRecord['shimIdentity']> {
  const stamp = await stampProcess(pid, { signal });
  if (stamp === undefined) return undefined;
  return stamp.boot === undefined ? { start: stamp.start } : { start: stamp.start, boot: stamp.boot };
}

/**
 * Whether the recorded shim process still runs, checked by its identity. A record without one (older versions)
 * cannot be checked and counts as gone: the engine never acts on a pid it cannot tell from an unrelated process.
 */
export async function isRecordedShimAlive(record: Recorded): Promise<boolean> {
  if (record.shimPid <= 0 || record.shimIdentity === undefined) return false;
  return isSameProcess({ pid: record.shimPid, ...record.shimIdentity });
}

/**
 * SIGKILLs the recorded shim if it verifiably is still that process (see {@link isRecordedShimAlive}); anything
 * else under that pid is left alone. Resolves whether a signal was sent. (A pid could still be reused between the
 * check and the kill; Node has no pidfd to close that window, which is microseconds wide against a pid space.)
 */
export async function killRecordedShim(record: Recorded): Promise<boolean> {
  if (record.shimPid <= 0) return false;
  if (!(await isRecordedShimAlive(record))) {
    if (record.shimIdentity === undefined) log('shim pid %d of %s has no recorded identity: not signalled', record.shimPid, record.id);
    return false;
  }
  try {
    process.kill(record.shimPid, 'SIGKILL');
    return true;
  } catch {
    return false; // gone meanwhile
  }
}
