import { newError } from '../../errors/index.js';
import { NAMESPACE_METADATA_KEY, type TtrpcCallOptions, type TtrpcClient, type TtrpcMetadata } from './client.js';

// Typed clients and services from ts-proto's `outputServices=generic-definitions` output. Only the shape of those
// definitions is declared here (structurally), so nothing in this file depends on the generated code itself.

/** A generated message type: what ttrpc needs to put it on the wire and back. */
export interface TtrpcMessageType<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromPartial(object: never): T;
}

/** One method of a generated service definition. Only unary methods (both `*Stream` false) can be used over ttrpc here. */
export interface TtrpcMethodDefinition {
  /** Method name on the wire, e.g. `Create`. */
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: each method has its own message types; a definition table holds them all
  requestType: TtrpcMessageType<any>;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  responseType: TtrpcMessageType<any>;
  requestStream: boolean;
  responseStream: boolean;
}

/** A generated service definition, e.g. `TaskDefinition` (`fullName` = `containerd.task.v2.Task`). */
export interface TtrpcServiceDefinition {
  name: string;
  fullName: string;
  methods: Record<string, TtrpcMethodDefinition>;
}

/** The partial form of a message type (what `fromPartial` takes). */
// biome-ignore lint/suspicious/noExplicitAny: the constraint accepts any message type
export type PartialOf<T extends TtrpcMessageType<any>> = Parameters<T['fromPartial']>[0];
/** The message a generated message type decodes to. */
export type MessageOf<T> = T extends TtrpcMessageType<infer U> ? U : never;

/** The typed client of a service: one async method per RPC, taking a partial request (defaults filled in). */
export type TtrpcServiceClient<D extends TtrpcServiceDefinition> = {
  [K in keyof D['methods']]: (
    request: PartialOf<D['methods'][K]['requestType']>,
    options?: TtrpcCallOptions,
  ) => Promise<MessageOf<D['methods'][K]['responseType']>>;
};

/** Options of {@link createTtrpcClient}. */
export interface CreateTtrpcClientOptions {
  /** Sent with every call as `containerd-namespace-ttrpc` (what containerd sends to its shims). Default: not sent. */
  namespace?: string;
  /** Metadata sent with every call; a call's own metadata wins per key. */
  metadata?: TtrpcMetadata;
  /** Overrides the service name on the wire (default `definition.fullName`). */
  serviceName?: string;
}

function assertUnary(definition: TtrpcServiceDefinition, key: string): void {
  const method = definition.methods[key]!;
  if (method.requestStream || method.responseStream) {
    throw newError('ERR_INVALID_ARGUMENT', `${definition.fullName}/${method.name} is a streaming method; only unary methods are supported over ttrpc`);
  }
}

/**
 * Builds a typed client for `definition` on a {@link TtrpcClient}: `createTtrpcClient(TaskDefinition, client,
 * { namespace }).create({ id, bundle }, { signal, timeoutMs })`. Requests are completed with `fromPartial`, encoded,
 * sent, and answers decoded (an absent payload decodes as the empty message).
 *
 * @throws ERR_INVALID_ARGUMENT when the definition has streaming methods or an option is malformed; each method
 *   throws what {@link TtrpcClient.call} throws, plus ERR_TTRPC_PROTOCOL for an undecodable answer.
 */
export function createTtrpcClient<D extends TtrpcServiceDefinition>(
  definition: D,
  client: TtrpcClient,
  options: CreateTtrpcClientOptions = {},
): TtrpcServiceClient<D> {
  const { namespace, metadata = {}, serviceName = definition.fullName } = options;
  if (namespace !== undefined && (typeof namespace !== 'string' || namespace === '')) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.namespace must be a non-empty string');
  }
  const base: TtrpcMetadata = namespace === undefined ? { ...metadata } : { [NAMESPACE_METADATA_KEY]: namespace, ...metadata };
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(definition.methods)) {
    assertUnary(definition, key);
    const method = definition.methods[key]!;
    out[key] = async (request: never, callOptions: TtrpcCallOptions = {}): Promise<unknown> => {
      const payload = method.requestType.encode(method.requestType.fromPartial(request ?? ({} as never))).finish();
      const answer = await client.call(serviceName, method.name, payload, { ...callOptions, metadata: { ...base, ...callOptions.metadata } });
      try {
        return method.responseType.decode(answer);
      } catch (err) {
        throw newError('ERR_TTRPC_PROTOCOL', `${serviceName}/${method.name}: undecodable answer`, { cause: err });
      }
    };
  }
  return out as TtrpcServiceClient<D>;
}

/** What a server handler learns about its call. */
export interface TtrpcCallContext {
  service: string;
  method: string;
  /**
   * The call's metadata, every value of each key (lower-cased) in order. A null-prototype object: its keys are the
   * peer's, so `metadata.constructor` is the peer's value or undefined, never Object's.
   */
  metadata: Record<string, string[]>;
  /** The first `containerd-namespace-ttrpc` value, if sent. */
  namespace: string | undefined;
  /**
   * Aborts when the caller's `timeout_nano` passes (reason ERR_DEADLINE_EXCEEDED; a deadline beyond ~24.8
   * days, what a Node timer takes, is clamped to it), the connection ends or the server closes.
   */
  signal: AbortSignal;
}

/** The handlers of a service: one per RPC, returning the answer (partial: defaults are filled in; nothing = the empty message). */
export type TtrpcServiceHandlers<D extends TtrpcServiceDefinition> = {
  [K in keyof D['methods']]: (
    request: MessageOf<D['methods'][K]['requestType']>,
    context: TtrpcCallContext,
  ) => Promise<PartialOf<D['methods'][K]['responseType']> | void> | PartialOf<D['methods'][K]['responseType']> | void;
};

/** A raw method handler as a `TtrpcServer` runs it: request bytes in, answer bytes out. */
export type TtrpcRawHandler = (payload: Uint8Array, context: TtrpcCallContext) => Promise<Uint8Array>;

/** A service ready to register on a `TtrpcServer`. */
export interface TtrpcService {
  /** Full service name, e.g. `containerd.services.events.ttrpc.v1.Events`. */
  name: string;
  /** Wire method name → handler. */
  methods: ReadonlyMap<string, TtrpcRawHandler>;
}

/**
 * Builds a service for `TtrpcServer.register` from a generated definition and typed handlers. Handlers that are
 * missing answer UNIMPLEMENTED; a handler's thrown containerkit error becomes the status of its category.
 *
 * @throws ERR_INVALID_ARGUMENT when the definition has streaming methods.
 */
export function createTtrpcService<D extends TtrpcServiceDefinition>(definition: D, handlers: Partial<TtrpcServiceHandlers<D>>): TtrpcService {
  const methods = new Map<string, TtrpcRawHandler>();
  for (const key of Object.keys(definition.methods)) {
    assertUnary(definition, key);
    const handler = (handlers as Record<string, ((req: unknown, ctx: TtrpcCallContext) => unknown) | undefined>)[key];
    if (handler === undefined) continue;
    const method = definition.methods[key]!;
    methods.set(method.name, async (payload, context) => {
      let request: unknown;
      try {
        request = method.requestType.decode(payload);
      } catch (err) {
        throw newError('ERR_TTRPC_INVALID_ARGUMENT', `${definition.fullName}/${method.name}: undecodable request`, { cause: err });
      }
      const answer = await handler(request, context);
      return method.responseType.encode(method.responseType.fromPartial((answer ?? {}) as never)).finish();
    });
  }
  return { name: definition.fullName, methods };
}
