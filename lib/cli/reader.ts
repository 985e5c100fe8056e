import { hasCode } from '../errors/index.js';
import type { ContainerReader } from '../engine/container-reader.js';
import type { CliContext } from './command.js';
import { withEngine } from './engine.js';

/** What ps, inspect and logs read: a ContainerReader, or an Engine when one must settle an unrecorded exit. */
export type ContainerView = Pick<ContainerReader, 'list' | 'inspect' | 'logs'>;

/**
 * Runs `read` over the root's records without a backend (no shim, no lock: it works beside an attached `run`, and
 * loads none of the runtime). When a record said running but its process is gone, the exit is not recorded yet:
 * `read` runs again on an Engine, which records it (the real exit code), unless another process holds the root
 * (then it watches that container, and the reader's view stands).
 */
export async function readContainers<T>(ctx: CliContext, read: (view: ContainerView) => Promise<T>): Promise<T> {
  // container-reader.ts itself: the engine barrel would load the shim backend.
  const { ContainerReader } = await import('../engine/container-reader.js');
  const reader = await ContainerReader.open(ctx.root);
  const result = await read(reader);
  if (!reader.stale) return result;
  try {
    return await withEngine(ctx, (engine) => read(engine));
  } catch (err) {
    if (hasCode(err, 'ERR_ALREADY_EXISTS')) return result;
    throw err;
  }
}
