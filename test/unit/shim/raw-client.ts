import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { Request, Response } from '../../../lib/gen/ttrpc/request.js';
import { encodeFrame, FrameDecoder, FrameType } from '../../../lib/shim/index.js';

/** A hand-scripted ttrpc client for server tests: it writes exactly the bytes the test chooses and collects answers. */
export class RawClient {
  readonly answers = new Map<number, Response>();
  readonly closed: Promise<void>;
  #waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const item of decoder.push(chunk)) {
        if (item.kind === 'frame' && item.frame.type === FrameType.Response) this.answers.set(item.frame.streamId, Response.decode(item.frame.data));
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        resolve();
        for (const wake of this.#waiters.splice(0)) wake();
      }),
    );
  }

  static async connect(path: string): Promise<RawClient> {
    const socket = createConnection(path);
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  /** Sends raw bytes. */
  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Sends a Request frame on `streamId`. */
  request(streamId: number, request: Parameters<typeof Request.fromPartial>[0], flags = 0): void {
    this.write(encodeFrame({ streamId, type: FrameType.Request, flags, data: Request.encode(Request.fromPartial(request)).finish() }));
  }

  /** The answer on `streamId`; rejects if the connection closes first. */
  async answer(streamId: number): Promise<Response> {
    for (;;) {
      const found = this.answers.get(streamId);
      if (found !== undefined) return found;
      if (this.socket.destroyed || this.socket.readableEnded) throw new Error(`connection closed before an answer on stream ${streamId}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}
