import { newError } from '../errors/index.js';
import type { Mount } from '../oci/mount.js';
import type { Platform } from '../oci/platform.js';
import type { Spec as RuntimeSpec } from '../oci/runtime-spec.js';
import type { StdioOptions } from '../oci/task.js';
import type { ContainerdClient } from './containerd-client.js';
import type { ContainerRecord } from './containers.js';
import type { AnyValue } from './convert.js';
import { isNotFound } from './errors.js';
import { resolveImage } from './image-rootfs.js';
import type { ContainerdCallOptions } from './middleware.js';
import { type ContainerdStdioOptions, ContainerdTask, openProcessIO } from './task.js';

/** Options of {@link createContainer} (`ContainerdClient.createContainer`). */
export interface CreateContainerOptions extends ContainerdCallOptions {
  /** The OCI runtime spec, ready (`root.path` `rootfs` when the rootfs is a snapshot). Required. */
  spec: RuntimeSpec;
  /** The image name recorded on the container; its top layer is the rootfs parent unless `snapshot.parent` says otherwise. */
  image?: string;
  /** Platform of `image` when it is an index. Default: this host's. */
  platform?: Platform | string;
  /**
   * The rootfs snapshot: prepared on `parent` (default: the image's chain ID) under `key` (default: the container
   * id), read-only as a view with `readonly`. `false`: no snapshot (the spec's `root.path` is a host path).
   * Default: a snapshot when there is an image or a parent.
   */
  snapshot?: false | { parent?: string; key?: string; readonly?: boolean };
  /** Default: the client's (`overlayfs`). */
  snapshotter?: string;
  /** Default `io.containerd.runc.v2`. */
  runtime?: { name: string; options?: AnyValue };
  labels?: Record<string, string>;
}

/** Options of {@link ContainerdContainer.newTask}. */
export interface NewTaskOptions extends ContainerdStdioOptions, ContainerdCallOptions {
  /**
   * The task's stdio. Default `{ stdout: 'pipe' }` (stderr the same, no stdin); `terminal` defaults to the spec's
   * `process.terminal` (with one, stdout carries it and there is no stderr).
   */
  stdio?: StdioOptions;
  /** Runtime-specific task options (e.g. runc options as an Any). */
  runtimeOptions?: AnyValue;
}

/** Options of {@link ContainerdContainer.delete}. */
export interface DeleteContainerOptions extends ContainerdCallOptions {
  /** Also remove the container's rootfs snapshot (ctr's `--rm`). Default true. */
  snapshot?: boolean;
}

/**
 * A container recorded in containerd, the Go client's `Container`: its record and spec, {@link newTask} to run
 * it, {@link task} to attach to its running task, {@link delete} with its snapshot.
 */
export class ContainerdContainer {
  /** @internal Made by `ContainerdClient.createContainer` / `loadContainer`. */
  constructor(
    private readonly client: ContainerdClient,
    readonly id: string,
    record: ContainerRecord,
    rootfs?: Mount[],
  ) {
    this.#record = record;
    this.#rootfs = rootfs;
  }

  // The record as created or loaded: its snapshot and spec do not change under a handle (only `update` could).
  readonly #record: ContainerRecord;
  // The mounts the snapshot was prepared with, when this handle prepared it: fixed for the snapshot's life, so the
  // first task needs no Mounts call. Later tasks ask again (the snapshot may have been replaced meanwhile).
  #rootfs: Mount[] | undefined;

  /** The container's record as containerd has it now. */
  info(options: ContainerdCallOptions = {}): Promise<ContainerRecord> {
    return this.client.containers.get(this.id, options);
  }

  /** The container's runtime spec. @throws ERR_CONTAINERD_INTERNAL when the record has none. */
  async spec(options: ContainerdCallOptions = {}): Promise<RuntimeSpec> {
    const { spec } = await this.info(options);
    if (spec === undefined) throw newError('ERR_CONTAINERD_INTERNAL', `container ${this.id} has no spec`);
    return spec;
  }

  /**
   * Creates the container's task (runc create through a new shim), with its rootfs mounted from the container's
   * snapshot and stdio as `options.stdio` says (`'pipe'` FIFOs by default, read on `task.stdout`/`task.stderr`).
   * Start it with `start()`.
   * @throws ERR_INVALID_ARGUMENT for bad stdio (`'log'` without `logUri`); ERR_CONTAINERD_ALREADY_EXISTS when the
   *   container has a task; ERR_CONTAINERD_NOT_FOUND; the runtime's errors (as ERR_CONTAINERD_*). The stdio made for
   *   it is closed when creation fails.
   */
  async newTask(options: NewTaskOptions = {}): Promise<ContainerdTask> {
    const { signal, runtimeOptions, stdio, io: given, fifoDir, logUri, ...call } = options;
    const record = this.#record;
    const terminal = stdio?.terminal ?? record.spec?.process?.terminal ?? false;
    // The stdio FIFOs are made while containerd answers for the mounts.
    const opening = openProcessIO(this.id, { ...stdio, terminal }, { io: given, fifoDir, logUri, signal });
    opening.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
    let rootfs = this.#rootfs;
    this.#rootfs = undefined;
    try {
      rootfs ??= record.snapshotKey === '' ? [] : await this.client.snapshots.mounts(record.snapshotKey, { snapshotter: record.snapshotter, signal });
    } catch (err) {
      await opening.then(
        (io) => io.close(),
        () => undefined,
      );
      throw err;
    }
    const io = await opening;
    try {
      const { pid } = await this.client.tasks.create(this.id, {
        ...call,
        rootfs,
        stdio: io.paths,
        terminal: io.terminal,
        signal,
        ...(runtimeOptions ? { options: runtimeOptions } : {}),
      });
      return new ContainerdTask(this.client.tasks, this.id, io, pid);
    } catch (err) {
      await io.close();
      throw err;
    }
  }

