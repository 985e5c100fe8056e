import { hasCode, newError } from '../errors/index.js';
import type { LinuxResources, Task } from '../oci/index.js';
import { applySpecOpts, type SpecOpt, withCPUShares, withCPUs, withMemoryLimit, withPidsLimit } from '../runtime/index.js';
import { shortId } from '../util/debug.js';
import { logger, sleep } from '../util/index.js';
import { readContainerConfig, saveContainerConfig, stopSignalOf, writeContainerConfig } from './container-config.js';
import { type ContainerResources, type CreateOptions, validateCreateOptions } from './create-options.js';
import type { ContainerHandle, EngineCreateOptions, StopOptions } from './engine-types.js';
import { isLive, type Lifecycle, toSignal } from './lifecycle.js';
import type { ContainerRecord } from './record.js';

const log = logger('engine');

// The container verbs that change state: each one under the container's lock, except the waits of `stop` (the
// exit is recorded by `settle`, which takes the lock itself).

/** Creates a container (docker create): image ensured, record, snapshot, spec written. @internal */
export async function createContainer(life: Lifecycle, namespace: string, image: string, options: EngineCreateOptions): Promise<ContainerHandle> {
  const { signal, onProgress, ...config } = options;
  validateCreateOptions(config);
  if (typeof image !== 'string' || image === '') throw newError('ERR_INVALID_ARGUMENT', 'image must be a non-empty reference');
  const ready = await life.images.ensureImage(image, {
    pull: config.pull,
    signal,
    ...(config.platform === undefined ? {} : { platform: config.platform }),
    ...(onProgress === undefined ? {} : { onProgress }),
  });
  if (ready.pulled) await life.publish({ Type: 'image', Action: 'pull', Actor: { ID: ready.name, Attributes: { name: ready.name } } });
  const record = await life.store.create(
    {
      ...(config.name === undefined ? {} : { name: config.name }),
      image: { name: ready.name, id: ready.manifest.config.digest, digest: ready.manifestDescriptor.digest },
      config: stripName(config),
    },
    { signal },
  );
  const { id } = record;
  try {
    await life.store.withContainer(id, async () => {
      const rootfs = await life.images.prepareRootfs(id, ready.chainId, { signal });
      await writeContainerConfig(life.store.containerDir(id), id, { image: ready.config, chainId: ready.chainId, options: config, rootfs, namespace, signal });
    });
  } catch (err) {
    await life.images.releaseRootfs(id).catch((e: Error) => log('snapshot of failed create %s: %s', shortId(id), e.message));
    await life.store.remove(id).catch((e: Error) => log('record of failed create %s: %s', shortId(id), e.message));
    throw err;
  }
  await life.containerEvent(record, 'create');
  life.changed(id);
  return { id, name: record.name };
}

function stripName(config: CreateOptions): CreateOptions {
  const { name: _name, ...rest } = config;
  return rest;
}

/** Starts a created or exited container (docker start); a running one is left as it is. @internal */
export async function startContainer(life: Lifecycle, reference: string, signal?: AbortSignal): Promise<ContainerRecord> {
  const started = await life.store.withContainer(
    reference,
    async (tx) => {
      const record = await life.settleLocked(tx);
      if (record.state.status === 'running') return undefined;
      if (record.state.status === 'paused') throw notAllowed(record, 'is paused: unpause it instead');
      const { id } = record;
      const dir = life.store.containerDir(id);
      const saved = await readContainerConfig(dir, id);
      if ((await life.backend.loadTask(id)) !== undefined) await life.backend.removeTask(id, { force: true, signal });
      const rootfs = await life.images.prepareRootfs(id, saved.chainId, { signal });
      const stdio = { stdout: 'log' as const, terminal: record.config.tty === true, stdin: record.config.stdin === true };
      let task: Task;
      let pid: number;
      // Taken before the start: the shim's exit time of a short-lived process must not come before it.
      let startedAt: string;
      try {
        task = await life.backend.createTask({ id, spec: saved.spec, rootfs, stdio, signal });
        startedAt = new Date().toISOString();
        pid = await task.start({ signal });
      } catch (err) {
        await life.backend.removeTask(id, { force: true }).catch((e: Error) => log('task of failed start %s: %s', shortId(id), e.message));
        await tx
          .update((r) => {
            r.state = {
              ...r.state,
              status: r.state.status === 'created' ? 'created' : 'exited',
              error: (err as Error).message,
              exitCode: r.state.status === 'created' ? 0 : 128,
            };
          })
          .catch(() => undefined);
        throw err;
      }
      const next = await tx.update((r) => {
        r.state = { ...r.state, status: 'running', pid, exitCode: 0, startedAt, error: '', oomKilled: false };
      });
      life.watch(task);
      return next;
    },
    { signal },
  );
  const record = started ?? (await life.store.resolve(reference));
  if (started !== undefined) {
    await life.containerEvent(started, 'start');
    life.changed(started.id);
  }
  return record;
}

