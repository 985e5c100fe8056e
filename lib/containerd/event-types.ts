import type { Mount } from '../oci/mount.js';
import type { AnyValue } from './convert.js';

// Hand-written mirrors of containerd's event messages (package containerd.events), field for field, with
// Timestamps as Dates, Anys as AnyValue and wire mounts as OCI mounts. No field is an int64, so nothing is
// narrowed. A string field containerd leaves unset arrives as ''.

import type { TaskEventIO } from '../oci/task.js';

export type { TaskEventIO };

/** `/tasks/create`: a task was created. */
export interface TaskCreateEvent {
  containerId: string;
  bundle: string;
  rootfs: Mount[];
  /** Absent when the sender left it out. */
  io?: TaskEventIO;
  checkpoint: string;
  pid: number;
}

/** `/tasks/start`: a task's init process started. */
export interface TaskStartEvent {
  containerId: string;
  pid: number;
}

/** `/tasks/delete`: a task (or exec) was deleted. */
export interface TaskDeleteEvent {
  containerId: string;
  pid: number;
  exitStatus: number;
  /** Absent when unset (or Go's zero time). */
  exitedAt?: Date;
  /** The exec id, or the container id for the init process. */
  id: string;
}

/** `/tasks/exit`: a task's process exited. */
export interface TaskExitEvent {
  containerId: string;
  /** The exec id, or the container id for the init process. */
  id: string;
  pid: number;
  exitStatus: number;
  /** Absent when unset (or Go's zero time). */
  exitedAt?: Date;
}

/** `/tasks/oom`: a task hit its memory limit. */
export interface TaskOOMEvent {
  containerId: string;
}

/** `/tasks/exec-added`: an exec process was added to a task. */
export interface TaskExecAddedEvent {
  containerId: string;
  execId: string;
}

/** `/tasks/exec-started`: an exec process started. */
export interface TaskExecStartedEvent {
  containerId: string;
  execId: string;
  pid: number;
}

/** `/tasks/paused`: a task was paused. */
export interface TaskPausedEvent {
  containerId: string;
}

/** `/tasks/resumed`: a task was resumed. */
export interface TaskResumedEvent {
  containerId: string;
}

/** `/tasks/checkpointed`: a task was checkpointed. */
export interface TaskCheckpointedEvent {
  containerId: string;
  checkpoint: string;
}

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

/** The decoded payload of each event type containerd publishes, by message name. */
export interface ContainerdEventPayloads {
  'containerd.events.TaskCreate': TaskCreateEvent;
  'containerd.events.TaskStart': TaskStartEvent;
  'containerd.events.TaskDelete': TaskDeleteEvent;
  'containerd.events.TaskIO': TaskEventIO;
  'containerd.events.TaskExit': TaskExitEvent;
  'containerd.events.TaskOOM': TaskOOMEvent;
  'containerd.events.TaskExecAdded': TaskExecAddedEvent;
  'containerd.events.TaskExecStarted': TaskExecStartedEvent;
  'containerd.events.TaskPaused': TaskPausedEvent;
  'containerd.events.TaskResumed': TaskResumedEvent;
  'containerd.events.TaskCheckpointed': TaskCheckpointedEvent;
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

/** The message name of a known event type. */
export type ContainerdEventType = keyof ContainerdEventPayloads;

/** One event: routing data plus the payload decoded by its type URL (`type`, `payload`) when the type is known. */
export type ContainerdEvent =
  | {
      [T in ContainerdEventType]: {
        topic: string;
        namespace: string;
        timestamp?: Date;
        type: T;
        payload: ContainerdEventPayloads[T];
        raw: AnyValue;
      };
    }[ContainerdEventType]
  | { topic: string; namespace: string; timestamp?: Date; type: 'unknown'; payload: undefined; raw?: AnyValue };

/** What `decodeEvent` returns: a known type with its payload, or `unknown` without one. */
export type DecodedEvent =
  | { [T in ContainerdEventType]: { type: T; payload: ContainerdEventPayloads[T] } }[ContainerdEventType]
  | { type: 'unknown'; payload: undefined };
