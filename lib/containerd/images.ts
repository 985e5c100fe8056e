import { newError } from '../errors/index.js';
import type { Image as PbImage } from '../gen/containerd/services/images/v1/images.js';
import type { Descriptor } from '../oci/descriptor.js';
import { fromDescriptor, toDate, toDescriptor } from './convert.js';
import type { ContainerdCallOptions } from './middleware.js';
import type { RpcClients } from './rpc.js';

/** An image record: a name pointing at a root descriptor in containerd's content store. */
export interface ImageRecord {
  name: string;
  labels: Record<string, string>;
  target: Descriptor;
  createdAt?: Date;
  updatedAt?: Date;
}

/** @internal */
export function toImage(i: PbImage | undefined): ImageRecord {
  const target = toDescriptor(i?.target);
  if (i === undefined || target === undefined) throw newError('ERR_CONTAINERD_INTERNAL', 'containerd answered without an image target');
  return { name: i.name, labels: { ...i.labels }, target, createdAt: toDate(i.createdAt), updatedAt: toDate(i.updatedAt) };
}

/** Image records: list, get, create, update, delete. */
export class ImagesService {
  /** @internal Built by `ContainerdClient` over its raw gRPC clients, which are not public. */
  constructor(private readonly rpc: Pick<RpcClients, 'images'>) {}

  /** Images matching any of `filters` (e.g. `name==docker.io/library/busybox:latest`); all when empty. */
  async list(filters: string[] = [], options: ContainerdCallOptions = {}): Promise<ImageRecord[]> {
    const r = await this.rpc.images.list({ filters }, options);
    return r.images.map(toImage);
  }

  /** One image. @throws ERR_CONTAINERD_NOT_FOUND. */
  async get(name: string, options: ContainerdCallOptions = {}): Promise<ImageRecord> {
    const r = await this.rpc.images.get({ name }, options);
    return toImage(r.image);
  }

  /**
   * Records an image; the target's content should already be in the content store.
   * @throws ERR_CONTAINERD_ALREADY_EXISTS; ERR_INVALID_ARGUMENT for an empty name.
   */
  async create(image: { name: string; target: Descriptor; labels?: Record<string, string> }, options: ContainerdCallOptions = {}): Promise<ImageRecord> {
    if (typeof image?.name !== 'string' || image.name === '') throw newError('ERR_INVALID_ARGUMENT', 'image.name must be a non-empty string');
    const r = await this.rpc.images.create(
      { image: { name: image.name, labels: { ...(image.labels ?? {}) }, target: fromDescriptor(image.target), createdAt: undefined, updatedAt: undefined } },
      options,
    );
    return toImage(r.image);
  }

  /**
   * Updates image `name`: its target and/or the given labels (merged key by key). @throws ERR_CONTAINERD_NOT_FOUND.
   */
  async update(name: string, changes: { target?: Descriptor; labels?: Record<string, string> }, options: ContainerdCallOptions = {}): Promise<ImageRecord> {
    const updateMask: string[] = [];
    if (changes.target) updateMask.push('target');
    if (changes.labels) updateMask.push(...Object.keys(changes.labels).map((k) => `labels.${k}`));
    const current = changes.target ? undefined : (await this.rpc.images.get({ name }, options)).image?.target;
    const r = await this.rpc.images.update(
      {
        image: {
          name,
          labels: { ...(changes.labels ?? {}) },
          target: changes.target ? fromDescriptor(changes.target) : current,
          createdAt: undefined,
          updatedAt: undefined,
        },
        updateMask,
      },
      options,
    );
    return toImage(r.image);
  }

  /** Deletes image `name`; `sync` waits for garbage collection. @throws ERR_CONTAINERD_NOT_FOUND. */
  async delete(name: string, options: ContainerdCallOptions & { sync?: boolean } = {}): Promise<void> {
    const { sync = false, ...call } = options;
    await this.rpc.images.delete({ name, sync }, call);
  }
}
