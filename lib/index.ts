/**
 * containerkit: build your own container engine in Node.js. The root is the Engine-level API: `Engine`, the types
 * its methods take and return, the registry client it pulls with, and the errors it throws. Each part is importable
 * on its own with its classes, options and errors (`containerkit/oci`, `/registry`, `/images`, `/unpack`,
 * `/runtime`, `/shim`, `/containerd`, `/engine`, `/util`, `/errors`).
 * @packageDocumentation
 */

export type {
  ContainerMount,
  ContainerResources,
  ImageRemoval,
  InspectedImage,
  RunnableImage,
  SnapshotterChoice,
} from './engine/index.js';
export {
  type ContainerHandle,
  type ContainerInput,
  type ContainerInspect,
  type ContainerStats,
  type ContainerSummary,
  type CreateOptions,
  Engine,
  type EngineCreateOptions,
  type EngineEvent,
  type EngineEvents,
  type EngineEventsOptions,
  type EngineLogsOptions,
  type EngineOptions,
  type ExecOptions,
  type ExecResult,
  type ExecStream,
  type ExecStreamOptions,
  type ListFilters,
  type ListOptions,
  type LogEntry,
  type PortBinding,
  type RecoveryReport,
  type RemoveOptions,
  type RunOptions,
  type RunResult,
  type StopOptions,
  type TopResult,
  type UpdateResources,
  type WaitCondition,
  type WaitOptions,
} from './engine/index.js';
export {
  AlreadyExistsError,
  ConflictError,
  ContainerkitError,
  type ErrorCategory,
  type ErrorCode,
  FailedPreconditionError,
  InternalError,
  InvalidArgumentError,
  isAbortError,
  isErrorCode,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
} from './errors/index.js';
export type { ExportArchiveOptions, ImportArchiveOptions, ImportArchiveResult, NamedImage, PullProgress } from './images/index.js';
export type { Descriptor, Digest, ImageConfig, Platform } from './oci/index.js';
export { RegistryClient, type RegistryClientOptions, RegistryError } from './registry/index.js';
export type { Snapshotter } from './unpack/index.js';
