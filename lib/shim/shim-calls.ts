import type { Socket } from 'node:net';
import { newError } from '../errors/index.js';
import type { ExitStatus, ProcessState, TaskCallOptions } from '../oci/index.js';
import { logger } from '../util/index.js';
import type { ShimTaskClient } from './task-client.js';
import type { ShimCallOptions, TaskState } from './task-types.js';

// What ShimContainer and ShimExec share: the mapping of their calls onto the shim task client.

const log = logger('shim:container');

/** The shim call options of a task call. */
export const call = (options: TaskCallOptions): ShimCallOptions => (options.signal === undefined ? {} : { signal: options.signal });

/** Makes ending `stdin` also close the process's stdin in the shim. */
export function attachCloseStdin(stdin: Socket | undefined, closeStdin: () => Promise<void>): void {
  // Ending our write end is EOF already; CloseIO also tells the shim to close the process's side.
  stdin?.once('finish', () => void closeStdin().catch((err: Error) => log('closeStdin: %s', err.message)));
  stdin?.on('error', (err) => log('stdin: %s', err.message));
}

/** The process state of the shared vocabulary (its stdio paths and bundle stay with ShimTaskClient.state). */
export const processState = (s: TaskState): ProcessState => ({ id: s.id, execId: s.execId, pid: s.pid, status: s.status, terminal: s.terminal, exit: s.exit });

/**
 * The shim's Delete. The shim refuses to delete a live process with an UNKNOWN status; the shared vocabulary calls
 * that a FailedPrecondition (ERR_FAILED_PRECONDITION), as containerd's client does. Only a failed delete costs the
 * extra State call.
 */
export async function deleteStopped(task: ShimTaskClient, id: string, options: ShimCallOptions & { execId?: string }): Promise<ExitStatus & { pid: number }> {
  try {
    return await task.delete(id, options);
  } catch (err) {
    if (options.signal?.aborted) throw err;
    const state = await task.state(id, options).catch(() => undefined);
    if (state === undefined || state.status === 'stopped' || state.status === 'created') throw err;
    const what = options.execId === undefined ? `container ${id}` : `exec ${options.execId} of ${id}`;
    throw newError('ERR_FAILED_PRECONDITION', `${what} is ${state.status}; it must be stopped before it is deleted`, {
      cause: err,
      details: { id, execId: options.execId, status: state.status },
    });
  }
}
