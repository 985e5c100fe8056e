import type { Socket } from 'node:net';
import { newError, type ContainerkitError } from '../../errors/index.js';
import { encodeFrame, FrameDecoder, type Frame, type FrameHeader } from './codec.js';

/** What a {@link TtrpcChannel} reports to its owner (the client or a server connection). */
export interface ChannelHandlers {
  /** A whole frame arrived. */
  onFrame(frame: Frame): void;
  /** A frame larger than the 4 MiB limit arrived; its data was dropped without being buffered. */
  onOversized(header: FrameHeader): void;
  /** The connection ended; `error` is set when it ended because of a failure (reset, protocol error). Called once. */
  onClose(error: ContainerkitError | undefined): void;
}

/**
 * Frames over one connected socket, both ways: incoming bytes are cut into frames with a bounded buffer (one frame,
 * at most header + 4 MiB), outgoing frames are written whole, one `write` each, so concurrent calls never
 * interleave their bytes. It owns the socket: {@link TtrpcChannel.close} destroys it.
 */
export class TtrpcChannel {
  readonly #socket: Socket;
  readonly #handlers: ChannelHandlers;
  readonly #decoder = new FrameDecoder();
  #closed = false;
  #closeError: ContainerkitError | undefined;

  constructor(socket: Socket, handlers: ChannelHandlers) {
    this.#socket = socket;
    this.#handlers = handlers;
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
      if (item.kind === 'frame') this.#handlers.onFrame(item.frame);
      else this.#handlers.onOversized(item.header);
    }
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers.onClose(this.#closeError);
  }
}
