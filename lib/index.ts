/**
 * containerkit: build your own container engine in Node.js. Each component is also importable on its own
 * (`containerkit/oci`, `containerkit/util`, …); this root re-exports them all.
 * @packageDocumentation
 */

export * from './containerd/index.js';
export * from './content/index.js';
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
export * from './errors/index.js';
export * from './images/index.js';
export * from './oci/index.js';
export * from './registry/index.js';
export * from './runtime/index.js';
export * from './shim/index.js';
export * from './unpack/index.js';
export * from './util/index.js';
