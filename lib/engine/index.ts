/**
 * The Engine (`Engine.open`) and its parts: create options in docker's terms, the OCI spec a container runs with, the backends that run
 * tasks (`EngineBackend`, daemonless `ShimBackend`), the image side (`ImageService`, container rootfs snapshots,
 * bundles), and the state kept under a root by any number of processes at once (container records and names, the
 * events log, the reader of containers' logs).
 * @module
 */

export type { ContainerInput } from './attach.js';
export type { BackendRecovery, CreateTaskRequest, EndedTask, EngineBackend, RemoveTaskOptions } from './backend.js';
export { type BundleOptions, removeBundle, writeBundle } from './bundle.js';
export {
  type ContainerFiles,
  type ContainerFilesOptions,
  containerHostname,
  containerResolvConf,
  writeContainerFiles,
} from './container-files.js';
export { ContainerReader } from './container-reader.js';
export {
  buildContainerSpec,
  type ContainerSpecContext,
  DEFAULT_INIT_BINARY,
  DOCKER_INIT_PATH,
  tweakCapabilities,
} from './container-spec.js';
export { ContainerStore, type ContainerStoreOptions, type NewContainer, type StoreCallOptions } from './container-store.js';
export type { ContainerTransaction, RecordMutation } from './container-transaction.js';
export {
  applyCreateDefaults,
  type BindContainerMount,
  type BindPropagation,
  type ContainerMount,
  type ContainerResources,
  CREATE_DEFAULTS,
  type CreateOptions,
  type CreateOptionsWithDefaults,
  DEFAULT_STOP_SIGNAL,
  isSignalName,
  MIN_MEMORY_BYTES,
  type NetworkMode,
  type PullPolicy,
  type TmpfsContainerMount,
  validateCreateOptions,
} from './create-options.js';
export { Engine, type EngineEventsOptions } from './engine.js';
export type {
  ContainerHandle,
  ContainerInspect,
  ContainerStats,
  ContainerSummary,
  EngineCreateOptions,
  EngineEvents,
  EngineLogsOptions,
  EngineOptions,
  ExecOptions,
  ExecResult,
  ExecStream,
  ExecStreamOptions,
  InspectMount,
  ListFilters,
  ListOptions,
  PortBinding,
  RemoveOptions,
  RunOptions,
  RunResult,
  StopOptions,
  TopProcess,
  TopResult,
  UpdateResources,
  WaitCondition,
  WaitOptions,
} from './engine-types.js';
export {
  type EngineEvent,
  type EngineEventAction,
  type EngineEventActor,
  type EngineEventType,
  EventsLog,
  type EventsLogOptions,
  type NewEngineEvent,
  parseEventLine,
  type ReadEventsOptions,
} from './events-log.js';
export { parseByteSize, parseEnvFlag, parseMountFlag, parseVolumeFlag } from './flags.js';
export { readHostDevices, withHostDevices } from './host-devices.js';
export { generateName, isContainerId, isValidContainerName, newContainerId, normalizeContainerName } from './ids.js';
export {
  type EnsureImageOptions,
  type ImageRemoval,
  ImageService,
  type InspectedImage,
  type OpenImageServiceOptions,
  type RemoveImageOptions,
  type RunnableImage,
} from './image-service.js';
export type { LogEntry, LogStream } from './log-lines.js';
export { type ReadLogOptions, readContainerLog } from './log-reader.js';
export {
  CONTAINER_STATUSES,
  type ContainerImage,
  type ContainerRecord,
  type ContainerState,
  type ContainerStatus,
  initialState,
  ZERO_TIME,
} from './record.js';
export type { RecoveryReport } from './recovery.js';
export {
  CONTAINER_LABEL,
  containerSnapshots,
  type OpenSnapshotterOptions,
  openSnapshotter,
  prepareRootfs,
  type RootfsCallOptions,
  releaseRootfs,
  type SnapshotterChoice,
} from './rootfs.js';
export { mergeArgs, mergeEnv, mergeRunConfig, type RunConfig, replaceOrAppendEnv } from './run-config.js';
export { ShimBackend, type ShimBackendOptions } from './shim-backend.js';
export type { Leftover } from './store-leftovers.js';
