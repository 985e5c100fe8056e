import { Kind, type Info as PbInfo } from '../gen/containerd/services/snapshots/v1/snapshots.js';
import type { Mount } from '../oci/mount.js';
import { toDate, toMount, toNumber } from './convert.js';
import type { ContainerdCallOptions } from './middleware.js';
import type { RpcClients } from './rpc.js';

/** The default snapshotter on Linux, as containerd's. */
export const DEFAULT_SNAPSHOTTER = 'overlayfs';

/** What a snapshot is: a read-only view, an active (writable) one, or committed. */
export type ContainerdSnapshotKind = 'view' | 'active' | 'committed' | 'unknown';

/** A snapshot's metadata. */
export interface ContainerdSnapshotInfo {
  /** Its key (active, view) or name (committed). */
  name: string;
  /** The committed parent, or '' for a base snapshot. */
  parent: string;
  kind: ContainerdSnapshotKind;
  createdAt?: Date;
  updatedAt?: Date;
  labels: Record<string, string>;
}

/** Options of the snapshot calls that take a snapshotter. */
export interface ContainerdSnapshotCallOptions extends ContainerdCallOptions {
  /** Which snapshotter. Default: the service's (`overlayfs` unless set). */
  snapshotter?: string;
}

/** Options of prepare/view/commit. */
export interface ContainerdSnapshotCreateOptions extends ContainerdSnapshotCallOptions {
  labels?: Record<string, string>;
}

const KIND: Record<number, ContainerdSnapshotKind> = { [Kind.VIEW]: 'view', [Kind.ACTIVE]: 'active', [Kind.COMMITTED]: 'committed' };

function toInfo(i: PbInfo | undefined, fallback: string): ContainerdSnapshotInfo {
  return {
    name: i?.name ?? fallback,
    parent: i?.parent ?? '',
    kind: KIND[i?.kind ?? 0] ?? 'unknown',
    createdAt: toDate(i?.createdAt),
    updatedAt: toDate(i?.updatedAt),
    labels: { ...(i?.labels ?? {}) },
  };
}

/** One snapshotter's snapshots through containerd: prepare, view, commit, remove, mounts, stat, list, usage. */
export class SnapshotsService {
  /** The snapshotter used when a call does not name one. */
  readonly defaultSnapshotter: string;

  /** @internal Built by `ContainerdClient` over its raw gRPC clients, which are not public. */
  constructor(
    private readonly rpc: Pick<RpcClients, 'snapshots'>,
    defaultSnapshotter: string = DEFAULT_SNAPSHOTTER,
  ) {
    this.defaultSnapshotter = defaultSnapshotter;
  }

  /** An active (writable) snapshot `key` on top of committed `parent` ('' for none); returns its mounts. @throws ERR_CONTAINERD_ALREADY_EXISTS, ERR_CONTAINERD_NOT_FOUND (parent). */
  async prepare(key: string, parent = '', options: ContainerdSnapshotCreateOptions = {}): Promise<Mount[]> {
    const { snapshotter = this.defaultSnapshotter, labels = {}, ...call } = options;
    const r = await this.rpc.snapshots.prepare({ snapshotter, key, parent, labels }, call);
    return r.mounts.map(toMount);
  }

  /** A read-only view `key` of committed `parent`; returns its mounts. */
  async view(key: string, parent = '', options: ContainerdSnapshotCreateOptions = {}): Promise<Mount[]> {
    const { snapshotter = this.defaultSnapshotter, labels = {}, ...call } = options;
    const r = await this.rpc.snapshots.view({ snapshotter, key, parent, labels }, call);
    return r.mounts.map(toMount);
  }

  /** The mounts of active or view snapshot `key`. @throws ERR_CONTAINERD_NOT_FOUND. */
  async mounts(key: string, options: ContainerdSnapshotCallOptions = {}): Promise<Mount[]> {
    const { snapshotter = this.defaultSnapshotter, ...call } = options;
    const r = await this.rpc.snapshots.mounts({ snapshotter, key }, call);
    return r.mounts.map(toMount);
  }

  /** Commits active snapshot `key` as `name` (the active one is gone afterwards). @throws ERR_CONTAINERD_ALREADY_EXISTS, ERR_CONTAINERD_NOT_FOUND. */
  async commit(name: string, key: string, options: ContainerdSnapshotCreateOptions = {}): Promise<void> {
    const { snapshotter = this.defaultSnapshotter, labels = {}, ...call } = options;
    await this.rpc.snapshots.commit({ snapshotter, name, key, labels }, call);
  }

  /** Removes snapshot `key`. @throws ERR_CONTAINERD_NOT_FOUND; ERR_CONTAINERD_FAILED_PRECONDITION when it has children. */
  async remove(key: string, options: ContainerdSnapshotCallOptions = {}): Promise<void> {
    const { snapshotter = this.defaultSnapshotter, ...call } = options;
    await this.rpc.snapshots.remove({ snapshotter, key }, call);
  }

  /** Metadata of snapshot `key`. @throws ERR_CONTAINERD_NOT_FOUND. */
  async stat(key: string, options: ContainerdSnapshotCallOptions = {}): Promise<ContainerdSnapshotInfo> {
    const { snapshotter = this.defaultSnapshotter, ...call } = options;
    const r = await this.rpc.snapshots.stat({ snapshotter, key }, call);
    return toInfo(r.info, key);
  }

  /** Every snapshot matching any of `filters` (all when empty). */
  async list(filters: string[] = [], options: ContainerdSnapshotCallOptions = {}): Promise<ContainerdSnapshotInfo[]> {
    const { snapshotter = this.defaultSnapshotter, ...call } = options;
    const out: ContainerdSnapshotInfo[] = [];
    for await (const page of this.rpc.snapshots.list({ snapshotter, filters }, call)) {
      for (const info of page.info) out.push(toInfo(info, ''));
    }
    return out;
  }

  /** Disk usage of snapshot `key`. @throws ERR_CONTAINERD_NOT_FOUND. */
  async usage(key: string, options: ContainerdSnapshotCallOptions = {}): Promise<{ size: number; inodes: number }> {
    const { snapshotter = this.defaultSnapshotter, ...call } = options;
    const r = await this.rpc.snapshots.usage({ snapshotter, key }, call);
    return { size: toNumber(r.size), inodes: toNumber(r.inodes) };
  }
}
