/**
 * OCIRuntime: one method per runc verb (any runtime with runc's CLI), and the OCI runtime spec builder
 * (containerd's default Linux spec plus Docker's default seccomp profile, and composable `withX` options).
 * @module
 */
export { OCIRuntime } from './oci-runtime.js';
export type {
  OCIRuntimeOptions,
  CallOptions,
  CreateOptions,
  RunOptions,
  ExecOptions,
  KillOptions,
  DeleteOptions,
  EventsOptions,
  CriuOptions,
  CheckpointOptions,
  RestoreOptions,
} from './options.js';
export type {
  ContainerStatus,
  ContainerState,
  ContainerInfo,
  ExitResult,
  DetachedResult,
  MemoryEntry,
  BlkioEntry,
  NetworkInterfaceStats,
  Stats,
  StatsEvent,
  OomEvent,
  UnknownEvent,
  ErrorEvent,
  RuncEvent,
  RuntimeVersion,
  RuntimeFeatures,
} from './types.js';
export { RuncProcess } from './process.js';
export { RuncError, type RuncErrorDetails } from './errors.js';
export type { StdioMode, StdioStreams, StdioOption } from './io.js';
export { generateSpec, applySpecOpts, type GenerateSpecOptions, type ApplySpecOptions } from './spec/generate.js';
export { composeSpecOpts, type SpecOpt, type SpecContext } from './spec/spec-opt.js';
export { withProcessArgs, withEnv, withCwd, withTTY, withNoNewPrivileges, withRlimits, withUser, withAdditionalGids, type RlimitRequest } from './spec/opts-process.js';
export { withCapabilities, withAddedCapabilities, withDroppedCapabilities, withSeccompProfile, withoutSeccomp, withPrivileged } from './spec/opts-security.js';
export {
  bindMount,
  tmpfsMount,
  withMounts,
  withShmSize,
  withReadonlyRootfs,
  withRootPath,
  withInit,
  DEFAULT_INIT_HOST_PATH,
  DEFAULT_INIT_PATH,
  type BindMountOptions,
  type TmpfsMountOptions,
  type InitOptions,
} from './spec/opts-mounts.js';
export { withHostname, withMemoryLimit, withCPUs, withCPUShares, withCPUQuota, withPidsLimit, withNetNSPath, withHostNetwork, withCgroupsPath, withAnnotations } from './spec/opts-linux.js';
export { withImageConfig, STOP_SIGNAL_ANNOTATION, type ImageConfigOptions } from './spec/opts-image.js';
export {
  createDefaultSpec,
  DEFAULT_PATH_ENV,
  DEFAULT_CGROUP_NAMESPACE,
  DEFAULT_MOUNTS,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  DEFAULT_NAMESPACES,
  type DefaultSpecOptions,
} from './spec/defaults.js';
export { DEFAULT_SECCOMP_PROFILE } from './spec/seccomp-default.js';
export type { SeccompProfile, SeccompRule, SeccompRuleFilter, SeccompArchMapEntry } from './spec/seccomp-profile.js';
export { KNOWN_CAPABILITIES, DEFAULT_CAPABILITIES } from './spec/capabilities.js';
export type { HostRlimits, RlimitValue } from './spec/rlimits.js';
