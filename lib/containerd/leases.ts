import { randomBytes } from 'node:crypto';
import { toDate } from './convert.js';
import type { ContainerdCallOptions } from './middleware.js';
import type { RpcClients } from './rpc.js';

/** The label that makes containerd's GC drop a lease after this RFC 3339 time. */
export const LEASE_EXPIRE_LABEL = 'containerd.io/gc.expire';

/** A lease: while it exists, everything attached to it survives garbage collection. */
export interface LeaseRecord {
  id: string;
  createdAt?: Date;
  labels: Record<string, string>;
}

/** A resource attached to a lease. `type` is `content`, `ingests` or `snapshots/<snapshotter>`. */
export interface LeaseResource {
  id: string;
  type: string;
}

/** Options of {@link LeasesService.create}. */
export interface CreateLeaseOptions extends ContainerdCallOptions {
  /** Default: `<ms since epoch>-<random hex>`. */
  id?: string;
  labels?: Record<string, string>;
  /** Sets {@link LEASE_EXPIRE_LABEL} this many ms from now. Default: no expiry. */
  expiresInMs?: number;
}

/** Leases: create, list, delete, and the resources attached to one. */
export class LeasesService {
  /** @internal Built by `ContainerdClient` over its raw gRPC clients, which are not public. */
  constructor(private readonly rpc: Pick<RpcClients, 'leases'>) {}

  /** Creates a lease. @throws ERR_CONTAINERD_ALREADY_EXISTS when the id is taken. */
  async create(options: CreateLeaseOptions = {}): Promise<LeaseRecord> {
    const { id = `${Date.now()}-${randomBytes(6).toString('hex')}`, labels = {}, expiresInMs, ...call } = options;
    const all = { ...labels };
    if (expiresInMs !== undefined) all[LEASE_EXPIRE_LABEL] = new Date(Date.now() + expiresInMs).toISOString();
    const r = await this.rpc.leases.create({ id, labels: all }, call);
    return { id: r.lease?.id ?? id, createdAt: toDate(r.lease?.createdAt), labels: { ...(r.lease?.labels ?? {}) } };
  }

  /** Leases matching any of `filters` (all when empty). */
  async list(filters: string[] = [], options: ContainerdCallOptions = {}): Promise<LeaseRecord[]> {
    const r = await this.rpc.leases.list({ filters }, options);
    return r.leases.map((l) => ({ id: l.id, createdAt: toDate(l.createdAt), labels: { ...l.labels } }));
  }

  /** Deletes a lease; `sync` waits for the garbage collection it allows. @throws ERR_CONTAINERD_NOT_FOUND. */
  async delete(id: string, options: ContainerdCallOptions & { sync?: boolean } = {}): Promise<void> {
    const { sync = false, ...call } = options;
    await this.rpc.leases.delete({ id, sync }, call);
  }

  /** Attaches a resource to lease `id`. */
  async addResource(id: string, resource: LeaseResource, options: ContainerdCallOptions = {}): Promise<void> {
    await this.rpc.leases.addResource({ id, resource }, options);
  }

  /** Detaches a resource from lease `id`. */
  async deleteResource(id: string, resource: LeaseResource, options: ContainerdCallOptions = {}): Promise<void> {
    await this.rpc.leases.deleteResource({ id, resource }, options);
  }

  /** The resources attached to lease `id`. */
  async listResources(id: string, options: ContainerdCallOptions = {}): Promise<LeaseResource[]> {
    const r = await this.rpc.leases.listResources({ id }, options);
    return r.resources.map((x) => ({ id: x.id, type: x.type }));
  }
}
