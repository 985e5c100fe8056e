import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { Mount } from '../oci/index.js';
import { createFifo, logger, openFifo, writeJsonAtomic } from '../util/index.js';
import { RECORD_FILE } from './container-files.js';
import type { ShimRecord, ShimStdioRecord } from './manager-types.js';
import { encodeRuncOptions, type RuncShimOptions } from './runc-options.js';
import type { AttachedShim } from './shim-attach.js';
import { runShimStart } from './shim-binary.js';
import { undoShimStart } from './shim-cleanup.js';
import { ShimLogSink } from './shim-log.js';
import { shimIdentityOf } from './shim-process.js';
import { closeStdio, createStdio, type LoggerConfig, type StdioEnds, stdioUris } from './shim-stdio.js';
import { parseShimStartOutput } from './start-output.js';
import { ShimTaskClient } from './task-client.js';

const log = logger('shim:manager');

/** What launching a shim needs of its manager. */
export interface LaunchSettings {
  namespace: string;
  shimBinary: string;
  /** The manager's events socket path (the shims' `-address`). */
  eventsSocket: string;
  callTimeoutMs: number;
  shimLogMaxBytes: number;
  keepLogs: boolean;
  loggerConfig: LoggerConfig;
}

/** One container to launch. */
export interface LaunchRequest {
  id: string;
  bundle: string;
  /** `<stateDir>/containers/<id>`, existing, with no record in it. */
  dir: string;
  plan: ShimStdioRecord;
  runcOptions: RuncShimOptions;
  rootfs: Mount[];
}

/**
 * Starts a shim for the bundle and creates the container in it; the record is written as soon as a shim runs, so
 * that a crash before the end still lets the next manager clean up. The caller holds the container's lock. On
 * failure (or abort) everything made is undone and the error is rethrown.
 */
export async function launchShim(request: LaunchRequest, settings: LaunchSettings, signal: AbortSignal | undefined): Promise<AttachedShim> {
  const { id, bundle, dir, plan, runcOptions } = request;
  const record: ShimRecord = {
    version: 1,
    id,
    namespace: settings.namespace,
    bundle,
    address: '',
    shimPid: 0,
    shimBinary: settings.shimBinary,
    runcRoot: runcOptions.root ?? '',
    stdio: plan,
    createdAt: new Date().toISOString(),
  };
  let ends: StdioEnds = {};
  let logSocket: Socket | undefined;
  let task: ShimTaskClient | undefined;
  try {
    // The shim daemon opens <bundle>/log write-only and blocking: a reader must exist before `start`.
    const logPath = join(bundle, 'log');
    await createFifo(logPath, { mode: 0o700, signal });
    logSocket = await openFifo(logPath, 'rw', { signal });
    const logSink = new ShimLogSink(join(dir, 'shim.log'), id, settings.shimLogMaxBytes);
    logSink.attach(logSocket);
    ends = await createStdio(plan, signal);
    const binaryCall = { shimBinary: settings.shimBinary, namespace: settings.namespace, address: settings.eventsSocket, id, bundle, signal };
    const output = await runShimStart(binaryCall, encodeRuncOptions(runcOptions));
    record.address = parseShimStartOutput(output).address;
    await writeJsonAtomic(join(dir, RECORD_FILE), record, { signal });
    task = await ShimTaskClient.open(record.address, { namespace: settings.namespace, callTimeoutMs: settings.callTimeoutMs, connectTimeoutMs: 5000, signal });
    record.shimPid = (await task.connect(id, { signal })).shimPid;
    record.shimIdentity = await shimIdentityOf(record.shimPid, signal);
    const uris = stdioUris(plan, settings.loggerConfig);
    // The record gains the shim pid while runc creates the container; both must be done before going on (or
    // before undoing, which removes the record's dir).
    const [written, created] = await Promise.allSettled([
      writeJsonAtomic(join(dir, RECORD_FILE), record, { signal }),
      task.create({ id, bundle, ...uris, runcOptions, rootfs: request.rootfs }, { signal }),
    ]);
    if (created.status === 'rejected') throw created.reason;
    if (written.status === 'rejected') throw written.reason;
    log('created %s (shim pid %d, %s)', id, record.shimPid, record.address);
    return { record, task, stdio: ends, logSocket, logSink };
  } catch (err) {
    log('start of %s failed: %s', id, (err as Error).message);
    // The log FIFO keeps its reader until the shim is gone: a shim daemon opens it blocking, and would hang
    // in that open, unkillable by Shutdown, if the reader went first.
    await undoShimStart(record, dir, task, settings.eventsSocket, settings.keepLogs);
    closeStdio(ends);
    logSocket?.destroy();
    throw err;
  }
}