/** ERR_FAILED_PRECONDITION for a container in the wrong state. @internal */
export function notAllowed(record: ContainerRecord, why: string): Error {
  return newError('ERR_FAILED_PRECONDITION', `container ${record.name} ${why}`, { details: { id: record.id, status: record.state.status } });
}

/** The running task of `reference` after settling it, or why not. @internal */
export async function liveTask(
  life: Lifecycle,
  reference: string,
  signal?: AbortSignal,
): Promise<{ record: ContainerRecord; task: Task } | { record: ContainerRecord; task: undefined }> {
  const settled = await life.settle(reference, signal);
  const record = settled ?? (await life.store.resolve(reference, { signal }));
  if (!isLive(record)) return { record, task: undefined };
  const task = await life.backend.loadTask(record.id, { signal });
  return { record, task };
}

/** Resolves true once `task` exited, false after `seconds` (never with -1). */
async function exitedWithin(task: Task, seconds: number, signal?: AbortSignal): Promise<boolean> {
  const exited = task.wait({ signal }).then(() => true);
  if (seconds < 0) return exited;
  const timeout = new AbortController();
  const timer = sleep(seconds * 1000, timeout.signal).then(
    () => false,
    () => false,
  );
  try {
    return await Promise.race([exited, timer]);
  } finally {
    timeout.abort();
  }
}

/**
 * Stops a running container (docker stop): its stop signal, SIGKILL after the timeout, then the exit is recorded.
 * A container that is not running is left as it is. @internal
 */
export async function stopContainer(life: Lifecycle, reference: string, options: StopOptions = {}): Promise<void> {
  const { signal } = options;
  const { record, task } = await liveTask(life, reference, signal);
  if (task === undefined) {
    if (isLive(record)) await life.settle(record.id, signal);
    return;
  }
  const timeout = options.timeout ?? record.config.stopTimeout ?? 10;
  if (!Number.isSafeInteger(timeout) || timeout < -1) throw newError('ERR_INVALID_ARGUMENT', 'options.timeout must be an integer >= -1');
  const saved = await readContainerConfig(life.store.containerDir(record.id), record.id);
  if (record.state.status === 'paused') await unpauseContainer(life, record.id, signal).catch(() => undefined);
  await task.kill(toSignal(stopSignalOf(saved.spec))).catch(ignoreGone);
  if (!(await exitedWithin(task, timeout, signal))) {
    log('%s ignored its stop signal for %d s: SIGKILL', shortId(record.id), timeout);
    await task.kill('SIGKILL', { all: true }).catch(ignoreGone);
    await task.wait({ signal });
  }
  await life.settle(record.id, signal);
}

function ignoreGone(err: unknown): void {
  if (hasCode(err, 'ERR_TTRPC_NOT_FOUND') || hasCode(err, 'ERR_TTRPC_FAILED_PRECONDITION')) return;
  throw err;
}

/** Sends a signal to a running container (docker kill, default SIGKILL; after SIGKILL, waits for the exit). @internal */
export async function killContainer(life: Lifecycle, reference: string, sig: string | number = 'SIGKILL', signal?: AbortSignal): Promise<void> {
  const which = toSignal(sig);
  const { record, task } = await liveTask(life, reference, signal);
  if (task === undefined) throw notAllowed(record, 'is not running');
  await task.kill(which).catch(ignoreGone);
  if (which === 'SIGKILL' || which === 9) {
    if (record.state.status === 'paused') await task.resume().catch(() => undefined);
    await task.wait({ signal });
    await life.settle(record.id, signal);
  }
}

