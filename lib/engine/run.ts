import { hasCode } from '../errors/index.js';
import { shortId } from '../util/debug.js';
import { logger } from '../util/index.js';
import { createContainer, removeContainer, startContainer, stopContainer } from './container-ops.js';
import { waitContainer } from './container-wait.js';
import type { ContainerHandle, RunOptions, RunResult } from './engine-types.js';
import type { Lifecycle } from './lifecycle.js';
import { readContainerLog } from './log-reader.js';

const log = logger('engine:run');

/** Both streams of a container's whole log, apart. */
async function collectLog(path: string): Promise<{ stdout: string; stderr: string }> {
  const out = { stdout: [] as string[], stderr: [] as string[] };
  for await (const entry of readContainerLog(path)) out[entry.stream].push(entry.line);
  return { stdout: out.stdout.join(''), stderr: out.stderr.join('') };
}

async function removeQuietly(life: Lifecycle, id: string): Promise<void> {
  await removeContainer(life, id, true).catch((err: unknown) => {
    if (!hasCode(err, 'ERR_NO_SUCH_CONTAINER')) log('auto-removal of %s: %s', shortId(id), (err as Error).message);
  });
}

/**
 * docker run: create, start and (attached) wait for the exit, then read what it wrote from its log. On abort, the
 * container is stopped (its stop signal, SIGKILL after `stopTimeout`) and the call rejects with `signal.reason`.
 * With `autoRemove`, the container is removed on every path once its output is read. @internal
 */
export async function runContainer(life: Lifecycle, namespace: string, image: string, options: RunOptions): Promise<RunResult | ContainerHandle> {
  const { detach = false, signal, ...create } = options;
  const handle = await createContainer(life, namespace, image, { ...create, signal });
  const { id } = handle;
  const autoRemove = create.autoRemove === true;
  if (detach) {
    try {
      await startContainer(life, id, signal);
    } catch (err) {
      if (autoRemove) await removeQuietly(life, id);
      throw err;
    }
    return handle;
  }
  // The run removes the container itself, after reading its log: the exit's settle must not do it first.
  if (autoRemove) life.held.add(id);
  const onAbort = (): void => {
    stopContainer(life, id, { ...(create.stopTimeout === undefined ? {} : { timeout: create.stopTimeout }) }).catch((err: Error) =>
      log('stopping %s: %s', shortId(id), err.message),
    );
  };
  try {
    const exited = waitContainer(life, id, { condition: 'next-exit' });
    exited.catch(() => undefined);
    await startContainer(life, id, signal);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    const { exitCode } = await exited;
    signal?.throwIfAborted();
    return { id, exitCode, ...(await collectLog(life.backend.logPath(id))) };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    life.held.delete(id);
    if (autoRemove) await removeQuietly(life, id);
  }
}
