import { type AnyValue, fromAny, fromDate, toAny, toDate } from './convert.js';
import { decodeEvent } from './event-decode.js';
import type { ContainerdEvent } from './event-types.js';
import type { ContainerdCallOptions } from './middleware.js';
import type { RpcClients } from './rpc.js';

/** containerd's event bus. */
export class EventsService {
  /** @internal Built by `ContainerdClient` over its raw gRPC clients, which are not public. */
  constructor(private readonly rpc: Pick<RpcClients, 'events'>) {}

  /**
   * The events matching any of `filters` (e.g. `topic=="/tasks/exit"`, `namespace==default`, `topic~="/tasks/"`;
   * all events of every namespace when empty), as they happen: task events as the shared `TaskEvent`, the others in
   * containerd's own types (see {@link ContainerdEvent}). Endless: it ends quietly (no error) when `options.signal`
   * aborts, already aborted included, or when the consumer breaks out. Throws ERR_CONTAINERD_* when containerd fails
   * the stream, and a `TimeoutError` when `timeoutMs`/`deadline` ends it.
   */
  async *subscribe(filters: string[] = [], options: ContainerdCallOptions = {}): AsyncGenerator<ContainerdEvent, void, undefined> {
    const { signal } = options;
    if (signal?.aborted) return;
    try {
      for await (const envelope of this.rpc.events.subscribe({ filters }, options)) {
        yield {
          topic: envelope.topic,
          namespace: envelope.namespace,
          timestamp: toDate(envelope.timestamp),
          ...decodeEvent(toAny(envelope.event)),
        } as ContainerdEvent;
      }
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
  }

  /** Publishes an event on `topic` (in the client's namespace). @throws ERR_CONTAINERD_INVALID_ARGUMENT for a bad topic. */
  async publish(topic: string, event: AnyValue, options: ContainerdCallOptions = {}): Promise<void> {
    await this.rpc.events.publish({ topic, event: fromAny(event) }, options);
  }

  /** Forwards an event with its own namespace and time (what shims do). */
  async forward(envelope: { topic: string; namespace: string; event: AnyValue; timestamp?: Date }, options: ContainerdCallOptions = {}): Promise<void> {
    const { topic, namespace, event, timestamp = new Date() } = envelope;
    await this.rpc.events.forward({ envelope: { topic, namespace, event: fromAny(event), timestamp: fromDate(timestamp) } }, options);
  }
}
