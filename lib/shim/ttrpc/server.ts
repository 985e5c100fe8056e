import { createServer, type Server, type Socket } from 'node:net';
import { type ContainerkitError, newError } from '../../errors/index.js';
import { Request, Response } from '../../gen/ttrpc/request.js';
import { logger } from '../../util/index.js';
import { TtrpcChannel } from './channel.js';
import { NAMESPACE_METADATA_KEY } from './client.js';
import { type Frame, FrameFlags, FrameType, MAX_MESSAGE_SIZE } from './codec.js';
import type { TtrpcCallContext, TtrpcService } from './service.js';
import { listenPrivately, removeSocketFile, type SocketFileId } from './socket-file.js';
import { errorToStatus, GrpcCode, type TtrpcStatusLike } from './status.js';

const log = logger('shim:ttrpc:server');

/** The longest delay a Node timer takes (about 24.8 days); a longer caller deadline is clamped to it. */
const MAX_DEADLINE_MS = 2 ** 31 - 1;
/** What a call in flight counts against `maxBufferedBytes` besides its request bytes (its controller, closures). */
const CALL_OVERHEAD_BYTES = 1024;

/** Limits of a {@link TtrpcServer}: what one peer may make it hold. */
export interface TtrpcServerOptions {
  /**
   * Connections open at once (at least 1); one more is closed as soon as it is accepted. Default 1024 (a shim
   * keeps one connection to its events socket while it runs).
   */
  maxConnections?: number;
  /**
   * Bytes one connection may hold for its peer (at least 1024), default 8 MiB. A frame larger than this (or than ttrpc's 4 MiB)
   * is skipped unbuffered and answered RESOURCE_EXHAUSTED; a call whose request bytes (plus 1 KiB of bookkeeping),
   * added to those of the calls still running and the answers not yet written, exceed it is answered
   * RESOURCE_EXHAUSTED without running; a peer whose unread answers exceed it is disconnected. So a connection
   * holds at most about three times this.
   */
  maxBufferedBytes?: number;
  /**
   * A connection with no call running and no traffic for this many ms is closed. Default 300000 (5 minutes);
   * 0 turns it off; at most 2^31-1 (what a Node timer takes). Shims reconnect when they next publish an event.
   */
  idleTimeoutMs?: number;
}

/** Options of {@link TtrpcServer.listen}. */
export interface TtrpcListenOptions {
  /**
   * Permission bits of the socket file. Default `0o600`: only the owner (the shims run as the same user) may
   * connect. The socket appears at the path with these bits already set (see `listen`).
   */
  mode?: number;
  /** Cancels the listen; rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of {@link TtrpcServer.close}. */
export interface TtrpcCloseOptions {
  /**
   * Leave a (dead) socket file at the path. Default false. Shims dialing a path with no file wait 5 s per event
   * before giving up, but fail at once on a dead socket file (ECONNREFUSED), so an engine that goes away and comes
   * back on the same path should keep it.
   */
  keepSocketFile?: boolean;
}

interface Connection {
  channel: TtrpcChannel;
  lastStreamId: number;
  /** Calls running, each aborted when the server closes. */
  calls: Set<AbortController>;
  /** Request bytes (plus overhead) of the calls running. */
  heldBytes: number;
}

function limit(value: number | undefined, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw newError('ERR_INVALID_ARGUMENT', `options.${name} must be an integer between ${min} and ${max}`);
  }
  return value;
}

/**
 * A small ttrpc server on a unix socket, for the services shims call back (events `Forward`). Unary calls only;
 * many connections, and many calls per connection, are served concurrently. Answers carry an OK status and the
 * encoded payload; a handler's error becomes the status of its category (see `errorToStatus`). Unknown services
 * and methods answer UNIMPLEMENTED ("service X" / "method Y"), like containerd's ttrpc.
 *
 * Whatever a peer sends, the process stays up: undecodable frames and handler failures answer that stream with an
 * error status or end that connection, and {@link TtrpcServerOptions} bound what one peer can make it hold.
 */
export class TtrpcServer implements AsyncDisposable {
  readonly #services = new Map<string, TtrpcService>();
  readonly #connections = new Set<Connection>();
  readonly #maxConnections: number;
  readonly #maxBufferedBytes: number;
  readonly #idleTimeoutMs: number;
  /** Set while closing (or closed): new connections are refused and running calls aborted with it. */
  #stopping: ContainerkitError | undefined;
  #server: Server | undefined;
  #path: string | undefined;
  #socketFile: SocketFileId | undefined;

  /** @throws ERR_INVALID_ARGUMENT for a malformed option. */
  constructor(options: TtrpcServerOptions = {}) {
    if (typeof options !== 'object' || options === null) throw newError('ERR_INVALID_ARGUMENT', 'options must be an object');
    this.#maxConnections = limit(options.maxConnections, 'maxConnections', 1024, 1);
    this.#maxBufferedBytes = limit(options.maxBufferedBytes, 'maxBufferedBytes', 8 << 20, 1024);
    // A Node timer longer than MAX_DEADLINE_MS fires after 1 ms instead.
    this.#idleTimeoutMs = limit(options.idleTimeoutMs, 'idleTimeoutMs', 300_000, 0, MAX_DEADLINE_MS);
  }

