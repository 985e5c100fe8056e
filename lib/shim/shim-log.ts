import { appendFile, rename, stat } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { type Logger, logger } from '../util/index.js';

/**
 * The longest line a {@link ShimLogSink} holds while it waits for the newline, in UTF-16 code units. A peer that
 * writes more without one gets its text handed on in pieces of this size, each marked partial, as docker's log
 * copier cuts lines at 16 KiB; so memory stays bounded whatever the peer writes.
 */
export const SHIM_LOG_LINE_MAX = 16 * 1024;

/** Options of a {@link ShimLogSink}. */
export interface ShimLogSinkOptions {
  /** See {@link SHIM_LOG_LINE_MAX} (the default). */
  lineMax?: number;
  /**
   * Receives each line without its newline; `partial` is true for a piece of a longer line (more of it follows).
   * Default: the `containerkit:shim:log:<id>` debug logger.
   */
  onLine?: (line: string, partial: boolean) => void;
}

/**
 * Drains a shim's `log` FIFO (its logrus lines) into a line handler (by default a debug logger) and a size-rotated
 * file (`<path>` and `<path>.1`). Writes are chained, so lines stay in order; failures to write are only logged: a
 * full disk must not stop the drain (a shim blocked on its log would stop answering). Bytes are decoded as UTF-8
 * across chunk boundaries (a character split between two reads stays whole); invalid bytes become U+FFFD.
 */
export class ShimLogSink {
  readonly #path: string;
  readonly #maxBytes: number;
  readonly #lineMax: number;
  readonly #onLine: (line: string, partial: boolean) => void;
  readonly #debug: Logger;
  readonly #decoder = new StringDecoder('utf8');
  #size = -1;
  #chain: Promise<void> = Promise.resolve();
  #partial = '';

  /** `maxBytes` per file before rotation. */
  constructor(path: string, id: string, maxBytes: number, options: ShimLogSinkOptions = {}) {
    this.#path = path;
    this.#maxBytes = maxBytes;
    // At least 2, so that a cut before a surrogate pair still makes progress.
    this.#lineMax = Math.max(2, Math.floor(options.lineMax ?? SHIM_LOG_LINE_MAX));
    this.#debug = logger(`shim:log:${id}`);
    this.#onLine = options.onLine ?? ((line, partial) => this.#debug(partial ? '%s [partial]' : '%s', line));
  }

  /** Reads `socket` (the FIFO's read side) until it closes. */
  attach(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.#write(this.#decoder.write(chunk)));
    socket.on('end', () => this.#end());
    socket.on('error', (err) => this.#debug('log FIFO error: %s', err.message));
  }

  /** Resolves once everything received so far is written. */
  flush(): Promise<void> {
    return this.#chain;
  }

  #write(text: string): void {
    if (text === '') return;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      this.#line(this.#partial + text.slice(start, nl));
      this.#partial = '';
      start = nl + 1;
    }
    this.#partial += text.slice(start);
    while (this.#partial.length > this.#lineMax) {
      const cut = this.#cut(this.#partial);
      this.#onLine(this.#partial.slice(0, cut), true);
      this.#partial = this.#partial.slice(cut);
    }
    this.#chain = this.#chain.then(() => this.#append(text)).catch((err: Error) => this.#debug('cannot write %s: %s', this.#path, err.message));
  }

  #end(): void {
    this.#write(this.#decoder.end());
    if (this.#partial !== '') this.#line(this.#partial);
    this.#partial = '';
  }

  // A whole line, in pieces of at most lineMax (all but the last partial).
  #line(line: string): void {
    while (line.length > this.#lineMax) {
      const cut = this.#cut(line);
      this.#onLine(line.slice(0, cut), true);
      line = line.slice(cut);
    }
    if (line !== '') this.#onLine(line, false);
  }

  // Where to cut `text` at lineMax without splitting a surrogate pair.
  #cut(text: string): number {
    const code = text.charCodeAt(this.#lineMax - 1);
    return code >= 0xd800 && code <= 0xdbff ? this.#lineMax - 1 : this.#lineMax;
  }

  async #append(text: string): Promise<void> {
    if (this.#size < 0)
      this.#size = await stat(this.#path).then(
        (s) => s.size,
        () => 0,
      );
    const bytes = Buffer.byteLength(text);
    if (this.#size > 0 && this.#size + bytes > this.#maxBytes) {
      await rename(this.#path, `${this.#path}.1`);
      this.#size = 0;
    }
    await appendFile(this.#path, text);
    this.#size += bytes;
  }
}
