import { createConnection, type Socket } from 'node:net';
import { type ContainerkitError, newError } from '../../errors/index.js';
import { Request, Response } from '../../gen/ttrpc/request.js';
import { logger } from '../../util/index.js';
import { TtrpcChannel } from './channel.js';
import { type Frame, type FrameHeader, FrameType, MAX_MESSAGE_SIZE } from './codec.js';
import { statusToError } from './status.js';

const log = logger('shim:ttrpc');

/** Call metadata: key → value (or values, for a repeated key). Keys should be lower case. */
export type TtrpcMetadata = Record<string, string | readonly string[]>;

/** The metadata key containerd uses for the namespace on ttrpc calls. */
export const NAMESPACE_METADATA_KEY = 'containerd-namespace-ttrpc';

/** Options of {@link TtrpcClient.open}. */
export interface TtrpcConnectOptions {
  /** Longest wait for the connection, in ms. Default 1000: a live shim accepts at once, a dead one must not cost seconds. */
  connectTimeoutMs?: number;
  /** Cancels the connect; rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of one call. */
export interface TtrpcCallOptions {
  /** Rejects this call with `signal.reason` on abort; the connection stays usable. A late answer is dropped. */
  signal?: AbortSignal;
  /**
   * Deadline in ms: sent to the server as `timeout_nano` and enforced here (ERR_DEADLINE_EXCEEDED).
   * Default none (a `Wait` may take forever).
   */
  timeoutMs?: number;
  /** Metadata sent with the call. */
  metadata?: TtrpcMetadata;
}

interface Pending {
  service: string;
  method: string;
  resolve(payload: Uint8Array): void;
  reject(err: unknown): void;
}

/** Turns `unix:///path` or `/path` into a socket path. @throws ERR_INVALID_ARGUMENT for any other form. */
export function socketPathOf(address: string): string {
  if (typeof address !== 'string') throw newError('ERR_INVALID_ARGUMENT', 'address must be a string');
  const path = address.startsWith('unix://') ? address.slice('unix://'.length) : address;
  if (!path.startsWith('/')) {
    throw newError('ERR_INVALID_ARGUMENT', `ttrpc address ${JSON.stringify(address)} is neither unix:///<path> nor an absolute path`);
  }
  return path;
}

function validateTimeout(value: unknown, name: string): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)) {
    throw newError('ERR_INVALID_ARGUMENT', `${name} must be a finite number of ms > 0`);
  }
}

function connectError(err: NodeJS.ErrnoException, path: string): ContainerkitError {
  const denied = err.code === 'EACCES' || err.code === 'EPERM';
  return newError(denied ? 'ERR_TTRPC_PERMISSION_DENIED' : 'ERR_TTRPC_UNAVAILABLE', `cannot connect to ttrpc socket ${path}: ${err.code ?? err.message}`, {
    cause: err,
    details: { errno: err.code, path },
  });
}

/**
 * A ttrpc client over one unix-socket connection. Any number of unary calls may be in flight at once (a `Wait` can
 * stay pending while other calls run): each gets its own odd stream id (1, 3, 5, …) and answers are matched by id,
 * in whatever order they come. The connection is not re-established: once closed, calls fail with
 * ERR_TTRPC_CONNECTION_CLOSED, and {@link TtrpcClient.closed} resolves.
 *
 * Most callers use a typed client made by `createTtrpcClient` on top of {@link TtrpcClient.call}.
 */
export class TtrpcClient implements AsyncDisposable {
  readonly #channel: TtrpcChannel;
  readonly #pending = new Map<number, Pending>();
  #nextStreamId = 1;
  #closeReason: ContainerkitError | undefined;
  readonly #closed: Promise<ContainerkitError | undefined>;

