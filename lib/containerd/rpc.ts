import { type Channel, type Client, createClientFactory } from 'nice-grpc';
import { ContainersDefinition } from '../gen/containerd/services/containers/v1/containers.js';
import { ContentDefinition } from '../gen/containerd/services/content/v1/content.js';
import { DiffDefinition } from '../gen/containerd/services/diff/v1/diff.js';
import { EventsDefinition } from '../gen/containerd/services/events/v1/events.js';
import { ImagesDefinition } from '../gen/containerd/services/images/v1/images.js';
import { IntrospectionDefinition } from '../gen/containerd/services/introspection/v1/introspection.js';
import { LeasesDefinition } from '../gen/containerd/services/leases/v1/leases.js';
import { NamespacesDefinition } from '../gen/containerd/services/namespaces/v1/namespace.js';
import { SnapshotsDefinition } from '../gen/containerd/services/snapshots/v1/snapshots.js';
import { TasksDefinition } from '../gen/containerd/services/tasks/v1/tasks.js';
import { VersionDefinition } from '../gen/containerd/services/version/v1/version.js';
import { type ContentWriteCall, contentWriteCall } from './content-write-call.js';
import { errorMiddleware } from './errors.js';
import type { Http2Connection } from './http2-connection.js';
import { type ContainerdCallOptions, deadlineMiddleware, headersMiddleware, LEASE_HEADER, NAMESPACE_HEADER } from './middleware.js';

/** The per-call options the raw clients accept (nice-grpc's plus the deadline ones). */
type Ext = Pick<ContainerdCallOptions, 'timeoutMs' | 'deadline'>;

/** @internal The generated gRPC clients of every service, wired with the middleware. */
export interface RpcClients {
  version: Client<typeof VersionDefinition, Ext>;
  introspection: Client<typeof IntrospectionDefinition, Ext>;
  namespaces: Client<typeof NamespacesDefinition, Ext>;
  containers: Client<typeof ContainersDefinition, Ext>;
  content: Client<typeof ContentDefinition, Ext>;
  /** Content.Write on a plain HTTP/2 stream (see content-write-call.ts). */
  contentWrite: ContentWriteCall;
  images: Client<typeof ImagesDefinition, Ext>;
  snapshots: Client<typeof SnapshotsDefinition, Ext>;
  diff: Client<typeof DiffDefinition, Ext>;
  leases: Client<typeof LeasesDefinition, Ext>;
  tasks: Client<typeof TasksDefinition, Ext>;
  events: Client<typeof EventsDefinition, Ext>;
}

/**
 * @internal Creates the raw clients over `channel`. Middleware order, outermost first: error mapping (and the
 * already-aborted check), deadline, headers (namespace, lease).
 */
export function createRpcClients(channel: Channel, http2: Http2Connection, address: string, namespace: string, lease?: string): RpcClients {
  const factory = createClientFactory().use(errorMiddleware(address)).use(deadlineMiddleware).use(headersMiddleware(namespace, lease));
  return {
    version: factory.create(VersionDefinition, channel),
    introspection: factory.create(IntrospectionDefinition, channel),
    namespaces: factory.create(NamespacesDefinition, channel),
    containers: factory.create(ContainersDefinition, channel),
    content: factory.create(ContentDefinition, channel),
    contentWrite: contentWriteCall(http2, address, { [NAMESPACE_HEADER]: namespace, ...(lease === undefined ? {} : { [LEASE_HEADER]: lease }) }),
    images: factory.create(ImagesDefinition, channel),
    snapshots: factory.create(SnapshotsDefinition, channel),
    diff: factory.create(DiffDefinition, channel),
    leases: factory.create(LeasesDefinition, channel),
    tasks: factory.create(TasksDefinition, channel),
    events: factory.create(EventsDefinition, channel),
  };
}
