import type { TaskEvent, TaskEventBase } from '../oci/task.js';
import type { AnyValue } from './convert.js';

// Hand-written mirrors of containerd's non-task event messages (package containerd.events), field for field, with
// Anys as AnyValue. No field is an int64, so nothing is narrowed. A string field containerd leaves unset arrives as ''.
// Task events are not mirrored here: they are the shared `TaskEvent` of lib/oci, as a shim's are.

/** The runtime of a created container. */
export interface ContainerEventRuntime {
  name: string;
  /** The runtime's options, when any were given. */
  options?: AnyValue;
}

/** `/containers/create`: a container record was created. */
export interface ContainerCreateEvent {
  id: string;
  image: string;
  /** Absent when the sender left it out. */
  runtime?: ContainerEventRuntime;
}

/** `/containers/update`: a container record was updated. */
export interface ContainerUpdateEvent {
  id: string;
  image: string;
  labels: Record<string, string>;
  snapshotKey: string;
}

/** `/containers/delete`: a container record was deleted. */
export interface ContainerDeleteEvent {
  id: string;
}

/** `/images/create`: an image record was created. */
export interface ImageCreateEvent {
  name: string;
  labels: Record<string, string>;
}

/** `/images/update`: an image record was updated. */
export interface ImageUpdateEvent {
  name: string;
  labels: Record<string, string>;
}

/** `/images/delete`: an image record was deleted. */
export interface ImageDeleteEvent {
  name: string;
}

/** `/namespaces/create`: a namespace was created. */
export interface NamespaceCreateEvent {
  name: string;
  labels: Record<string, string>;
}

/** `/namespaces/update`: a namespace was updated. */
export interface NamespaceUpdateEvent {
  name: string;
  labels: Record<string, string>;
}

/** `/namespaces/delete`: a namespace was deleted. */
export interface NamespaceDeleteEvent {
  name: string;
}

/** `/content/delete`: a blob was deleted from the content store. */
export interface ContentDeleteEvent {
  digest: string;
}

/** `/snapshot/prepare`: an active snapshot was prepared. */
export interface SnapshotPrepareEvent {
  key: string;
  /** '' for a snapshot without parent. */
  parent: string;
  snapshotter: string;
}

/** `/snapshot/commit`: active snapshot `key` was committed as `name`. */
export interface SnapshotCommitEvent {
  key: string;
  name: string;
  snapshotter: string;
}

/** `/snapshot/remove`: a snapshot was removed. */
export interface SnapshotRemoveEvent {
  key: string;
  snapshotter: string;
}

/** The decoded payload of each non-task event type containerd publishes, by message name. */
export interface ContainerdEventPayloads {
  'containerd.events.ContainerCreate': ContainerCreateEvent;
  'containerd.events.ContainerUpdate': ContainerUpdateEvent;
  'containerd.events.ContainerDelete': ContainerDeleteEvent;
  'containerd.events.ImageCreate': ImageCreateEvent;
  'containerd.events.ImageUpdate': ImageUpdateEvent;
  'containerd.events.ImageDelete': ImageDeleteEvent;
  'containerd.events.NamespaceCreate': NamespaceCreateEvent;
  'containerd.events.NamespaceUpdate': NamespaceUpdateEvent;
  'containerd.events.NamespaceDelete': NamespaceDeleteEvent;
  'containerd.events.ContentDelete': ContentDeleteEvent;
  'containerd.events.SnapshotPrepare': SnapshotPrepareEvent;
  'containerd.events.SnapshotCommit': SnapshotCommitEvent;
  'containerd.events.SnapshotRemove': SnapshotRemoveEvent;
}

/** The message name of a known non-task event type. */
export type ContainerdEventType = keyof ContainerdEventPayloads;

/** An event about containerd's own records (containers, images, namespaces, content, snapshots), with its payload. */
export type ContainerdResourceEvent = {
  [T in ContainerdEventType]: TaskEventBase & { type: T; payload: ContainerdEventPayloads[T] };
}[ContainerdEventType];

/**
 * One event of containerd's bus: a task event in the shared vocabulary ({@link TaskEvent}: `exit`, `delete`, …), or
 * a resource event in containerd's own. A payload type containerkit does not know comes as TaskEvent's `'unknown'`.
 */
export type ContainerdEvent = TaskEvent | ContainerdResourceEvent;

/** What `decodeEvent` returns: an event without its routing fields (topic, namespace, timestamp). */
export type DecodedEvent = ContainerdEvent extends infer E ? (E extends TaskEventBase ? Omit<E, keyof TaskEventBase> : never) : never;
