import { newError } from '../errors/index.js';
import * as pbContainer from '../gen/containerd/events/container.js';
import * as pbContent from '../gen/containerd/events/content.js';
import * as pbImage from '../gen/containerd/events/image.js';
import * as pbNamespace from '../gen/containerd/events/namespace.js';
import * as pbSnapshot from '../gen/containerd/events/snapshot.js';
import * as pbTask from '../gen/containerd/events/task.js';
import { toAny, toDate, toMount, type AnyValue } from './convert.js';
import type { ContainerdEventPayloads, ContainerdEventType, DecodedEvent, TaskEventIO } from './event-types.js';

// Every converter copies field by field, so a field added to a generated message never leaks out unnoticed.

function taskIO(m: pbTask.TaskIO): TaskEventIO {
  return { stdin: m.stdin, stdout: m.stdout, stderr: m.stderr, terminal: m.terminal };
}

/** A Date field that is left out when unset (rather than present as undefined), so payloads compare cleanly. */
function dateField<K extends string>(key: K, ts: Parameters<typeof toDate>[0]): { [P in K]?: Date } {
  const date = toDate(ts);
  return (date === undefined ? {} : { [key]: date }) as { [P in K]?: Date };
}

/** Decodes the bytes of each known event and converts the generated message into its domain form. */
const DECODERS: { [T in ContainerdEventType]: (bytes: Uint8Array) => ContainerdEventPayloads[T] } = {
  'containerd.events.TaskCreate': (b) => {
    const m = pbTask.TaskCreate.decode(b);
    return {
      containerId: m.containerId,
      bundle: m.bundle,
      rootfs: m.rootfs.map(toMount),
      ...(m.io !== undefined ? { io: taskIO(m.io) } : {}),
      checkpoint: m.checkpoint,
      pid: m.pid,
    };
  },
  'containerd.events.TaskStart': (b) => {
    const m = pbTask.TaskStart.decode(b);
    return { containerId: m.containerId, pid: m.pid };
  },
  'containerd.events.TaskDelete': (b) => {
    const m = pbTask.TaskDelete.decode(b);
    return { containerId: m.containerId, pid: m.pid, exitStatus: m.exitStatus, ...dateField('exitedAt', m.exitedAt), id: m.id };
  },
  'containerd.events.TaskIO': (b) => taskIO(pbTask.TaskIO.decode(b)),
  'containerd.events.TaskExit': (b) => {
    const m = pbTask.TaskExit.decode(b);
    return { containerId: m.containerId, id: m.id, pid: m.pid, exitStatus: m.exitStatus, ...dateField('exitedAt', m.exitedAt) };
  },
  'containerd.events.TaskOOM': (b) => ({ containerId: pbTask.TaskOOM.decode(b).containerId }),
  'containerd.events.TaskExecAdded': (b) => {
    const m = pbTask.TaskExecAdded.decode(b);
    return { containerId: m.containerId, execId: m.execId };
  },
  'containerd.events.TaskExecStarted': (b) => {
    const m = pbTask.TaskExecStarted.decode(b);
    return { containerId: m.containerId, execId: m.execId, pid: m.pid };
  },
  'containerd.events.TaskPaused': (b) => ({ containerId: pbTask.TaskPaused.decode(b).containerId }),
  'containerd.events.TaskResumed': (b) => ({ containerId: pbTask.TaskResumed.decode(b).containerId }),
  'containerd.events.TaskCheckpointed': (b) => {
    const m = pbTask.TaskCheckpointed.decode(b);
    return { containerId: m.containerId, checkpoint: m.checkpoint };
  },
  'containerd.events.ContainerCreate': (b) => {
    const m = pbContainer.ContainerCreate.decode(b);
    const r = m.runtime;
    const options = toAny(r?.options);
    return {
      id: m.id,
      image: m.image,
      ...(r !== undefined ? { runtime: { name: r.name, ...(options !== undefined ? { options } : {}) } } : {}),
    };
  },
  'containerd.events.ContainerUpdate': (b) => {
    const m = pbContainer.ContainerUpdate.decode(b);
    return { id: m.id, image: m.image, labels: { ...m.labels }, snapshotKey: m.snapshotKey };
  },
  'containerd.events.ContainerDelete': (b) => ({ id: pbContainer.ContainerDelete.decode(b).id }),
  'containerd.events.ImageCreate': (b) => {
    const m = pbImage.ImageCreate.decode(b);
    return { name: m.name, labels: { ...m.labels } };
  },
  'containerd.events.ImageUpdate': (b) => {
    const m = pbImage.ImageUpdate.decode(b);
    return { name: m.name, labels: { ...m.labels } };
  },
  'containerd.events.ImageDelete': (b) => ({ name: pbImage.ImageDelete.decode(b).name }),
  'containerd.events.NamespaceCreate': (b) => {
    const m = pbNamespace.NamespaceCreate.decode(b);
    return { name: m.name, labels: { ...m.labels } };
  },
  'containerd.events.NamespaceUpdate': (b) => {
    const m = pbNamespace.NamespaceUpdate.decode(b);
    return { name: m.name, labels: { ...m.labels } };
  },
  'containerd.events.NamespaceDelete': (b) => ({ name: pbNamespace.NamespaceDelete.decode(b).name }),
  'containerd.events.ContentDelete': (b) => ({ digest: pbContent.ContentDelete.decode(b).digest }),
  'containerd.events.SnapshotPrepare': (b) => {
    const m = pbSnapshot.SnapshotPrepare.decode(b);
    return { key: m.key, parent: m.parent, snapshotter: m.snapshotter };
  },
  'containerd.events.SnapshotCommit': (b) => {
    const m = pbSnapshot.SnapshotCommit.decode(b);
    return { key: m.key, name: m.name, snapshotter: m.snapshotter };
  },
  'containerd.events.SnapshotRemove': (b) => {
    const m = pbSnapshot.SnapshotRemove.decode(b);
    return { key: m.key, snapshotter: m.snapshotter };
  },
};

function isKnown(name: string): name is ContainerdEventType {
  return Object.hasOwn(DECODERS, name);
}

/**
 * Decodes an event payload by its type URL (`containerd.events.TaskExit`, or any `<prefix>/containerd.events.X`)
 * into its domain form (see {@link ContainerdEventPayloads}). Returns `{ type: 'unknown', payload: undefined }` for
 * a missing payload or a type containerkit has no message for.
 *
 * @throws ERR_CONTAINERD_INTERNAL when the bytes do not decode as the named message.
 */
export function decodeEvent(raw: AnyValue | undefined): DecodedEvent {
  if (raw === undefined) return { type: 'unknown', payload: undefined };
  const name = raw.typeUrl.slice(raw.typeUrl.lastIndexOf('/') + 1);
  if (!isKnown(name)) return { type: 'unknown', payload: undefined };
  try {
    return { type: name, payload: DECODERS[name](raw.value) } as DecodedEvent;
  } catch (err) {
    throw newError('ERR_CONTAINERD_INTERNAL', `cannot decode event payload of type ${raw.typeUrl}`, { cause: err });
  }
}
