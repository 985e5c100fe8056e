import { newError } from '../errors/index.js';
import type { Container as PbContainer } from '../gen/containerd/services/containers/v1/containers.js';
import type { Spec as RuntimeSpec } from '../oci/runtime-spec.js';
import { type AnyValue, fromAny, fromDate, jsonAny, SPEC_TYPE_URL, toAny, toDate } from './convert.js';
import type { ContainerdCallOptions } from './middleware.js';
import type { RpcClients } from './rpc.js';

/** The default runtime, as ctr's. */
export const DEFAULT_RUNTIME = 'io.containerd.runc.v2';

/** A container record (metadata only; the process is a task). */
export interface ContainerRecord {
  id: string;
  labels: Record<string, string>;
  /** The image name it was created from, if any. */
  image: string;
  runtime: { name: string; options?: AnyValue };
  /** The OCI runtime spec (decoded from its JSON Any), when it carries one. */
  spec?: RuntimeSpec;
  snapshotter: string;
  snapshotKey: string;
  createdAt?: Date;
  updatedAt?: Date;
  extensions: Record<string, AnyValue>;
}

/** What {@link ContainersService.create} takes. */
export interface NewContainer {
  id: string;
  /** The OCI runtime spec; sent as JSON in an Any. */
  spec: RuntimeSpec;
  /** Default `io.containerd.runc.v2`. */
  runtime?: { name: string; options?: AnyValue };
  image?: string;
  labels?: Record<string, string>;
  /** The snapshotter holding the rootfs snapshot, e.g. `overlayfs`. */
  snapshotter?: string;
  /** The key of the rootfs snapshot (prepared beforehand). */
  snapshotKey?: string;
  extensions?: Record<string, AnyValue>;
}

function decodeSpec(any: AnyValue | undefined): RuntimeSpec | undefined {
  if (any === undefined || any.value.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.from(any.value).toString('utf8')) as RuntimeSpec;
  } catch (err) {
    throw newError('ERR_CONTAINERD_INTERNAL', `container spec of type ${any.typeUrl} is not JSON`, { cause: err });
  }
}

/** @internal */
export function toContainer(c: PbContainer | undefined): ContainerRecord {
  if (c === undefined) throw newError('ERR_CONTAINERD_INTERNAL', 'containerd answered without a container');
  const runtimeOptions = toAny(c.runtime?.options);
  const extensions: Record<string, AnyValue> = {};
  for (const [k, v] of Object.entries(c.extensions)) extensions[k] = toAny(v)!;
  return {
    id: c.id,
    labels: { ...c.labels },
    image: c.image,
    runtime: { name: c.runtime?.name ?? '', ...(runtimeOptions ? { options: runtimeOptions } : {}) },
    spec: decodeSpec(toAny(c.spec)),
    snapshotter: c.snapshotter,
    snapshotKey: c.snapshotKey,
    createdAt: toDate(c.createdAt),
    updatedAt: toDate(c.updatedAt),
    extensions,
  };
}

function fromContainer(c: NewContainer): PbContainer {
  const extensions: PbContainer['extensions'] = {};
  for (const [k, v] of Object.entries(c.extensions ?? {})) extensions[k] = fromAny(v)!;
  const now = fromDate(new Date());
  return {
    id: c.id,
    labels: { ...(c.labels ?? {}) },
    image: c.image ?? '',
    runtime: { name: c.runtime?.name ?? DEFAULT_RUNTIME, options: fromAny(c.runtime?.options) },
    spec: fromAny(jsonAny(SPEC_TYPE_URL, c.spec)),
    snapshotter: c.snapshotter ?? '',
    snapshotKey: c.snapshotKey ?? '',
    createdAt: now,
    updatedAt: now,
    extensions,
    sandbox: '',
  };
}

/** Container records: create, get, list, update, delete. */
export class ContainersService {
  /** @internal Built by `ContainerdClient` over its raw gRPC clients, which are not public. */
  constructor(private readonly rpc: Pick<RpcClients, 'containers'>) {}

  /**
   * Records a container. @throws ERR_INVALID_ARGUMENT without an id or spec; ERR_CONTAINERD_ALREADY_EXISTS;
   * ERR_CONTAINERD_INVALID_ARGUMENT.
   */
  async create(container: NewContainer, options: ContainerdCallOptions = {}): Promise<ContainerRecord> {
    if (typeof container?.id !== 'string' || container.id === '') throw newError('ERR_INVALID_ARGUMENT', 'container.id must be a non-empty string');
    if (typeof container.spec !== 'object' || container.spec === null) throw newError('ERR_INVALID_ARGUMENT', 'container.spec must be a runtime spec object');
    const r = await this.rpc.containers.create({ container: fromContainer(container) }, options);
    return toContainer(r.container);
  }

  /** One container. @throws ERR_CONTAINERD_NOT_FOUND. */
  async get(id: string, options: ContainerdCallOptions = {}): Promise<ContainerRecord> {
    const r = await this.rpc.containers.get({ id }, options);
    return toContainer(r.container);
  }

  /** Containers matching any of `filters` (e.g. `labels."a"==b`); all when empty. */
  async list(filters: string[] = [], options: ContainerdCallOptions = {}): Promise<ContainerRecord[]> {
    const r = await this.rpc.containers.list({ filters }, options);
    return r.containers.map(toContainer);
  }

  /**
   * Updates the given fields of container `id` (labels are merged key by key; an empty value removes one).
   * @throws ERR_CONTAINERD_NOT_FOUND.
   */
  async update(
    id: string,
    changes: { labels?: Record<string, string>; image?: string; spec?: RuntimeSpec; snapshotKey?: string },
    options: ContainerdCallOptions = {},
  ): Promise<ContainerRecord> {
    const current = await this.rpc.containers.get({ id }, options);
    const container = { ...current.container! };
    const updateMask: string[] = [];
    if (changes.labels) {
      container.labels = { ...changes.labels };
      updateMask.push(...Object.keys(changes.labels).map((k) => `labels.${k}`));
    }
    if (changes.image !== undefined) {
      container.image = changes.image;
      updateMask.push('image');
    }
    if (changes.spec !== undefined) {
      container.spec = fromAny(jsonAny(SPEC_TYPE_URL, changes.spec));
      updateMask.push('spec');
    }
    if (changes.snapshotKey !== undefined) {
      container.snapshotKey = changes.snapshotKey;
      updateMask.push('snapshotkey');
    }
    const r = await this.rpc.containers.update({ container, updateMask }, options);
    return toContainer(r.container);
  }

  /** Deletes the record (not its snapshot). @throws ERR_CONTAINERD_NOT_FOUND. */
  async delete(id: string, options: ContainerdCallOptions = {}): Promise<void> {
    await this.rpc.containers.delete({ id }, options);
  }
}
