import type { TaskEvent } from '../oci/index.js';
import type { ShimContainer } from './shim-container.js';

/**
 * The `/tasks/exit` event of a container's init process, learned through its Wait rather than from the shim: what a
 * manager that does not serve the events socket yields, with the exit time as `timestamp`.
 */
export async function exitThroughWait(container: ShimContainer, namespace: string): Promise<TaskEvent> {
  const exit = await container.wait();
  const pid = await container.status().then(
    (s) => s.pid,
    () => 0,
  );
  return { type: 'exit', topic: '/tasks/exit', namespace, timestamp: exit.exitedAt, containerId: container.id, execId: undefined, pid, ...exit };
}