  /**
   * Adds a service (made with `createTtrpcService`). May be called before or after `listen`.
   * @throws ERR_ALREADY_EXISTS when a service with that name is registered already.
   */
  register(service: TtrpcService): this {
    if (this.#services.has(service.name)) throw newError('ERR_ALREADY_EXISTS', `ttrpc service ${service.name} is already registered`);
    this.#services.set(service.name, service);
    return this;
  }

  /** The socket path while listening. */
  get path(): string | undefined {
    return this.#path;
  }

  /** Number of open connections. */
  get connections(): number {
    return this.#connections.size;
  }

  /**
   * Listens on the unix socket `path`. A stale socket file there (nothing accepts on it) is removed first. The
   * socket is bound in a private directory beside `path`, given `mode` there and then linked to `path`, so it
   * never exists at `path` with looser permissions (see `listenPrivately`).
   *
   * @throws ERR_ALREADY_EXISTS when a live server answers on `path`, or something other than a socket is there.
   * @throws ERR_FAILED_PRECONDITION when already listening; ERR_INVALID_ARGUMENT for a bad path or mode; ERR_IO for
   *   other filesystem failures. Rejects with `signal.reason` on abort.
   */
  async listen(path: string, options: TtrpcListenOptions = {}): Promise<void> {
    if (typeof path !== 'string' || !path.startsWith('/')) throw newError('ERR_INVALID_ARGUMENT', 'path must be an absolute path');
    const { mode = 0o600, signal } = options;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) throw newError('ERR_INVALID_ARGUMENT', 'options.mode must be an integer between 0 and 0o777');
    if (this.#server !== undefined) throw newError('ERR_FAILED_PRECONDITION', `ttrpc server already listens on ${this.#path}`);
    signal?.throwIfAborted();
    const server = createServer((socket) => this.#accept(socket));
    this.#stopping = undefined;
    this.#socketFile = await listenPrivately(server, path, mode, signal);
    this.#server = server;
    this.#path = path;
    server.on('error', (err) => log('server error on %s: %s', path, err.message));
    if (signal?.aborted) {
      await this.close();
      throw signal.reason;
    }
    log('listening on %s', path);
  }

  /**
   * Stops listening, closes every connection and aborts the handlers still running. Idempotent.
   * @throws ERR_IO when the socket file cannot be removed.
   */
  async close(options: TtrpcCloseOptions = {}): Promise<void> {
    this.#stopping ??= newError('ERR_TTRPC_UNAVAILABLE', 'ttrpc server is closing');
    const server = this.#server;
    const path = this.#path;
    const socketFile = this.#socketFile;
    this.#server = undefined;
    this.#path = undefined;
    this.#socketFile = undefined;
    for (const connection of this.#connections) this.#drop(connection);
    this.#connections.clear();
    if (server === undefined || path === undefined || socketFile === undefined) return;
    // The server was bound under a private name (gone already), so closing it does not remove `path`: that is ours
    // to do, unless a dead socket file is wanted there.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (options.keepSocketFile !== true) await removeSocketFile(path, socketFile);
  }

  /** Same as `close()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #accept(socket: Socket): void {
    if (this.#stopping !== undefined || this.#connections.size >= this.#maxConnections) {
      log('refusing a connection: %d open (limit %d)', this.#connections.size, this.#maxConnections);
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    const connection: Connection = {
      lastStreamId: 0,
      calls: new Set(),
      heldBytes: 0,
      channel: new TtrpcChannel(
        socket,
        {
          onFrame: (frame) => this.#onFrame(connection, frame),
          onOversized: (header) => {
            this.#reply(connection, header.streamId, undefined, {
              code: GrpcCode.RESOURCE_EXHAUSTED,
              message: `message length ${header.length} exceed maximum message size of ${Math.min(MAX_MESSAGE_SIZE, this.#maxBufferedBytes)}`,
            });
          },
          onClose: (error) => {
            this.#drop(connection);
            if (error) log('connection closed: %s', error.message);
          },
          onIdle: () => {
            if (connection.calls.size === 0) connection.channel.close();
          },
        },
        {
          maxMessageSize: Math.min(MAX_MESSAGE_SIZE, this.#maxBufferedBytes),
          ...(this.#idleTimeoutMs > 0 ? { idleTimeoutMs: this.#idleTimeoutMs } : {}),
        },
      ),
    };
    this.#connections.add(connection);
  }

  // Forgets a connection: closes it and aborts its running calls.
  #drop(connection: Connection): void {
    this.#connections.delete(connection);
    connection.channel.close();
    const reason = this.#stopping ?? newError('ERR_TTRPC_CONNECTION_CLOSED', 'ttrpc connection closed');
    for (const call of connection.calls) call.abort(reason);
  }

  #onFrame(connection: Connection, frame: Frame): void {
    if (frame.type !== FrameType.Request) return; // unary only: no Data frames expected
    const { streamId } = frame;
    if (streamId % 2 === 0 || streamId <= connection.lastStreamId) {
      // Same rule as containerd's ttrpc: client stream ids are odd and increase.
      connection.channel.close(newError('ERR_TTRPC_PROTOCOL', `ttrpc client used stream id ${streamId}; ids must be odd and increase`));
      return;
    }
    connection.lastStreamId = streamId;
    const cost = frame.data.length + CALL_OVERHEAD_BYTES;
    if (connection.heldBytes + cost + connection.channel.unsentBytes > this.#maxBufferedBytes) {
      this.#reply(connection, streamId, undefined, { code: GrpcCode.RESOURCE_EXHAUSTED, message: 'too many calls in flight on this connection' });
      return;
    }
    const controller = new AbortController();
    connection.calls.add(controller);
    connection.heldBytes += cost;
    this.#handle(connection, frame, controller.signal)
      .catch((err: unknown) => log('call on stream %d failed outside its handler: %s', streamId, errorToStatus(err).message))
      .finally(() => {
        connection.calls.delete(controller);
        connection.heldBytes -= cost;
      });
  }

  // Never throws for anything the peer sent: every outcome is an answer on the stream.
  async #handle(connection: Connection, frame: Frame, callSignal: AbortSignal): Promise<void> {
    const { streamId } = frame;
    let request: Request;
    try {
      request = Request.decode(frame.data);
    } catch {
      this.#reply(connection, streamId, undefined, { code: GrpcCode.INVALID_ARGUMENT, message: 'undecodable ttrpc Request' });
      return;
    }
    const { service: serviceName, method: methodName } = request;
    if ((frame.flags & FrameFlags.RemoteOpen) !== 0) {
      this.#reply(connection, streamId, undefined, {
        code: GrpcCode.UNIMPLEMENTED,
        message: `streaming calls are not supported: ${serviceName}/${methodName}`,
      });
      return;
    }
    const service = this.#services.get(serviceName);
    const handler = service?.methods.get(methodName);
    if (handler === undefined) {
      const message = service === undefined ? `service ${serviceName}` : `method ${methodName}`;
      this.#reply(connection, streamId, undefined, { code: GrpcCode.UNIMPLEMENTED, message });
      return;
    }
    // Keys come from the peer: a plain {} would resolve `__proto__` or `constructor` to Object.prototype's.
    const metadata: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
    for (const { key, value } of request.metadata) (metadata[key.toLowerCase()] ??= []).push(value);
    let timer: NodeJS.Timeout | undefined;
    let signal = callSignal;
    if (request.timeoutNano > 0n) {
      const ms = Number((request.timeoutNano + 999_999n) / 1_000_000n);
      const deadline = new AbortController();
      timer = setTimeout(
        () => {
          deadline.abort(
            newError('ERR_DEADLINE_EXCEEDED', `${serviceName}/${methodName}: the caller's deadline passed`, {
              details: { transport: 'ttrpc', timeoutMs: ms, grpcCode: GrpcCode.DEADLINE_EXCEEDED },
            }),
          );
        },
        Math.min(ms, MAX_DEADLINE_MS),
      );
      timer.unref();
      signal = AbortSignal.any([callSignal, deadline.signal]);
    }
    const context: TtrpcCallContext = { service: serviceName, method: methodName, metadata, namespace: metadata[NAMESPACE_METADATA_KEY]?.[0], signal };
    try {
      const payload = await handler(request.payload, context);
      this.#reply(connection, streamId, payload, undefined);
    } catch (err) {
      const status = errorToStatus(err); // never throws, whatever `err` is
      log('%s/%s failed: %s', serviceName, methodName, status.message);
      this.#reply(connection, streamId, undefined, status);
    } finally {
      clearTimeout(timer);
    }
  }

  #reply(connection: Connection, streamId: number, payload: Uint8Array | undefined, status: TtrpcStatusLike | undefined): void {
    if (connection.channel.closed) return;
    let data = encodeResponse(payload, status);
    if (data.length > MAX_MESSAGE_SIZE) {
      data = encodeResponse(undefined, {
        code: GrpcCode.RESOURCE_EXHAUSTED,
        message: `answer of ${data.length} bytes exceeds the ttrpc limit of ${MAX_MESSAGE_SIZE} bytes`,
      });
    }
    connection.channel.send({ streamId, type: FrameType.Response, flags: 0, data });
    if (connection.channel.unsentBytes > this.#maxBufferedBytes) {
      // The peer sends calls but does not read the answers: stop holding them for it.
      connection.channel.close(newError('ERR_TTRPC_PROTOCOL', `ttrpc peer left ${connection.channel.unsentBytes} bytes of answers unread`));
    }
  }
}

function encodeResponse(payload: Uint8Array | undefined, status: TtrpcStatusLike | undefined): Uint8Array {
  return Response.encode(
    Response.fromPartial({
      status: status ?? { code: 0, message: '' },
      payload: payload === undefined ? Buffer.alloc(0) : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
    }),
  ).finish();
}
