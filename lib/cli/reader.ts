import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerReader } from '../engine/container-reader.js';
import { hasCode, newError } from '../errors/index.js';
import type { CliContext } from './command.js';
import { withEngine } from './engine.js';

/** What ps, inspect and logs read: a ContainerReader, or an Engine when one must settle an unrecorded exit. */
export type ContainerView = Pick<ContainerReader, 'list' | 'inspect' | 'logs'>;

const noSuch = (reference: string): Error => newError('ERR_NO_SUCH_CONTAINER', `no such container: ${reference}`, { details: { reference } });

// A root with no containers yet reads as empty, and reading it makes nothing (as `images` on a fresh root).
const EMPTY: ContainerView = {
  list: async () => [],
  inspect: async (reference) => Promise.reject(noSuch(reference)),
  // biome-ignore lint/correctness/useYield: an iterable that fails on its first step, as a missing container's logs do
  logs: async function* (reference) {
    throw noSuch(reference);
  },
};

/**
 * The root's container records, read without a backend (no shim, no lock: it works beside an attached `run` and
 * loads none of the runtime), and whether a record said running while its process was gone.
 */
export async function openReader(ctx: CliContext): Promise<{ view: ContainerView; stale: () => boolean }> {
  try {
    await access(join(ctx.root, 'containers'));
  } catch {
    return { view: EMPTY, stale: () => false };
  }
  // container-reader.ts itself: the engine barrel would load the shim backend.
  const { ContainerReader } = await import('../engine/container-reader.js');
  const reader = await ContainerReader.open(ctx.root);
  return { view: reader, stale: () => reader.stale };
}

/**
 * Runs `read` over {@link openReader}'s view. When a record said running but its process is gone, the exit is not
 * recorded yet: `read` runs again on an Engine, which records it (the real exit code), unless another process holds
 * the root (it then watches that container, and the reader's view stands).
 */
export async function readContainers<T>(ctx: CliContext, read: (view: ContainerView) => Promise<T>): Promise<T> {
  const reader = await openReader(ctx);
  const result = await read(reader.view);
  if (!reader.stale()) return result;
  try {
    return await withEngine(ctx, (engine) => read(engine));
  } catch (err) {
    if (hasCode(err, 'ERR_ALREADY_EXISTS')) return result;
    throw err;
  }
}
