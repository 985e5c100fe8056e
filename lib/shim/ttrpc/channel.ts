import type { Socket } from 'node:net';
import { type ContainerkitError, newError } from '../../errors/index.js';
import { logger } from '../../util/index.js';
import { encodeFrame, type Frame, FrameDecoder, type FrameHeader } from './codec.js';
import { errorToStatus } from './status.js';

/** What a {@link TtrpcChannel} reports to its owner (the client or a server connection). */
export interface ChannelHandlers {
  /** A whole frame arrived. */
  onFrame(frame: Frame): void;
  /** A frame larger than the 4 MiB limit arrived; its data was dropped without being buffered. */
  onOversized(header: FrameHeader): void;
  /** The connection ended; `error` is set when it ended because of a failure (reset, protocol error). Called once. */
  onClose(error: ContainerkitError | undefined): void;
  /** Nothing was read or written for `idleTimeoutMs` (and again after each later idle period). */
  onIdle?(): void;
}

/** Options of a {@link TtrpcChannel}. */
export interface ChannelOptions {
  /** Largest frame data accepted; larger frames go to `onOversized`. Default (and upper bound) 4 MiB. */
  maxMessageSize?: number;
  /** Calls `onIdle` after this many ms without traffic. Default: never. */
  idleTimeoutMs?: number;
}

const log = logger('shim:ttrpc:channel');

/**
 * Frames over one connected socket, both ways: incoming bytes are cut into frames with a bounded buffer (one frame,
 * at most header + 4 MiB), outgoing frames are written whole, one `write` each, so concurrent calls never
 * interleave their bytes. It owns the socket: {@link TtrpcChannel.close} destroys it.
 */
export class TtrpcChannel {
  readonly #socket: Socket;
  readonly #handlers: ChannelHandlers;
  readonly #decoder: FrameDecoder;
  #closed = false;
  #closeError: ContainerkitError | undefined;

  constructor(socket: Socket, handlers: ChannelHandlers, options: ChannelOptions = {}) {
    this.#socket = socket;
    this.#handlers = handlers;
    this.#decoder = new FrameDecoder(options.maxMessageSize);
    if (options.idleTimeoutMs !== undefined) {
      socket.setTimeout(options.idleTimeoutMs);
      socket.on('timeout', () => this.#dispatch(() => handlers.onIdle?.()));
    }
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.#closeError ??= newError('ERR_TTRPC_CONNECTION_CLOSED', `ttrpc connection failed: ${err.message}`, {
        cause: err,
        details: { errno: err.code },
      });
    });
    socket.on('close', () => this.#finish());
    // A peer's half-close ends the conversation: ttrpc has no use for a half-open connection.
    socket.on('end', () => socket.destroy());
  }

  /** Whether the connection has ended. */
  get closed(): boolean {
    return this.#closed || this.#socket.destroyed;
  }

  /**
   * Writes one frame.
   *
   * @throws ERR_TTRPC_MESSAGE_TOO_LARGE when the data exceeds 4 MiB; ERR_TTRPC_CONNECTION_CLOSED after close.
   */
  send(frame: Frame): void {
    const bytes = encodeFrame(frame);
    if (this.closed) throw newError('ERR_TTRPC_CONNECTION_CLOSED', 'ttrpc connection is closed');
    this.#socket.write(bytes);
  }

  /** Bytes of whole frames handed to `send` that the socket has not written yet (the peer is not reading them). */
  get unsentBytes(): number {
    return this.#socket.writableLength;
  }

  /** Bytes of a frame still being received. */
  get receivingBytes(): number {
    return this.#decoder.buffered;
  }

  /** Lets the process exit while this connection is open (a pending `Wait` would otherwise keep it alive). */
  unref(): void {
    this.#socket.unref();
  }

  /** Undoes {@link TtrpcChannel.unref}. */
  ref(): void {
    this.#socket.ref();
  }

  /** Ends the connection (idempotent); `error` becomes the close reason handed to `onClose`. */
  close(error?: ContainerkitError): void {
    if (error !== undefined) this.#closeError ??= error;
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    let decoded;
    try {
      decoded = this.#decoder.push(chunk);
    } catch (err) {
      this.close(newError('ERR_TTRPC_PROTOCOL', 'undecodable ttrpc frame', { cause: err }));
      return;
    }
    for (const item of decoded) {
      if (this.closed) return;
      if (item.kind === 'frame') this.#dispatch(() => this.#handlers.onFrame(item.frame));
      else this.#dispatch(() => this.#handlers.onOversized(item.header));
    }
  }

  // A handler's bug must not become an uncaught exception on the socket's 'data' event (which would end the
  // process): it ends this connection instead.
  #dispatch(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      log('handler failed, closing the connection: %s', errorToStatus(err).message);
      this.close(newError('ERR_TTRPC_PROTOCOL', 'ttrpc connection handler failed', { cause: err }));
    }
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers.onClose(this.#closeError);
  }
}
