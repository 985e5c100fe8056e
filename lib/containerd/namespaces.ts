import type { ContainerdCallOptions } from './middleware.js';
import type { RpcClients } from './rpc.js';

/** A containerd namespace. */
export interface NamespaceRecord {
  name: string;
  labels: Record<string, string>;
}

/** Namespaces: list, get, create, update labels, delete. */
export class NamespacesService {
  /** @internal Built by `ContainerdClient` over its raw gRPC clients, which are not public. */
  constructor(private readonly rpc: Pick<RpcClients, 'namespaces'>) {}

  /** Every namespace. */
  async list(options: ContainerdCallOptions = {}): Promise<NamespaceRecord[]> {
    const r = await this.rpc.namespaces.list({ filter: '' }, options);
    return r.namespaces.map((n) => ({ name: n.name, labels: { ...n.labels } }));
  }

  /** One namespace. @throws ERR_CONTAINERD_NOT_FOUND. */
  async get(name: string, options: ContainerdCallOptions = {}): Promise<NamespaceRecord> {
    const r = await this.rpc.namespaces.get({ name }, options);
    return { name: r.namespace?.name ?? name, labels: { ...(r.namespace?.labels ?? {}) } };
  }

  /** Creates a namespace. @throws ERR_CONTAINERD_ALREADY_EXISTS; ERR_CONTAINERD_INVALID_ARGUMENT for a bad name. */
  async create(name: string, labels: Record<string, string> = {}, options: ContainerdCallOptions = {}): Promise<NamespaceRecord> {
    const r = await this.rpc.namespaces.create({ namespace: { name, labels } }, options);
    return { name: r.namespace?.name ?? name, labels: { ...(r.namespace?.labels ?? {}) } };
  }

  /** Sets (or, with an empty value, removes) the given labels. @throws ERR_CONTAINERD_NOT_FOUND. */
  async setLabels(name: string, labels: Record<string, string>, options: ContainerdCallOptions = {}): Promise<NamespaceRecord> {
    const updateMask = Object.keys(labels).map((k) => `labels.${k}`);
    const r = await this.rpc.namespaces.update({ namespace: { name, labels }, updateMask }, options);
    return { name: r.namespace?.name ?? name, labels: { ...(r.namespace?.labels ?? {}) } };
  }

  /** Deletes an empty namespace. @throws ERR_CONTAINERD_NOT_FOUND; ERR_CONTAINERD_FAILED_PRECONDITION when not empty. */
  async delete(name: string, options: ContainerdCallOptions = {}): Promise<void> {
    await this.rpc.namespaces.delete({ name }, options);
  }
}
