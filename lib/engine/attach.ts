import type { Writable } from 'node:stream';
import type { ConsoleSize } from '../oci/index.js';
import { liveTask, notAllowed } from './container-ops.js';
import type { Lifecycle } from './lifecycle.js';

/**
 * The input side of a running container (docker attach's stdin and resize). Its output is its log: read it with
 * `Engine.logs(id, { follow: true })`, which also works while no process is attached.
 */
export interface ContainerInput {
  /**
   * Write end of the container's stdin (created with `stdin: true`, i.e. docker's `-i`); undefined without one.
   * Ending it does not close stdin inside: the backend keeps the FIFO open for later attaches, so call `closeStdin`.
   */
  readonly stdin: Writable | undefined;
  /** Sets the size of its terminal (created with `tty: true`). */
  resize(size: ConsoleSize, options?: { signal?: AbortSignal }): Promise<void>;
  /** Closes its stdin: the process reads EOF. */
  closeStdin(options?: { signal?: AbortSignal }): Promise<void>;
}

/**
 * The input of running container `reference` (docker attach). In the process that started it the stdin is the one
 * the start opened; in another one, the backend's reattached end (when the container still has a reader).
 * @throws ERR_NO_SUCH_CONTAINER; ERR_FAILED_PRECONDITION when it is not running. @internal
 */
export async function attachContainer(life: Lifecycle, reference: string, signal?: AbortSignal): Promise<ContainerInput> {
  const { record, task } = await liveTask(life, reference, signal);
  if (task === undefined) throw notAllowed(record, 'is not running');
  return {
    stdin: task.stdin,
    resize: (size, options = {}) => task.resize(size, options),
    closeStdin: (options = {}) => task.closeStdin(options),
  };
}
