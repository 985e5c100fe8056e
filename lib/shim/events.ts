import { newError } from '../errors/index.js';
import {
  TaskCheckpointed,
  TaskCreate,
  TaskDelete,
  TaskExecAdded,
  TaskExecStarted,
  TaskExit,
  TaskOOM,
  TaskPaused,
  TaskResumed,
  TaskStart,
} from '../gen/containerd/events/task.js';
import { Envelope, EventsDefinition } from '../gen/containerd/services/events/ttrpc/v1/events.js';
import type { TaskEvent, TaskEventBase } from '../oci/index.js';
import { mountFromWire, timestampToDate, typeNameOf } from './convert.js';
import type { TtrpcCallContext, TtrpcService } from './ttrpc/service.js';
import { createTtrpcService } from './ttrpc/service.js';

// exit and delete name the process by `id`, which is the container id for init.
const execOf = (containerId: string, id: string): string | undefined => (id === '' || id === containerId ? undefined : id);

type Payload = TaskEvent extends infer E ? (E extends TaskEventBase ? Omit<E, keyof TaskEventBase> : never) : never;

// A Map, not an object: the key is the peer's type URL, and `constructor` or `__proto__` must find nothing.
const DECODERS = new Map<string, (value: Uint8Array) => Payload>(
  Object.entries({
    'containerd.events.TaskCreate': (v) => {
      const m = TaskCreate.decode(v);
      const io = m.io ?? { stdin: '', stdout: '', stderr: '', terminal: false };
      return {
        type: 'create',
        containerId: m.containerId,
        bundle: m.bundle,
        pid: m.pid,
        rootfs: m.rootfs.map(mountFromWire),
        io: { ...io },
        checkpoint: m.checkpoint,
      };
    },
    'containerd.events.TaskStart': (v) => {
      const m = TaskStart.decode(v);
      return { type: 'start', containerId: m.containerId, pid: m.pid };
    },
    'containerd.events.TaskExit': (v) => {
      const m = TaskExit.decode(v);
      return {
        type: 'exit',
        containerId: m.containerId,
        execId: execOf(m.containerId, m.id),
        pid: m.pid,
        code: m.exitStatus,
        exitedAt: timestampToDate(m.exitedAt),
      };
    },
    'containerd.events.TaskDelete': (v) => {
      const m = TaskDelete.decode(v);
      return {
        type: 'delete',
        containerId: m.containerId,
        execId: execOf(m.containerId, m.id),
        pid: m.pid,
        code: m.exitStatus,
        exitedAt: timestampToDate(m.exitedAt),
      };
    },
    'containerd.events.TaskOOM': (v) => ({ type: 'oom', containerId: TaskOOM.decode(v).containerId }),
    'containerd.events.TaskExecAdded': (v) => {
      const m = TaskExecAdded.decode(v);
      return { type: 'exec-added', containerId: m.containerId, execId: m.execId };
    },
    'containerd.events.TaskExecStarted': (v) => {
      const m = TaskExecStarted.decode(v);
      return { type: 'exec-started', containerId: m.containerId, execId: m.execId, pid: m.pid };
    },
    'containerd.events.TaskPaused': (v) => ({ type: 'paused', containerId: TaskPaused.decode(v).containerId }),
    'containerd.events.TaskResumed': (v) => ({ type: 'resumed', containerId: TaskResumed.decode(v).containerId }),
    'containerd.events.TaskCheckpointed': (v) => {
      const m = TaskCheckpointed.decode(v);
      return { type: 'checkpointed', containerId: m.containerId, checkpoint: m.checkpoint };
    },
  } satisfies Record<string, (value: Uint8Array) => Payload>),
);

/**
 * Decodes a serialized `containerd.services.events.ttrpc.v1.Envelope` into the shared {@link TaskEvent} (an exit's
 * or delete's `exitedAt` is undefined when the shim sent none; `execId` is undefined for the init process). The payload type comes
 * from the Any's type URL (with or without a `…/` prefix); unknown types give `{ type: 'unknown' }`.
 *
 * @throws ERR_TTRPC_INVALID_ARGUMENT when the envelope or a known payload cannot be decoded.
 */
export function decodeShimEvent(envelopeBytes: Uint8Array): TaskEvent {
  let envelope: Envelope;
  try {
    envelope = Envelope.decode(envelopeBytes);
  } catch (err) {
    throw newError('ERR_TTRPC_INVALID_ARGUMENT', 'undecodable event envelope', { cause: err });
  }
  return fromEnvelope(envelope);
}

function fromEnvelope(envelope: Envelope): TaskEvent {
  const base: TaskEventBase = { topic: envelope.topic, namespace: envelope.namespace, timestamp: timestampToDate(envelope.timestamp) };
  const typeUrl = envelope.event?.typeUrl ?? '';
  const value = envelope.event?.value ?? new Uint8Array(0);
  const decode = DECODERS.get(typeNameOf(typeUrl));
  if (decode === undefined) return { ...base, type: 'unknown', typeUrl, value };
  try {
    return { ...base, ...decode(value) } as TaskEvent;
  } catch (err) {
    throw newError('ERR_TTRPC_INVALID_ARGUMENT', `undecodable ${typeUrl} event on ${envelope.topic}`, {
      cause: err,
      details: { typeUrl, topic: envelope.topic },
    });
  }
}

/** Receives each forwarded event; the shim's `Forward` call answers once this returns (an error is sent back). */
export type ShimEventHandler = (event: TaskEvent, context: TtrpcCallContext) => void | Promise<void>;

/**
 * The `containerd.services.events.ttrpc.v1.Events` service shims call (on the socket named by their
 * `TTRPC_ADDRESS`): register it on a `TtrpcServer` and every `Forward` reaches `handler` as a typed event.
 * `context.namespace` holds the `containerd-namespace-ttrpc` metadata the shim sent.
 */
export function createEventsService(handler: ShimEventHandler): TtrpcService {
  return createTtrpcService(EventsDefinition, {
    forward: async (request, context) => {
      if (request.envelope === undefined) throw newError('ERR_TTRPC_INVALID_ARGUMENT', 'Forward without an envelope');
      await handler(fromEnvelope(request.envelope), context);
      return {};
    },
  });
}
