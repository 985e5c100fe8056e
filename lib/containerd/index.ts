/**
 * containerd: a typed gRPC client of a running containerd ({@link ContainerdClient}) and its services.
 * @module
 */

export { DEFAULT_ADDRESS, DEFAULT_NAMESPACE } from './channel.js';
export {
  ContainerdContainer,
  type CreateContainerOptions,
  createContainer,
  type DeleteContainerOptions,
  type NewTaskOptions,
} from './container.js';
export { ContainerdClient, type ContainerdClientOptions, type ContainerdServices } from './containerd-client.js';
export { type ContainerRecord, ContainersService, DEFAULT_RUNTIME, type NewContainer } from './containers.js';
export { type ContainerdReadOptions, type ContentInfo, ContentProxy } from './content-proxy.js';
export { type ContainerdCommitOptions, ContainerdWriter } from './content-writer.js';
export { type AnyValue, jsonAny, PROCESS_SPEC_TYPE_URL, SPEC_TYPE_URL } from './convert.js';
export { type ContainerdDiffOptions, DiffService } from './diff.js';
export { type GrpcFailure, grpcStatusToError } from './errors.js';
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
export { EventsService } from './events.js';
export { GC_REF_CONTENT, gcChildLabels } from './gc-labels.js';
export { type ResolvedImage, type ResolveImageOptions, resolveImage } from './image-rootfs.js';
export { type ImageRecord, ImagesService } from './images.js';
export { type ContainerdVersion, IntrospectionService, type PluginInfo, type ServerInfo } from './introspection.js';
export { type CreateLeaseOptions, LEASE_EXPIRE_LABEL, type LeaseRecord, type LeaseResource, LeasesService } from './leases.js';
export { type ContainerdCallOptions, LEASE_HEADER, NAMESPACE_HEADER } from './middleware.js';
export { type NamespaceRecord, NamespacesService } from './namespaces.js';
export { type ContainerdKillProcessOptions, ContainerdProcess } from './process.js';
export {
  type ContainerdSnapshotCallOptions,
  type ContainerdSnapshotCreateOptions,
  type ContainerdSnapshotInfo,
  type ContainerdSnapshotKind,
  DEFAULT_SNAPSHOTTER,
  SnapshotsService,
} from './snapshots.js';
export { type ContainerdExecOptions, type ContainerdStdioOptions, ContainerdTask, type DeleteTaskOptions } from './task.js';
export {
  createTaskIO,
  DEFAULT_FIFO_DIR,
  type OutputPlan,
  planTaskIO,
  type StdioPaths,
  type TaskIO,
  type TaskIOOptions,
  type TaskIOPlan,
} from './task-io.js';
export {
  type ContainerdCreateTaskOptions,
  type ContainerdKillOptions,
  type ContainerdProcessCallOptions,
  type ContainerdProcessState,
  type ContainerdUpdateTaskOptions,
  LINUX_RESOURCES_TYPE_URL,
  TasksService,
} from './tasks.js';
