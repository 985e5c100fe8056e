import { existsSync } from 'node:fs';
import { isProcessAlive, logger } from '../util/index.js';
import { removeContainerFiles } from './container-files.js';
import type { DeadShimReport, ShimRecord } from './manager-types.js';
import { findShimDaemons, runShimDelete } from './shim-binary.js';
import { killRecordedShim, shimIdentityOf } from './shim-process.js';
import { shimSocketPath } from './start-output.js';
import { ShimTaskClient } from './task-client.js';

const log = logger('shim:manager');

/**
 * Cleans up after a shim found dead (or hung) when a manager opens its root: the hung shim is killed if it still
 * is the recorded process, then the shim's `delete` (runc delete --force, unmount), then its socket, FIFOs and
 * record. `eventsSocket` is the manager's (the shims' `-address`).
 */
export async function cleanupDeadShim(
  record: ShimRecord,
  dir: string,
  eventsSocket: string,
  signal: AbortSignal | undefined,
  keepLog = false,
): Promise<DeadShimReport> {
  let code = 255;
  let exitedAt: Date | undefined = new Date();
  // Alive but not answering (hung): it must not keep the container. Only the very process recorded is killed:
  // after a reboot or pid reuse, the pid is someone else's.
  if (await killRecordedShim(record)) log('killed hung shim %d of %s', record.shimPid, record.id);
  if (existsSync(record.bundle)) {
    const r = await runShimDelete({
      shimBinary: record.shimBinary,
      namespace: record.namespace,
      address: eventsSocket,
      id: record.id,
      bundle: record.bundle,
      signal,
    });
    code = r.code;
    exitedAt = r.exitedAt;
  }
  const socket = record.address !== '' ? record.address : `unix://${shimSocketPath(eventsSocket, record.namespace, record.id)}`;
  await removeContainerFiles({ ...record, address: socket }, dir, { keepLog });
  log('cleaned up dead shim of %s (exit %d)', record.id, code);
  return { id: record.id, bundle: record.bundle, code, exitedAt };
}

/** Undoes a `start` that failed or was aborted after the shim binary ran: stops the shim, whatever state it got to. */
export async function undoShimStart(record: ShimRecord, dir: string, task: ShimTaskClient | undefined, eventsSocket: string, keepLog = false): Promise<void> {
  if (task === undefined && record.shimPid === 0) {
    // Aborted or failed between `start` and Connect: a shim may be up at the hashed address; find it to stop it.
    const address = record.address !== '' ? record.address : `unix://${shimSocketPath(eventsSocket, record.namespace, record.id)}`;
    task = await ShimTaskClient.open(address, { namespace: record.namespace, connectTimeoutMs: 500 }).catch(() => undefined);
    if (task !== undefined)
      record.shimPid = await task.connect(record.id, { timeoutMs: 2000 }).then(
        (i) => i.shimPid,
        () => 0,
      );
    if (record.shimPid > 0) record.shimIdentity = await shimIdentityOf(record.shimPid);
  }
  if (task !== undefined) {
    await task.shutdown(record.id, { now: true, timeoutMs: 2000 }).catch(() => undefined);
    await task.close();
  }
  // A daemon that never answered (cut short while starting) is found by its arguments, just now.
  const pids = record.shimPid > 0 ? [] : await findShimDaemons(record.namespace, record.id, eventsSocket);
  if (record.shimPid > 0) await killRecordedShim(record);
  for (const pid of pids) {
    if (!(await isProcessAlive(pid))) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  if (record.address !== '' || record.shimPid > 0 || pids.length > 0) {
    await runShimDelete({ shimBinary: record.shimBinary, namespace: record.namespace, address: eventsSocket, id: record.id, bundle: record.bundle });
  }
  const address = record.address !== '' ? record.address : `unix://${shimSocketPath(eventsSocket, record.namespace, record.id)}`;
  await removeContainerFiles({ ...record, address }, dir, { keepLog });
}
