/**
 * The Engine (`Engine.open`) and its parts: create options in docker's terms, the OCI spec a container runs with, the backends that run
 * tasks (`EngineBackend`, daemonless `ShimBackend`), the image side (`ImageService`, container rootfs snapshots,
 * bundles), and the state kept under a root by any number of processes at once (container records and names, the
 * events log, the reader of containers' logs).
 * @module
 */
export {
  applyCreateDefaults,
  CREATE_DEFAULTS,
  DEFAULT_STOP_SIGNAL,
  MIN_MEMORY_BYTES,
  isSignalName,
  validateCreateOptions,
  type BindContainerMount,
  type BindPropagation,
  type ContainerMount,
  type ContainerResources,
  type CreateOptions,
  type CreateOptionsWithDefaults,
  type NetworkMode,
  type PullPolicy,
  type TmpfsContainerMount,
} from './create-options.js';
export { parseByteSize, parseEnvFlag, parseMountFlag, parseVolumeFlag } from './flags.js';
export { mergeArgs, mergeEnv, mergeRunConfig, replaceOrAppendEnv, type RunConfig } from './run-config.js';
export {
  containerHostname,
  containerResolvConf,
  writeContainerFiles,
  type ContainerFiles,
  type ContainerFilesOptions,
} from './container-files.js';
export {
  buildContainerSpec,
  DEFAULT_INIT_BINARY,
  DOCKER_INIT_PATH,
  tweakCapabilities,
  type ContainerSpecContext,
} from './container-spec.js';
export { readHostDevices, withHostDevices } from './host-devices.js';
export type { BackendRecovery, CreateTaskRequest, EndedTask, EngineBackend, RemoveTaskOptions } from './backend.js';
export { ShimBackend, type ShimBackendOptions } from './shim-backend.js';
export {
  ImageService,
  type EnsureImageOptions,
  type ImageRemoval,
  type InspectedImage,
  type OpenImageServiceOptions,
  type RemoveImageOptions,
  type RunnableImage,
} from './image-service.js';
export {
  CONTAINER_LABEL,
  containerSnapshots,
  openSnapshotter,
  prepareRootfs,
  releaseRootfs,
  type OpenSnapshotterOptions,
  type RootfsCallOptions,
  type SnapshotterChoice,
} from './rootfs.js';
export { removeBundle, writeBundle, type BundleOptions } from './bundle.js';
export { generateName, isContainerId, isValidContainerName, newContainerId, normalizeContainerName } from './ids.js';
export {
  CONTAINER_STATUSES,
  ZERO_TIME,
  initialState,
  type ContainerImage,
  type ContainerRecord,
  type ContainerState,
  type ContainerStatus,
} from './record.js';
export { ContainerStore, type ContainerStoreOptions, type NewContainer, type StoreCallOptions } from './container-store.js';
export type { ContainerTransaction, RecordMutation } from './container-transaction.js';
export type { Leftover } from './store-leftovers.js';
export {
  EventsLog,
  parseEventLine,
  type EngineEvent,
  type EngineEventAction,
  type EngineEventActor,
  type EngineEventType,
  type EventsLogOptions,
  type NewEngineEvent,
  type ReadEventsOptions,
} from './events-log.js';
export { readContainerLog, type ReadLogOptions } from './log-reader.js';
export { Engine, type EngineEventsOptions } from './engine.js';
export type { ContainerInput } from './attach.js';
export { ContainerReader } from './container-reader.js';
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
export type { RecoveryReport } from './recovery.js';
export type { LogEntry, LogStream } from './log-lines.js';
