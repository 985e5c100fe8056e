import { chmod, link, lstat, rename, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { newError } from '../../errors/index.js';
import { fsError, logger } from '../../util/index.js';
import { Request, Response } from '../../gen/ttrpc/request.js';
import { TtrpcChannel } from './channel.js';
import { FrameFlags, FrameType, MAX_MESSAGE_SIZE, type Frame } from './codec.js';
import { NAMESPACE_METADATA_KEY } from './client.js';
import type { TtrpcCallContext, TtrpcService } from './service.js';
import { errorToStatus, GrpcCode, type TtrpcStatusLike } from './status.js';

const log = logger('shim:ttrpc:server');

/** Options of {@link TtrpcServer.listen}. */
export interface TtrpcListenOptions {
  /** Permission bits of the socket file. Default `0o600`: only the owner (the shims run as the same user) may connect. */
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
}

/**
 * A small ttrpc server on a unix socket, for the services shims call back (events `Forward`). Unary calls only;
 * many connections, and many calls per connection, are served concurrently. Answers carry an OK status and the
 * encoded payload; a handler's error becomes the status of its category (see `errorToStatus`). Unknown services
 * and methods answer UNIMPLEMENTED ("service X" / "method Y"), like containerd's ttrpc.
 */
export class TtrpcServer implements AsyncDisposable {
  readonly #services = new Map<string, TtrpcService>();
  readonly #connections = new Set<Connection>();
  readonly #stopping = new AbortController();
  #server: Server | undefined;
  #path: string | undefined;

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

  /**
   * Listens on the unix socket `path`. A stale socket file there (nothing accepts on it) is removed first.
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
    await removeStaleSocket(path);
    signal?.throwIfAborted();
    const server = createServer((socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(fsError(err, 'listen on', path)));
      server.listen(path, () => resolve());
    });
    this.#server = server;
    this.#path = path;
    server.on('error', (err) => log('server error on %s: %s', path, err.message));
    try {
      await chmod(path, mode);
      signal?.throwIfAborted();
    } catch (err) {
      await this.close();
      throw signal?.aborted ? signal.reason : fsError(err, 'chmod', path);
    }
    log('listening on %s', path);
  }

  /**
   * Stops listening, closes every connection and aborts the handlers still running. Idempotent.
   * @throws ERR_IO when `keepSocketFile` cannot preserve the socket file.
   */
  async close(options: TtrpcCloseOptions = {}): Promise<void> {
    this.#stopping.abort(newError('ERR_TTRPC_UNAVAILABLE', 'ttrpc server is closing'));
    const server = this.#server;
    const path = this.#path;
    this.#server = undefined;
    this.#path = undefined;
    for (const connection of this.#connections) connection.channel.close();
    this.#connections.clear();
    if (server === undefined || path === undefined) return;
    // Node unlinks a unix socket's file when its server closes; a hard link made first keeps the inode, which is
    // then a socket file nobody accepts on.
    let keep = options.keepSocketFile === true ? `${path}.${process.pid}.keep` : undefined;
    let failure: unknown;
    if (keep !== undefined) {
      await link(path, keep).catch((err: unknown) => {
        failure = fsError(err, 'keep socket file', path);
        keep = undefined;
      });
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (keep !== undefined) await rename(keep, path).catch((err: unknown) => (failure = fsError(err, 'keep socket file', path)));
    if (failure !== undefined) throw failure;
  }

  /** Same as `close()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #accept(socket: Socket): void {
    const connection: Connection = {
      lastStreamId: 0,
      channel: new TtrpcChannel(socket, {
        onFrame: (frame) => this.#onFrame(connection, frame),
        onOversized: (header) => {
          this.#reply(connection, header.streamId, undefined, {
            code: GrpcCode.RESOURCE_EXHAUSTED,
            message: `message length ${header.length} exceed maximum message size of ${MAX_MESSAGE_SIZE}`,
          });
        },
        onClose: (error) => {
          this.#connections.delete(connection);
          if (error) log('connection closed: %s', error.message);
        },
      }),
    };
    this.#connections.add(connection);
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
    void this.#handle(connection, frame);
  }

  async #handle(connection: Connection, frame: Frame): Promise<void> {
    let request: Request;
    try {
      request = Request.decode(frame.data);
    } catch {
      this.#reply(connection, frame.streamId, undefined, { code: GrpcCode.INVALID_ARGUMENT, message: 'undecodable ttrpc Request' });
      return;
    }
    const { service: serviceName, method: methodName } = request;
    if ((frame.flags & FrameFlags.RemoteOpen) !== 0) {
      this.#reply(connection, frame.streamId, undefined, { code: GrpcCode.UNIMPLEMENTED, message: `streaming calls are not supported: ${serviceName}/${methodName}` });
      return;
    }
    const service = this.#services.get(serviceName);
    const handler = service?.methods.get(methodName);
    if (handler === undefined) {
      const message = service === undefined ? `service ${serviceName}` : `method ${methodName}`;
      this.#reply(connection, frame.streamId, undefined, { code: GrpcCode.UNIMPLEMENTED, message });
      return;
    }
    const metadata: Record<string, string[]> = {};
    for (const { key, value } of request.metadata) (metadata[key.toLowerCase()] ??= []).push(value);
    const timeoutMs = Number(request.timeoutNano / 1_000_000n);
    const signal = request.timeoutNano > 0n ? AbortSignal.any([this.#stopping.signal, AbortSignal.timeout(Math.max(1, timeoutMs))]) : this.#stopping.signal;
    const context: TtrpcCallContext = { service: serviceName, method: methodName, metadata, namespace: metadata[NAMESPACE_METADATA_KEY]?.[0], signal };
    try {
      const payload = await handler(request.payload, context);
      this.#reply(connection, frame.streamId, payload, undefined);
    } catch (err) {
      log('%s/%s failed: %s', serviceName, methodName, err instanceof Error ? err.message : String(err));
      this.#reply(connection, frame.streamId, undefined, errorToStatus(err));
    }
  }

  #reply(connection: Connection, streamId: number, payload: Uint8Array | undefined, status: TtrpcStatusLike | undefined): void {
    if (connection.channel.closed) return;
    let data = encodeResponse(payload, status);
    if (data.length > MAX_MESSAGE_SIZE) {
      data = encodeResponse(undefined, { code: GrpcCode.RESOURCE_EXHAUSTED, message: `answer of ${data.length} bytes exceeds the ttrpc limit of ${MAX_MESSAGE_SIZE} bytes` });
    }
    connection.channel.send({ streamId, type: FrameType.Response, flags: 0, data });
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

// Removes a socket file nobody accepts on; refuses to touch a live socket or anything else.
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fsError(err, 'inspect', path);
  }
  if (!isSocket) throw newError('ERR_ALREADY_EXISTS', `cannot listen on ${path}: something other than a socket is there`, { details: { path } });
  const live = await new Promise<boolean>((resolve) => {
    const probe = createConnection({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw newError('ERR_ALREADY_EXISTS', `cannot listen on ${path}: a server is already listening there`, { details: { path } });
  await unlink(path).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(err, 'remove stale socket', path);
  });
}
