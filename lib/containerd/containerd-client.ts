import type { Channel } from 'nice-grpc';
import { newError } from '../errors/index.js';
import { onAbort } from '../util/abort.js';
import { logger } from '../util/debug.js';
import { DEFAULT_ADDRESS, DEFAULT_NAMESPACE, openChannel } from './channel.js';
import { ContainerdContainer, type CreateContainerOptions, createContainer } from './container.js';
import { ContainersService } from './containers.js';
import { ContentProxy } from './content-proxy.js';
import { DiffService } from './diff.js';
import { EventsService } from './events.js';
import { Http2Connection } from './http2-connection.js';
import { ImagesService } from './images.js';
import { IntrospectionService } from './introspection.js';
import { type CreateLeaseOptions, LeasesService } from './leases.js';
import type { ContainerdCallOptions } from './middleware.js';
import { NamespacesService } from './namespaces.js';
import { createRpcClients } from './rpc.js';
import { DEFAULT_SNAPSHOTTER, SnapshotsService } from './snapshots.js';
import { TasksService } from './tasks.js';

const log = logger('containerd');

/** The typed services a {@link ContainerdClient} exposes; each may be injected (tests, alternative backends). */
export interface ContainerdServices {
  introspection: IntrospectionService;
  namespaces: NamespacesService;
  containers: ContainersService;
  content: ContentProxy;
  images: ImagesService;
  snapshots: SnapshotsService;
  diff: DiffService;
  leases: LeasesService;
  tasks: TasksService;
  events: EventsService;
}

/** Options of {@link ContainerdClient}. */
export interface ContainerdClientOptions {
  /** containerd's gRPC socket (a path or `unix://…`). Default `$CONTAINERD_ADDRESS`, else `/run/containerd/containerd.sock`. */
  address?: string;
  /** The namespace sent with every call. Default `$CONTAINERD_NAMESPACE`, else `default`. */
  namespace?: string;
  /** The snapshotter the snapshot calls use when they name none. Default `overlayfs`. */
  snapshotter?: string;
  /** Closes the client when it aborts. */
  signal?: AbortSignal;
  /** Services to use instead of the gRPC-backed ones. */
  services?: Partial<ContainerdServices>;
}

/**
 * A client of a running containerd over its gRPC unix socket, as containerd's Go client: typed services
 * (`version()`, `plugins()`, `namespaces`, `containers`, `content`, `images`, `snapshots`, `diff`, `leases`, `tasks`,
 * `events`). Every call carries the `containerd-namespace` header (and `containerd-lease` inside
 * {@link ContainerdClient.withLease}), takes `signal`/`timeoutMs`/`deadline`, and fails with typed
 * ERR_CONTAINERD_* errors (NotFound, AlreadyExists, …); ERR_CONTAINERD_UNAVAILABLE names the address when the
 * socket does not answer. Connecting is lazy. Close it with `close()` (or `await using`).
 *
 * @throws ERR_INVALID_ARGUMENT for an empty address or namespace.
 */
export class ContainerdClient implements ContainerdServices, AsyncDisposable {
  readonly address: string;
  readonly namespace: string;
  /** The lease this client's calls are made in, if any. */
  readonly lease: string | undefined;
  readonly introspection: IntrospectionService;
  readonly namespaces: NamespacesService;
  readonly containers: ContainersService;
  readonly content: ContentProxy;
  readonly images: ImagesService;
  readonly snapshots: SnapshotsService;
  readonly diff: DiffService;
  readonly leases: LeasesService;
  readonly tasks: TasksService;
  readonly events: EventsService;
  readonly #channel: Channel;
  readonly #http2: Http2Connection;
  readonly #owner: boolean;
  #stopOnAbort: () => void = () => undefined;
  readonly #options: ContainerdClientOptions;

