/**
 * The Engine's parts that keep state on disk under a root: container records and names, the events log, and the
 * reader of containers' logs. Any number of processes may use one root at once.
 * @module
 */
export type { CreateOptions } from './create-options.js';
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
export type { LogEntry, LogStream } from './log-lines.js';
