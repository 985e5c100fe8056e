import { join } from 'node:path';
import { isContainerId } from './ids.js';
import type { RecordFiles } from './record-files.js';

/** Something a crash left behind in a container store; see `ContainerStore.leftovers()`. */
export type Leftover =
  /** A container directory without a readable record (a create or remove cut short), or with a corrupt one. */
  | { kind: 'container'; id: string; path: string; reason: string }
  /** A name file that no record with that name backs (a create or rename cut short), or that holds garbage. */
  | { kind: 'name'; name: string; holder: string; path: string };

/** @internal The leftovers no live process is working on, each judged under its container's lock. */
export async function findLeftovers(files: RecordFiles, signal: AbortSignal | undefined): Promise<Leftover[]> {
  const found: Leftover[] = [];
  for (const id of await files.ids()) {
    signal?.throwIfAborted();
    const reason = await files.ifIdle(id, signal, () => files.dirProblem(id));
    if (reason !== undefined) found.push({ kind: 'container', id, path: files.containerDir(id), reason });
  }
  for (const name of await files.names.names()) {
    signal?.throwIfAborted();
    const holder = await files.names.holder(name);
    if (holder === undefined) continue;
    // Checked again under the lock: a remove that held it meanwhile has released the name with the record.
    const stale = isContainerId(holder)
      ? await files.ifIdle(holder, signal, async () => (await files.names.holder(name)) === holder && !(await files.backs(holder, name)))
      : true;
    if (stale === true) found.push({ kind: 'name', name, holder, path: join(files.names.dir, name) });
  }
  return found;
}

/** @internal Removes `leftover` if, checked again under the lock, it still is one. */
export async function discardLeftover(files: RecordFiles, leftover: Leftover, signal: AbortSignal | undefined): Promise<void> {
  if (leftover.kind === 'container') {
    const { id } = leftover;
    await files.ifIdle(id, signal, async () => {
      if ((await files.dirProblem(id)) !== undefined) await files.discardDir(id);
    });
    return;
  }
  const { name, holder } = leftover;
  if (!isContainerId(holder)) {
    await files.names.removeIf(name, holder);
    return;
  }
  await files.ifIdle(holder, signal, async () => {
    if (!(await files.backs(holder, name))) await files.names.release(name, holder);
  });
}
