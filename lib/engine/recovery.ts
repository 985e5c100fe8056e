import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { shortId } from '../util/debug.js';
import { logger, mountsUnder, unmount } from '../util/index.js';
import { isLive, type Lifecycle } from './lifecycle.js';
import { containerSnapshots } from './rootfs.js';

const log = logger('engine:recovery');

// A record this old without its spec.json is a create that died (a live create writes it within seconds, holding
// the container's lock only after the record exists, so the age is what tells the two apart).
const HALF_CREATED_AFTER_MS = 60_000;

/** What `Engine.open` found and did. */
export interface RecoveryReport {
  /** Containers whose tasks still run: reattached and watched. */
  running: string[];
  /** Containers whose tasks ended while no engine ran, with the exit code now recorded. */
  exited: Array<{ id: string; exitCode: number }>;
  /** Half-created containers (and names) a crash left, discarded with their snapshot and bundle. */
  discarded: string[];
}

/**
 * Reconciles the root after a restart: records of running tasks stay running (watched from now on); tasks that
 * ended while no engine ran get their real exit code and time (the backend's report: the shim kept the status);
 * tasks whose shim died get the cleanup's code; leftovers of cut-short creates and removes go, with their snapshot
 * and bundle; a task or snapshot no record claims is removed. @internal
 */
export async function recover(life: Lifecycle, signal?: AbortSignal): Promise<RecoveryReport> {
  const { backend, store, images } = life;
  const report: RecoveryReport = { running: [], exited: [], discarded: [] };
  for (const lost of backend.recovery.lost) life.lost.set(lost.id, lost);
  for (const leftover of await store.leftovers({ signal })) {
    if (leftover.kind === 'container') {
      await backend.removeTask(leftover.id, { force: true, signal });
      await images.releaseRootfs(leftover.id, { signal });
      report.discarded.push(leftover.id);
    } else {
      report.discarded.push(`/${leftover.name}`);
    }
    await store.discard(leftover, { signal });
  }
  const ids = new Set<string>();
  for (const listed of await store.list({ signal })) {
    const { id } = listed;
    ids.add(id);
    const dir = store.containerDir(id);
    const halfCreated = !existsSync(join(dir, 'spec.json')) && Date.now() - Date.parse(listed.created) > HALF_CREATED_AFTER_MS;
    if (existsSync(join(dir, 'create-rootfs')) || halfCreated) {
      // A create cut short: the rootfs it mounted for a moment, and the container itself when it has no spec.
      const gone = await store.withContainer(
        id,
        async (tx) => {
          for (const point of await mountsUnder(join(dir, 'create-rootfs'), { signal })) await unmount(point, { signal });
          if (!halfCreated || existsSync(join(dir, 'spec.json'))) return false;
          await images.releaseRootfs(id, { signal });
          await tx.remove();
          return true;
        },
        { signal },
      );
      if (gone) {
        ids.delete(id);
        report.discarded.push(id);
        continue;
      }
    }
    if (isLive(listed) && backend.recovery.running.includes(id)) {
      const task = await backend.loadTask(id, { signal });
      if (task !== undefined) {
        life.watch(task);
        report.running.push(id);
        continue;
      }
    }
    if (isLive(listed)) {
      const settled = await life.settle(id, signal);
      report.exited.push({ id, exitCode: settled?.state.exitCode ?? life.exits.get(id)?.code ?? 255 });
      continue;
    }
    // A task the record does not know of: a start cut short between creating the task and recording it.
    if ((await backend.loadTask(id, { signal })) !== undefined) {
      await store.withContainer(
        id,
        async (tx) => {
          if (!isLive(tx.record)) await backend.removeTask(id, { force: true, signal });
        },
        { signal },
      );
    }
  }
  for (const task of await backend.tasks({ signal })) {
    if (ids.has(task.id) || (await store.get(task.id).catch(() => undefined)) !== undefined) continue;
    log('removing task %s, which no container claims', shortId(task.id));
    await backend.removeTask(task.id, { force: true, signal });
  }
  for (const [id] of await containerSnapshots(images.snapshotter, { signal })) {
    if (ids.has(id) || (await store.get(id).catch(() => undefined)) !== undefined) continue;
    log('removing snapshot %s, which no container claims', shortId(id));
    await images.releaseRootfs(id, { signal }).catch((err: Error) => log('snapshot %s stays: %s', shortId(id), err.message));
  }
  return report;
}
