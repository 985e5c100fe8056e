/**
 * The Engine's parts: create options in docker's terms, and the OCI spec a container runs with.
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
