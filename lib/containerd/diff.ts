import { newError } from '../errors/index.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { Mount } from '../oci/mount.js';
import { fromDescriptor, fromMount, toDescriptor } from './convert.js';
import type { ContainerdCallOptions } from './middleware.js';
import type { RpcClients } from './rpc.js';

/** Options of {@link DiffService.diff}. */
export interface ContainerdDiffOptions extends ContainerdCallOptions {
  /** Media type of the blob to write. Default containerd's: an OCI gzip layer. */
  mediaType?: string;
  /** The content ingest ref to write through. Default: containerd picks one. */
  ref?: string;
  /** Labels of the written blob. */
  labels?: Record<string, string>;
}

/** containerd's diff service: applies layer blobs onto mounts, and writes the difference of two mounts as a blob. */
export class DiffService {
  /** @internal Built by `ContainerdClient` over its raw gRPC clients, which are not public. */
  constructor(private readonly rpc: Pick<RpcClients, 'diff'>) {}

  /**
   * Applies layer blob `layer` (which must be in containerd's content store) onto `mounts` (an active snapshot's),
   * returning the descriptor of the uncompressed layer (its digest is the diffID).
   * @throws ERR_CONTAINERD_NOT_FOUND when the blob is absent; ERR_CONTAINERD_* for containerd's failures.
   */
  async apply(layer: Descriptor, mounts: Mount[], options: ContainerdCallOptions & { syncFs?: boolean } = {}): Promise<Descriptor> {
    const { syncFs = false, ...call } = options;
    const r = await this.rpc.diff.apply({ diff: fromDescriptor(layer), mounts: mounts.map(fromMount), payloads: {}, syncFs }, call);
    const applied = toDescriptor(r.applied);
    if (applied === undefined) throw newError('ERR_CONTAINERD_INTERNAL', 'containerd Diff.Apply answered without a descriptor');
    return applied;
  }

  /** Writes the changes from `lower` to `upper` as a layer blob into the content store; returns its descriptor. */
  async diff(lower: Mount[], upper: Mount[], options: ContainerdDiffOptions = {}): Promise<Descriptor> {
    const { mediaType = '', ref = '', labels = {}, ...call } = options;
    const r = await this.rpc.diff.diff({ left: lower.map(fromMount), right: upper.map(fromMount), mediaType, ref, labels, sourceDateEpoch: undefined }, call);
    const out = toDescriptor(r.diff);
    if (out === undefined) throw newError('ERR_CONTAINERD_INTERNAL', 'containerd Diff.Diff answered without a descriptor');
    return out;
  }
}
