/**
 * The Engine's parts: create options in docker's terms, the OCI spec a container runs with, the backends that run
 * tasks (`EngineBackend`, daemonless `ShimBackend`), and the image side (`ImageService`, container rootfs snapshots,
 * bundles).
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