  /** @param internal used by {@link withNamespace}/{@link withLease} to share the connection; not for callers. */
  constructor(options: ContainerdClientOptions = {}, internal: { channel?: Channel; http2?: Http2Connection; lease?: string } = {}) {
    this.#options = options;
    const address = options.address ?? process.env.CONTAINERD_ADDRESS ?? DEFAULT_ADDRESS;
    const namespace = options.namespace ?? process.env.CONTAINERD_NAMESPACE ?? DEFAULT_NAMESPACE;
    if (typeof address !== 'string' || address === '') throw newError('ERR_INVALID_ARGUMENT', 'options.address must be a non-empty string');
    if (typeof namespace !== 'string' || namespace === '') throw newError('ERR_INVALID_ARGUMENT', 'options.namespace must be a non-empty string');
    const snapshotter = options.snapshotter ?? DEFAULT_SNAPSHOTTER;
    const shared = internal.channel;
    this.lease = internal.lease;
    this.address = address;
    this.namespace = namespace;
    this.#owner = shared === undefined;
    this.#channel = shared ?? openChannel(address);
    this.#http2 = internal.http2 ?? new Http2Connection(address);
    const rpc = createRpcClients(this.#channel, this.#http2, address, namespace, this.lease);
    const s = options.services ?? {};
    this.introspection = s.introspection ?? new IntrospectionService(rpc);
    this.namespaces = s.namespaces ?? new NamespacesService(rpc);
    this.containers = s.containers ?? new ContainersService(rpc);
    this.content = s.content ?? new ContentProxy(rpc);
    this.images = s.images ?? new ImagesService(rpc);
    this.snapshots = s.snapshots ?? new SnapshotsService(rpc, snapshotter);
    this.diff = s.diff ?? new DiffService(rpc);
    this.leases = s.leases ?? new LeasesService(rpc);
    this.tasks = s.tasks ?? new TasksService(rpc);
    this.events = s.events ?? new EventsService(rpc);
    // Removed on close(): a long-lived signal must not keep a closed client (and its channel) reachable.
    if (this.#owner) this.#stopOnAbort = onAbort(options.signal, () => void this.close());
    log('client for %s (namespace %s%s)', address, namespace, this.lease ? `, lease ${this.lease}` : '');
  }

  /** containerd's version and revision. */
  version(options: ContainerdCallOptions = {}): ReturnType<IntrospectionService['version']> {
    return this.introspection.version(options);
  }

  /** The daemon's plugins, optionally filtered. */
  plugins(filters: string[] = [], options: ContainerdCallOptions = {}): ReturnType<IntrospectionService['plugins']> {
    return this.introspection.plugins(filters, options);
  }

  /**
   * Records container `id` with its rootfs snapshot prepared on the image's top layer (or `options.snapshot.parent`),
   * as ctr's `containers create`; run it with `newTask()` on the result. See {@link createContainer}.
   */
  createContainer(id: string, options: CreateContainerOptions): Promise<ContainerdContainer> {
    return createContainer(this, id, options);
  }

  /** The existing container `id`. @throws ERR_CONTAINERD_NOT_FOUND. */
  async loadContainer(id: string, options: ContainerdCallOptions = {}): Promise<ContainerdContainer> {
    return new ContainerdContainer(this, id, await this.containers.get(id, options));
  }

  /** A client for another namespace over the same connection (closing it does not close this one). */
  withNamespace(namespace: string): ContainerdClient {
    return new ContainerdClient({ ...this.#options, namespace }, { channel: this.#channel, http2: this.#http2, lease: this.lease });
  }

  /**
   * A client whose calls carry `containerd-lease: <leaseId>`, so what they create (content, ingests, snapshots)
   * belongs to the lease and survives GC until it is deleted. Shares this client's connection.
   */
  withLease(leaseId: string): ContainerdClient {
    if (typeof leaseId !== 'string' || leaseId === '') throw newError('ERR_INVALID_ARGUMENT', 'leaseId must be a non-empty string');
    return new ContainerdClient({ ...this.#options, namespace: this.namespace }, { channel: this.#channel, http2: this.#http2, lease: leaseId });
  }

  /**
   * Runs `fn` with a client inside a fresh lease (expiring after 24 h unless `expiresInMs` says otherwise), and
   * deletes the lease afterwards (even when `fn` throws), as the Go client's WithLease.
   */
  async inLease<T>(fn: (client: ContainerdClient) => Promise<T>, options: CreateLeaseOptions = {}): Promise<T> {
    const lease = await this.leases.create({ expiresInMs: 24 * 3600_000, ...options });
    try {
      return await fn(this.withLease(lease.id));
    } finally {
      await this.leases.delete(lease.id).catch((err: unknown) => log('deleting lease %s failed: %O', lease.id, err));
    }
  }

  /** Closes the connection (only when this client opened it). Idempotent. */
  async close(): Promise<void> {
    if (!this.#owner) return;
    this.#stopOnAbort();
    this.#channel.close();
    this.#http2.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