/** Pauses (freezes) a running container, or thaws a paused one. @internal */
export async function setPaused(life: Lifecycle, reference: string, paused: boolean, signal?: AbortSignal): Promise<void> {
  const changed = await life.store.withContainer(
    reference,
    async (tx) => {
      const record = await life.settleLocked(tx);
      const want = paused ? 'running' : 'paused';
      if (record.state.status !== want) throw notAllowed(record, paused ? 'is not running' : 'is not paused');
      const task = await life.backend.loadTask(record.id, { signal });
      if (task === undefined) throw notAllowed(record, 'has no task');
      if (paused) await task.pause({ signal });
      else await task.resume({ signal });
      return tx.update((r) => {
        r.state.status = paused ? 'paused' : 'running';
      });
    },
    { signal },
  );
  await life.containerEvent(changed, paused ? 'pause' : 'unpause');
  life.changed(changed.id);
}

/** @internal */
export function unpauseContainer(life: Lifecycle, reference: string, signal?: AbortSignal): Promise<void> {
  return setPaused(life, reference, false, signal);
}

/** Renames a container (docker rename). @internal */
export async function renameContainer(life: Lifecycle, reference: string, newName: string, signal?: AbortSignal): Promise<void> {
  const before = await life.store.resolve(reference, { signal });
  const after = await life.store.rename(before.id, newName, { signal });
  if (after.name !== before.name) await life.containerEvent(after, 'rename', { oldName: `/${before.name}` });
}

/** The cgroup limits of `resources` as the runtime spec has them. */
async function linuxResources(resources: ContainerResources): Promise<LinuxResources> {
  const opts: SpecOpt[] = [];
  if (resources.memory !== undefined) opts.push(withMemoryLimit(resources.memory));
  if (resources.cpus !== undefined) opts.push(withCPUs(resources.cpus));
  if (resources.cpuShares !== undefined) opts.push(withCPUShares(resources.cpuShares));
  if (resources.pidsLimit !== undefined) opts.push(withPidsLimit(resources.pidsLimit));
  const spec = await applySpecOpts({ ociVersion: '1.0.2', linux: { resources: {} } }, opts, { clampRlimits: false });
  const out: LinuxResources = { ...spec.linux?.resources };
  if (resources.memorySwap !== undefined) out.memory = { ...out.memory, swap: resources.memorySwap };
  if (resources.cpusetCpus !== undefined) out.cpu = { ...out.cpu, cpus: resources.cpusetCpus };
  return out;
}

/**
 * Changes a container's cgroup limits (docker update): at once in its running task, and in its record and spec for
 * its next starts. @internal
 */
export async function updateContainer(life: Lifecycle, reference: string, resources: ContainerResources, signal?: AbortSignal): Promise<void> {
  validateCreateOptions({ resources });
  const limits = await linuxResources(resources);
  await life.store.withContainer(
    reference,
    async (tx) => {
      const record = await life.settleLocked(tx);
      const merged = { ...record.config.resources, ...resources };
      validateCreateOptions({ resources: merged });
      if (isLive(record)) await (await life.backend.loadTask(record.id, { signal }))?.update(limits, { signal });
      const dir = life.store.containerDir(record.id);
      const saved = await readContainerConfig(dir, record.id);
      const linux = (saved.spec.linux ??= {});
      const current = linux.resources ?? {};
      linux.resources = {
        ...current,
        memory: { ...current.memory, ...limits.memory },
        cpu: { ...current.cpu, ...limits.cpu },
        ...(limits.pids ? { pids: limits.pids } : {}),
      };
      await saveContainerConfig(dir, saved);
      await tx.update((r) => {
        r.config.resources = merged;
      });
    },
    { signal },
  );
}

/** Removes a container (docker rm); a running one only with `force`. @internal */
export async function removeContainer(life: Lifecycle, reference: string, force: boolean, signal?: AbortSignal): Promise<void> {
  await life.store
    .withContainer(
      reference,
      async (tx) => {
        const record = await life.settleLocked(tx);
        if (isLive(record) && !force) {
          throw notAllowed(record, `is ${record.state.status}: stop it before removing it, or force the removal`);
        }
        await life.removeLocked(tx);
      },
      { signal },
    )
    .catch((err: unknown) => {
      // An auto-removed container that exited meanwhile was removed by the settle: what was asked is done.
      if (!hasCode(err, 'ERR_NO_SUCH_CONTAINER') || !life.exits.has(String((err as { details?: { reference?: string } }).details?.reference))) throw err;
    });
}
