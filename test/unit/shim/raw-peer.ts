import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Request, Response } from '../../../lib/gen/ttrpc/request.js';
import { encodeFrame, type Frame, FrameDecoder, FrameType } from '../../../lib/shim/index.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

/** A request frame as a scripted peer saw it. */
export interface SeenRequest {
  frame: Frame;
  request: Request;
}

/**
 * A hand-scripted ttrpc server for client tests: it records every request frame and answers only when the test
 * says so, with exactly the bytes the test chooses.
 */
export class RawPeer {
  readonly requests: SeenRequest[] = [];
  socket: Socket | undefined;
  #waiters: Array<() => void> = [];

  private constructor(
    readonly dir: string,
    readonly path: string,
    readonly server: Server,
  ) {}

  static async start(): Promise<RawPeer> {
    const dir = await makeTempDir('ttrpc');
    const path = join(dir, 'peer.sock');
    const server = createServer();
    const peer = new RawPeer(dir, path, server);
    server.on('connection', (socket) => {
      peer.socket = socket;
      const decoder = new FrameDecoder();
      socket.on('data', (chunk) => {
        for (const item of decoder.push(chunk)) {
          if (item.kind !== 'frame') continue;
          peer.requests.push({ frame: item.frame, request: Request.decode(item.frame.data) });
          for (const w of peer.#waiters.splice(0)) w();
        }
      });
      socket.on('error', () => undefined);
    });
    server.listen(path);
    await once(server, 'listening');
    return peer;
  }

  /** Resolves once `n` requests have arrived. */
  async waitForRequests(n: number): Promise<void> {
    while (this.requests.length < n) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Sends raw bytes. */
  write(bytes: Uint8Array): void {
    this.socket!.write(bytes);
  }

  /** Answers stream `streamId` with a Response made of `status` and `payload` (either may be left out). */
  answer(streamId: number, payload?: Uint8Array, status?: { code: number; message: string }): void {
    const data = Response.encode(Response.fromPartial({ ...(status ? { status } : {}), ...(payload ? { payload: Buffer.from(payload) } : {}) })).finish();
    this.write(encodeFrame({ streamId, type: FrameType.Response, flags: 0, data }));
  }

  async stop(): Promise<void> {
    this.socket?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await removeTempDir(this.dir);
  }
}
