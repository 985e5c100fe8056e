import { appendFile, rename, stat } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { logger, type Logger } from '../util/index.js';

/**
 * Drains a shim's `log` FIFO (its logrus lines) into a debug logger and a size-rotated file (`<path>` and
 * `<path>.1`). Writes are chained, so lines stay in order; failures to write are only logged: a full disk must not
 * stop the drain (a shim blocked on its log would stop answering).
 */
export class ShimLogSink {
  readonly #path: string;
  readonly #maxBytes: number;
  readonly #debug: Logger;
  #size = -1;
  #chain: Promise<void> = Promise.resolve();
  #partial = '';

  /** `maxBytes` per file before rotation. */
  constructor(path: string, id: string, maxBytes: number) {
    this.#path = path;
    this.#maxBytes = maxBytes;
    this.#debug = logger(`shim:log:${id}`);
  }

  /** Reads `socket` (the FIFO's read side) until it closes. */
  attach(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.#write(chunk.toString('utf8')));
    socket.on('error', (err) => this.#debug('log FIFO error: %s', err.message));
  }

  /** Resolves once everything received so far is written. */
  flush(): Promise<void> {
    return this.#chain;
  }

  #write(text: string): void {
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) if (line !== '') this.#debug('%s', line);
    this.#chain = this.#chain.then(() => this.#append(text)).catch((err: Error) => this.#debug('cannot write %s: %s', this.#path, err.message));
  }

  async #append(text: string): Promise<void> {
    if (this.#size < 0) this.#size = await stat(this.#path).then((s) => s.size, () => 0);
    const bytes = Buffer.byteLength(text);
    if (this.#size > 0 && this.#size + bytes > this.#maxBytes) {
      await rename(this.#path, `${this.#path}.1`);
      this.#size = 0;
    }
    await appendFile(this.#path, text);
    this.#size += bytes;
  }
}
