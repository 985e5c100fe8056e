/**
 * OCIRuntime: one method per runc verb (any runtime with runc's CLI), and the OCI runtime spec builder
 * (containerd's default Linux spec plus Docker's default seccomp profile, and composable `withX` options).
 * @module
 */

export { RuncError, type RuncErrorDetails } from './errors.js';
export type { StdioMode, StdioOption, StdioStreams } from './io.js';
export { OCIRuntime } from './oci-runtime.js';
export type {
  CallOptions,
  CheckpointOptions,
  CreateOptions,
  CriuOptions,
  DeleteOptions,
  EventsOptions,
  ExecOptions,
  KillOptions,
  OCIRuntimeOptions,
  RestoreOptions,
  RunOptions,
} from './options.js';
export { RuncProcess } from './process.js';
export { DEFAULT_CAPABILITIES, KNOWN_CAPABILITIES } from './spec/capabilities.js';
export {
  createDefaultSpec,
  DEFAULT_CGROUP_NAMESPACE,
  DEFAULT_MASKED_PATHS,
  DEFAULT_MOUNTS,
  DEFAULT_NAMESPACES,
  DEFAULT_PATH_ENV,
  DEFAULT_READONLY_PATHS,
  type DefaultSpecOptions,
} from './spec/defaults.js';
export { type ApplySpecOptions, applySpecOpts, type GenerateSpecOptions, generateSpec } from './spec/generate.js';
export { type ImageConfigOptions, STOP_SIGNAL_ANNOTATION, withImageConfig } from './spec/opts-image.js';
export {
  withAnnotations,
  withCgroupsPath,
  withCPUQuota,
  withCPUShares,
  withCPUs,
  withHostNetwork,
  withHostname,
  withMemoryLimit,
  withNetNSPath,
  withPidsLimit,
} from './spec/opts-linux.js';
export {
  type BindMountOptions,
  bindMount,
  DEFAULT_INIT_HOST_PATH,
  DEFAULT_INIT_PATH,
  type InitOptions,
  type TmpfsMountOptions,
  tmpfsMount,
  withInit,
  withMounts,
  withReadonlyRootfs,
  withRootPath,
  withShmSize,
} from './spec/opts-mounts.js';
export {
  type RlimitRequest,
  withAdditionalGids,
  withCwd,
  withEnv,
  withNoNewPrivileges,
  withProcessArgs,
  withRlimits,
  withTTY,
  withUser,
} from './spec/opts-process.js';
export { withAddedCapabilities, withCapabilities, withDroppedCapabilities, withoutSeccomp, withPrivileged, withSeccompProfile } from './spec/opts-security.js';
export type { HostRlimits, RlimitValue } from './spec/rlimits.js';
export { DEFAULT_SECCOMP_PROFILE } from './spec/seccomp-default.js';
export type { SeccompArchMapEntry, SeccompProfile, SeccompRule, SeccompRuleFilter } from './spec/seccomp-profile.js';
export { composeSpecOpts, type SpecContext, type SpecOpt } from './spec/spec-opt.js';
export type {
  BlkioEntry,
  ContainerInfo,
  ContainerState,
  ContainerStatus,
  DetachedResult,
  ErrorEvent,
  ExitResult,
  MemoryEntry,
  NetworkInterfaceStats,
  OomEvent,
  RuncEvent,
  RuntimeFeatures,
  RuntimeVersion,
  Stats,
  StatsEvent,
  UnknownEvent,
} from './types.js';