  /**
   * Wraps an already connected socket (the client owns it from now on). Use {@link TtrpcClient.open} to dial a
   * path.
   */
  constructor(socket: Socket) {
    let markClosed!: (reason: ContainerkitError | undefined) => void;
    this.#closed = new Promise((resolve) => (markClosed = resolve));
    this.#channel = new TtrpcChannel(socket, {
      onFrame: (frame) => this.#onFrame(frame),
      onOversized: (header) => this.#onOversized(header),
      onClose: (error) => {
        this.#closeReason = error;
        const reason = newError('ERR_TTRPC_CONNECTION_CLOSED', `ttrpc connection closed${error ? `: ${error.message}` : ''}`, { cause: error });
        for (const [id, pending] of this.#pending) {
          this.#pending.delete(id);
          pending.reject(reason);
        }
        markClosed(error);
      },
    });
  }

  /**
   * Connects to a ttrpc server on a unix socket (`unix:///path` or `/path`). Fails fast on a dead socket: ENOENT or
   * ECONNREFUSED reject at once, and a connect that hangs is cut after `connectTimeoutMs`.
   *
   * @throws ERR_TTRPC_UNAVAILABLE when nothing listens there (`details.errno`, `details.path`) or on timeout;
   *   ERR_TTRPC_PERMISSION_DENIED on EACCES/EPERM; ERR_INVALID_ARGUMENT for a bad address or option.
   * Rejects with `signal.reason` on abort.
   */
  static async open(address: string, options: TtrpcConnectOptions = {}): Promise<TtrpcClient> {
    const path = socketPathOf(address);
    const { connectTimeoutMs = 1000, signal } = options;
    validateTimeout(connectTimeoutMs, 'options.connectTimeoutMs');
    signal?.throwIfAborted();
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection({ path });
      const done = (err?: unknown): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        s.off('connect', onConnect);
        s.off('error', onError);
        if (err === undefined) resolve(s);
        else {
          s.destroy();
          reject(err);
        }
      };
      const onConnect = (): void => done();
      const onError = (err: NodeJS.ErrnoException): void => done(connectError(err, path));
      const onAbort = (): void => done(signal!.reason);
      const timer = setTimeout(() => {
        done(
          newError('ERR_TTRPC_UNAVAILABLE', `cannot connect to ttrpc socket ${path}: no answer within ${connectTimeoutMs} ms`, {
            details: { errno: 'ETIMEDOUT', path, timeoutMs: connectTimeoutMs },
          }),
        );
      }, connectTimeoutMs);
      s.once('connect', onConnect);
      s.once('error', onError);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    log('connected to %s', path);
    return new TtrpcClient(socket);
  }

  /** Resolves once the connection has ended, with the failure that ended it (undefined for a clean close). */
  get closed(): Promise<ContainerkitError | undefined> {
    return this.#closed;
  }

  /** Whether the connection has ended. */
  get isClosed(): boolean {
    return this.#channel.closed;
  }

  /** Number of calls waiting for an answer. */
  get pendingCalls(): number {
    return this.#pending.size;
  }

  /**
   * Makes one unary call: sends `payload` (the serialized request message) to `service`/`method` and resolves with
   * the serialized answer (empty when the server sent none). A missing status means OK.
   *
   * @throws the status error of a failed call: ERR_TTRPC_NOT_FOUND, ERR_TTRPC_UNIMPLEMENTED, … (see `statusToError`).
   * @throws ERR_DEADLINE_EXCEEDED after `timeoutMs`; ERR_TTRPC_CONNECTION_CLOSED when the connection ends
   *   first; ERR_TTRPC_MESSAGE_TOO_LARGE for a request or answer over 4 MiB; ERR_INVALID_ARGUMENT for bad options.
   * Rejects with `signal.reason` on abort.
   */
  call(service: string, method: string, payload: Uint8Array, options: TtrpcCallOptions = {}): Promise<Uint8Array> {
    const { signal, timeoutMs, metadata = {} } = options;
    try {
      validateTimeout(timeoutMs, 'options.timeoutMs');
      signal?.throwIfAborted();
      if (this.#channel.closed) {
        throw newError('ERR_TTRPC_CONNECTION_CLOSED', `ttrpc connection is closed; cannot call ${service}/${method}`, { cause: this.#closeReason });
      }
    } catch (err) {
      return Promise.reject(err);
    }
    const streamId = this.#nextStreamId;
    if (streamId > 0xffffffff) {
      return Promise.reject(newError('ERR_TTRPC_UNAVAILABLE', 'ttrpc stream ids of this connection are used up; open a new connection'));
    }
    this.#nextStreamId += 2;
    const request = Request.fromPartial({
      service,
      method,
      payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
      timeoutNano: timeoutMs === undefined ? 0n : BigInt(Math.ceil(timeoutMs * 1e6)),
      metadata: Object.entries(metadata).flatMap(([key, value]) => (typeof value === 'string' ? [value] : value).map((v) => ({ key, value: v }))),
    });
    return new Promise<Uint8Array>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        this.#pending.delete(streamId);
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        cleanup();
        reject(signal!.reason);
      };
      this.#pending.set(streamId, {
        service,
        method,
        resolve: (p) => {
          cleanup();
          resolve(p);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
      });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          cleanup();
          reject(
            newError('ERR_DEADLINE_EXCEEDED', `${service}/${method}: no answer within ${timeoutMs} ms`, {
              details: { transport: 'ttrpc', service, method, timeoutMs },
            }),
          );
        }, timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        this.#channel.send({ streamId, type: FrameType.Request, flags: 0, data: Request.encode(request).finish() });
      } catch (err) {
        cleanup();
        reject(err);
      }
    });
  }

  /** Lets the Node process exit while this connection (and calls on it, such as a `Wait`) is open. Returns `this`. */
  unref(): this {
    this.#channel.unref();
    return this;
  }

  /** Undoes {@link TtrpcClient.unref}: the open connection keeps the process alive again. Returns `this`. */
  ref(): this {
    this.#channel.ref();
    return this;
  }

  /** Closes the connection; pending calls reject with ERR_TTRPC_CONNECTION_CLOSED. Resolves once it has ended. */
  async close(): Promise<void> {
    this.#channel.close();
    await this.#closed;
  }

  /** Same as {@link TtrpcClient.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #onFrame(frame: Frame): void {
    if (frame.type !== FrameType.Response) {
      // Unary-only client: Data frames or server-initiated requests have no stream to go to.
      log('ignoring frame of type %d on stream %d', frame.type, frame.streamId);
      return;
    }
    const pending = this.#pending.get(frame.streamId);
    if (pending === undefined) {
      log('dropping answer for stream %d (aborted, timed out or unknown)', frame.streamId);
      return;
    }
    let response: Response;
    try {
      response = Response.decode(frame.data);
    } catch (err) {
      pending.reject(newError('ERR_TTRPC_PROTOCOL', `${pending.service}/${pending.method}: undecodable ttrpc Response`, { cause: err }));
      return;
    }
    if (response.status !== undefined && response.status.code !== 0) {
      pending.reject(statusToError(response.status, pending));
      return;
    }
    pending.resolve(response.payload);
  }

  #onOversized(header: FrameHeader): void {
    const pending = this.#pending.get(header.streamId);
    log('dropped an oversized frame (%d bytes) on stream %d', header.length, header.streamId);
    pending?.reject(
      newError(
        'ERR_TTRPC_MESSAGE_TOO_LARGE',
        `${pending.service}/${pending.method}: answer of ${header.length} bytes exceeds the ttrpc limit of ${MAX_MESSAGE_SIZE} bytes`,
        {
          details: { direction: 'receive', length: header.length, limit: MAX_MESSAGE_SIZE, service: pending.service, method: pending.method },
        },
      ),
    );
  }
}