  /**
   * The container's existing task, without stdio of its own (its FIFOs belong to whoever created it).
   * @throws ERR_CONTAINERD_NOT_FOUND when it has none.
   */
  async task(options: ContainerdCallOptions = {}): Promise<ContainerdTask> {
    const state = await this.client.tasks.get(this.id, options);
    return new ContainerdTask(this.client.tasks, this.id, undefined, state.pid);
  }

  /**
   * Deletes the container record and, unless `snapshot: false`, its rootfs snapshot.
   * @throws ERR_CONTAINERD_FAILED_PRECONDITION while it has a task (delete the task first); ERR_CONTAINERD_NOT_FOUND.
   */
  async delete(options: DeleteContainerOptions = {}): Promise<void> {
    const { snapshot = true, ...call } = options;
    const record = this.#record;
    const task = await this.client.tasks.get(this.id, call).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (task !== undefined) {
      throw newError('ERR_CONTAINERD_FAILED_PRECONDITION', `container ${this.id} still has a task (${task.status}): delete the task first`, {
        details: { containerId: this.id, taskStatus: task.status },
      });
    }
    const removeSnapshot = async (): Promise<void> => {
      if (!snapshot || record.snapshotKey === '') return;
      await this.client.snapshots.remove(record.snapshotKey, { ...call, snapshotter: record.snapshotter }).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    };
    // Independent: the record only names the snapshot, and either may go first.
    await Promise.all([this.client.containers.delete(this.id, call), removeSnapshot()]);
  }
}

/**
 * Records container `id` and prepares its rootfs snapshot (the Go client's `NewContainer` with `WithNewSnapshot`).
 * The record is made first and names the snapshot, so containerd's GC never sees the snapshot unreferenced; when the
 * snapshot cannot be prepared (its key in use, an image not unpacked), the record is deleted again.
 * @throws ERR_INVALID_ARGUMENT for a bad id or no spec; ERR_CONTAINERD_NOT_FOUND for an unknown image or an image
 *   that is not unpacked into the snapshotter; ERR_CONTAINERD_ALREADY_EXISTS for an id or snapshot key in use.
 */
export async function createContainer(client: ContainerdClient, id: string, options: CreateContainerOptions): Promise<ContainerdContainer> {
  if (typeof id !== 'string' || id === '') throw newError('ERR_INVALID_ARGUMENT', 'id must be a non-empty string');
  const {
    spec,
    image,
    platform,
    snapshot,
    snapshotter = client.snapshots.defaultSnapshotter,
    runtime,
    labels,
    ...call
  } = options ?? ({} as CreateContainerOptions);
  if (typeof spec !== 'object' || spec === null) throw newError('ERR_INVALID_ARGUMENT', 'options.spec must be a runtime spec object');
  if (snapshot !== undefined && snapshot !== false && (typeof snapshot !== 'object' || snapshot === null)) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.snapshot must be false or an object');
  }
  call.signal?.throwIfAborted();
  let key = '';
  let parent = '';
  if (snapshot !== false && (image !== undefined || snapshot?.parent !== undefined)) {
    // An image without layers has no chain ID: its rootfs starts empty (parent '').
    parent = snapshot?.parent ?? (await resolveImage(client, image!, { ...call, ...(platform === undefined ? {} : { platform }) })).chainId ?? '';
    key = snapshot?.key ?? id;
  }
  // The record first, naming a snapshot that does not exist yet: from the moment the snapshot is prepared the record
  // references it, so containerd's GC keeps it without a lease (two round trips fewer than lease + prepare + create).
  const record = await client.containers.create(
    {
      id,
      spec,
      snapshotter: key === '' ? '' : snapshotter,
      snapshotKey: key,
      ...(image === undefined ? {} : { image }),
      ...(runtime ? { runtime } : {}),
      ...(labels ? { labels } : {}),
    },
    call,
  );
  let rootfs: Mount[] = [];
  if (key !== '') {
    try {
      if (typeof snapshot === 'object' && snapshot.readonly === true) rootfs = await client.snapshots.view(key, parent, { ...call, snapshotter });
      else rootfs = await client.snapshots.prepare(key, parent, { ...call, snapshotter });
    } catch (err) {
      await client.containers.delete(id).catch(() => undefined);
      throw err;
    }
  }
  return new ContainerdContainer(client, id, record, rootfs);
}
