/**
 * containerd: a typed gRPC client of a running containerd ({@link ContainerdClient}) and its services.
 * @module
 */
export { ContainerdClient, type ContainerdClientOptions, type ContainerdServices } from './containerd-client.js';
export { DEFAULT_ADDRESS, DEFAULT_NAMESPACE } from './channel.js';
export { LEASE_HEADER, NAMESPACE_HEADER, type ContainerdCallOptions } from './middleware.js';
export { grpcStatusToError, type GrpcFailure } from './errors.js';
export { jsonAny, PROCESS_SPEC_TYPE_URL, SPEC_TYPE_URL, type AnyValue } from './convert.js';
export { IntrospectionService, type ContainerdVersion, type PluginInfo, type ServerInfo } from './introspection.js';
export { NamespacesService, type NamespaceRecord } from './namespaces.js';
export { ContainersService, DEFAULT_RUNTIME, type ContainerRecord, type NewContainer } from './containers.js';
export { ContentProxy, type ContentInfo, type ContainerdReadOptions } from './content-proxy.js';
export { ContainerdWriter, type ContainerdCommitOptions } from './content-writer.js';
export { ImagesService, type ImageRecord } from './images.js';
export {
  DEFAULT_SNAPSHOTTER,
  SnapshotsService,
  type ContainerdSnapshotCallOptions,
  type ContainerdSnapshotCreateOptions,
  type ContainerdSnapshotInfo,
  type ContainerdSnapshotKind,
} from './snapshots.js';
export { DiffService, type ContainerdDiffOptions } from './diff.js';
export { LEASE_EXPIRE_LABEL, LeasesService, type CreateLeaseOptions, type LeaseRecord, type LeaseResource } from './leases.js';
export {
  LINUX_RESOURCES_TYPE_URL,
  TasksService,
  type ContainerdCreateTaskOptions,
  type ContainerdKillOptions,
  type ContainerdProcessCallOptions,
  type ContainerdProcessState,
  type ContainerdUpdateTaskOptions,
} from './tasks.js';
export {
  ContainerdContainer,
  createContainer,
  type CreateContainerOptions,
  type DeleteContainerOptions,
  type NewTaskOptions,
} from './container.js';
export { ContainerdProcess, type ContainerdKillProcessOptions } from './process.js';
export { ContainerdTask, type ContainerdExecOptions, type ContainerdStdioOptions, type DeleteTaskOptions } from './task.js';
export { resolveImage, type ResolvedImage, type ResolveImageOptions } from './image-rootfs.js';
export {
  createTaskIO,
  DEFAULT_FIFO_DIR,
  planTaskIO,
  type OutputPlan,
  type StdioPaths,
  type TaskIO,
  type TaskIOOptions,
  type TaskIOPlan,
} from './task-io.js';
export { EventsService } from './events.js';
export { decodeEvent } from './event-decode.js';
export type {
  ContainerCreateEvent,
  ContainerDeleteEvent,
  ContainerdEvent,
  ContainerdEventPayloads,
  ContainerdEventType,
  ContainerdResourceEvent,
  ContainerEventRuntime,
  ContainerUpdateEvent,
  ContentDeleteEvent,
  DecodedEvent,
  ImageCreateEvent,
  ImageDeleteEvent,
  ImageUpdateEvent,
  NamespaceCreateEvent,
  NamespaceDeleteEvent,
  NamespaceUpdateEvent,
  SnapshotCommitEvent,
  SnapshotPrepareEvent,
  SnapshotRemoveEvent,
} from './event-types.js';
export { GC_REF_CONTENT, gcChildLabels } from './gc-labels.js';
