import { type ClientHttp2Session, type ClientHttp2Stream, connect, type OutgoingHttpHeaders } from 'node:http2';
import { createConnection } from 'node:net';
import { logger } from '../util/debug.js';

const log = logger('containerd:http2');

interface Live {
  session: ClientHttp2Session;
  streams: number;
}

/**
 * A plain HTTP/2 connection to containerd's unix socket, beside the gRPC channel, for the one call whose bytes are
 * too many for grpc-js: Content.Write (see content-write-call.ts). Connects on first use and again after it was lost.
 */
export class Http2Connection {
  readonly #socketPath: string;
  #live: Live | undefined;
  #closed = false;

  /** @param address a socket path or `unix://<path>`. */
  constructor(address: string) {
    this.#socketPath = address.replace(/^unix:(\/\/)?/, '');
  }

  /** Opens a request stream. The session keeps the process alive only while it has streams open. */
  request(headers: OutgoingHttpHeaders): ClientHttp2Stream {
    const live = this.#open();
    const stream = live.session.request(headers);
    if (live.streams++ === 0) live.session.ref();
    stream.once('close', () => {
      if (--live.streams === 0 && !live.session.destroyed) live.session.unref();
    });
    return stream;
  }

  #open(): Live {
    if (this.#closed) throw new Error('the containerd connection is closed');
    const current = this.#live;
    if (current !== undefined && !current.session.closed && !current.session.destroyed) return current;
    const session = connect('http://localhost', { createConnection: () => createConnection(this.#socketPath) });
    // Errors reach the session's streams; this keeps them from being unhandled when no stream is open.
    session.on('error', (err) => log('connection to %s failed: %s', this.#socketPath, err.message));
    const live: Live = { session, streams: 0 };
    session.on('close', () => {
      if (this.#live === live) this.#live = undefined;
    });
    session.unref();
    this.#live = live;
    return live;
  }

  /** Closes the session (streams still open finish first). */
  close(): void {
    this.#closed = true;
    this.#live?.session.close();
    this.#live = undefined;
  }
}
