import { newError } from '../errors/index.js';
import * as pbContainer from '../gen/containerd/events/container.js';
import * as pbContent from '../gen/containerd/events/content.js';
import * as pbImage from '../gen/containerd/events/image.js';
import * as pbNamespace from '../gen/containerd/events/namespace.js';
import * as pbSnapshot from '../gen/containerd/events/snapshot.js';
import * as pbTask from '../gen/containerd/events/task.js';
import { type AnyValue, toAny, toDate, toMount } from './convert.js';
import type { ContainerdEventPayloads, ContainerdEventType, DecodedEvent } from './event-types.js';

// Every converter copies field by field, so a field added to a generated message never leaks out unnoticed.

// exit and delete name the process by `id`, which is the container id (or '') for the init process.
const execOf = (containerId: string, id: string): string | undefined => (id === '' || id === containerId ? undefined : id);

// A Map, not an object: the key comes from the peer's type URL, and `constructor` or `__proto__` must find nothing.
const DECODERS = new Map<string, (bytes: Uint8Array) => DecodedEvent>(
  Object.entries({
    'containerd.events.TaskCreate': (b) => {
      const m = pbTask.TaskCreate.decode(b);
      const io = m.io ?? { stdin: '', stdout: '', stderr: '', terminal: false };
      return {
        type: 'create',
        containerId: m.containerId,
        bundle: m.bundle,
        pid: m.pid,
        rootfs: m.rootfs.map(toMount),
        io: { stdin: io.stdin, stdout: io.stdout, stderr: io.stderr, terminal: io.terminal },
        checkpoint: m.checkpoint,
      };
    },
    'containerd.events.TaskStart': (b) => {
      const m = pbTask.TaskStart.decode(b);
      return { type: 'start', containerId: m.containerId, pid: m.pid };
    },
    'containerd.events.TaskDelete': (b) => {
      const m = pbTask.TaskDelete.decode(b);
      return { type: 'delete', containerId: m.containerId, execId: execOf(m.containerId, m.id), pid: m.pid, code: m.exitStatus, exitedAt: toDate(m.exitedAt) };
    },
    'containerd.events.TaskExit': (b) => {
      const m = pbTask.TaskExit.decode(b);
      return { type: 'exit', containerId: m.containerId, execId: execOf(m.containerId, m.id), pid: m.pid, code: m.exitStatus, exitedAt: toDate(m.exitedAt) };
    },
    'containerd.events.TaskOOM': (b) => ({ type: 'oom', containerId: pbTask.TaskOOM.decode(b).containerId }),
    'containerd.events.TaskExecAdded': (b) => {
      const m = pbTask.TaskExecAdded.decode(b);
      return { type: 'exec-added', containerId: m.containerId, execId: m.execId };
    },
    'containerd.events.TaskExecStarted': (b) => {
      const m = pbTask.TaskExecStarted.decode(b);
      return { type: 'exec-started', containerId: m.containerId, execId: m.execId, pid: m.pid };
    },
    'containerd.events.TaskPaused': (b) => ({ type: 'paused', containerId: pbTask.TaskPaused.decode(b).containerId }),
    'containerd.events.TaskResumed': (b) => ({ type: 'resumed', containerId: pbTask.TaskResumed.decode(b).containerId }),
    'containerd.events.TaskCheckpointed': (b) => {
      const m = pbTask.TaskCheckpointed.decode(b);
      return { type: 'checkpointed', containerId: m.containerId, checkpoint: m.checkpoint };
    },
  } satisfies Record<string, (bytes: Uint8Array) => DecodedEvent>),
);

// Non-task events keep containerd's own shapes, as `{ type: <message name>, payload }`.
const RESOURCE_DECODERS: { [T in ContainerdEventType]: (bytes: Uint8Array) => ContainerdEventPayloads[T] } = {
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

for (const [name, decode] of Object.entries(RESOURCE_DECODERS)) {
  DECODERS.set(name, (b) => ({ type: name, payload: decode(b) }) as DecodedEvent);
}

/**
 * Decodes an event payload by its type URL (`containerd.events.TaskExit`, or any `<prefix>/containerd.events.X`):
 * task events into the shared `TaskEvent` form (`exit`, `delete`, … with `code`, `exitedAt`, and no `execId` for the
 * init process), the others into containerd's (see {@link ContainerdEventPayloads}). A missing payload or a type
 * containerkit has no message for gives `{ type: 'unknown', typeUrl, value }`.
 *
 * @throws ERR_CONTAINERD_INTERNAL when the bytes do not decode as the named message.
 */
export function decodeEvent(raw: AnyValue | undefined): DecodedEvent {
  const typeUrl = raw?.typeUrl ?? '';
  const value = raw?.value ?? new Uint8Array(0);
  const decode = DECODERS.get(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));
  if (decode === undefined) return { type: 'unknown', typeUrl, value };
  try {
    return decode(value);
  } catch (err) {
    throw newError('ERR_CONTAINERD_INTERNAL', `cannot decode event payload of type ${typeUrl}`, { cause: err });
  }
}
