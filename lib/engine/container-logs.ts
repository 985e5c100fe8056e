import type { EngineLogsOptions } from './engine-types.js';
import type { RecordView } from './inspect.js';
import { isLive } from './lifecycle.js';
import type { LogEntry } from './log-lines.js';
import { readContainerLog } from './log-reader.js';

const SETTLE_EVERY = 10;

/** The name of a container's log in its directory (`<root>/containers/<id>/container.log`), where the shim backend has it written. */
export const CONTAINER_LOG_NAME = 'container.log';

/**
 * docker logs: the container's log through `readContainerLog`; a follower ends once the container is no longer
 * running (checked on the record, settled now and then so an exit nobody watched is seen). @internal
 */
export async function* containerLogs(life: RecordView, reference: string, options: EngineLogsOptions = {}): AsyncGenerator<LogEntry> {
  const { signal, follow = false, ...rest } = options;
  const { id } = await life.store.resolve(reference, { signal });
  let checks = 0;
  const stopped = async (): Promise<boolean> => {
    const record = checks++ % SETTLE_EVERY === 0 ? await life.settle(id) : await life.store.get(id).catch(() => undefined);
    return record === undefined || !isLive(record);
  };
  yield* readContainerLog(life.backend.logPath(id), { ...rest, follow, ...(signal === undefined ? {} : { signal }), ...(follow ? { stopWhen: stopped } : {}) });
}
