import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { Duplex, PassThrough, type Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { newError } from '../errors/index.js';
import type { LayerCompression } from '../oci/media-types.js';

/** Chunk size of inflated output: with 64 KiB chunks inflating is up to 50 % slower here (PERFORMANCE.md). */
export const CHUNK_SIZE = 1024 * 1024;

/**
 * `auto` sniffs the first bytes: gzip (1f 8b), zstd (28 b5 2f fd, or a skippable frame), else an uncompressed tar.
 */
export type CompressionOption = LayerCompression | 'auto';

/** The magic of a zstd data frame (RFC 8878 §3.1.1), little-endian. */
const ZSTD_FRAME_MAGIC = 0xfd2fb528;

/**
 * Whether a little-endian magic number opens a zstd skippable frame (RFC 8878 §3.1.2: 0x184D2A50–0x184D2A5F, then
 * a 4-byte size and that many bytes of user data). zstd:chunked layers put their metadata in such frames, and a
 * stream may start with one; the `zstd` program skips them wherever they are.
 */
export function isZstdSkippableMagic(magic: number): boolean {
  return (magic & 0xfffffff0) >>> 0 === 0x184d2a50;
}

/** The compression a blob's first bytes announce. */
export function sniffCompression(head: Buffer): LayerCompression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4) {
    const magic = head.readUInt32LE(0);
    if (magic === ZSTD_FRAME_MAGIC || isZstdSkippableMagic(magic)) return 'zstd';
  }
  return 'none';
}

/** A stream that decompresses `compression` (a pass-through for `none`). */
export function createDecompressor(compression: LayerCompression): Duplex {
  switch (compression) {
    case 'gzip':
      return createGunzip({ chunkSize: CHUNK_SIZE });
    case 'zstd':
      return new ZstdDecompressor();
    case 'none':
      return new PassThrough({ highWaterMark: CHUNK_SIZE });
  }
}

/**
 * Translates a decompressor's failure into containerkit's codes: an input that stops early is
 * ERR_LAYER_TRUNCATED, anything else wrong with the compressed bytes ERR_LAYER_CORRUPT. Other errors are
 * returned as they are.
 */
export function decompressionError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'Z_BUF_ERROR') {
    return newError('ERR_LAYER_TRUNCATED', 'the gzip stream of the layer ends early', { cause: err });
  }
  if (code === 'Z_DATA_ERROR' || code === 'Z_STREAM_ERROR' || code === 'Z_NEED_DICT') {
    return newError('ERR_LAYER_CORRUPT', `the gzip stream of the layer is corrupt: ${(err as Error).message}`, { cause: err });
  }
  return err;
}

/**
 * zstd decompression by the `zstd` program (Node 20's zlib has none), streamed through its pipes with
 * backpressure both ways; no shell. The child is killed when the stream is destroyed.
 * Errors: ERR_TOOL_MISSING without zstd, ERR_LAYER_TRUNCATED / ERR_LAYER_CORRUPT when zstd refuses the input.
 */
export class ZstdDecompressor extends Duplex {
  readonly #child: ChildProcessByStdio<Writable, Readable, Readable>;
  #stderr = '';
  #exited = false;

  constructor() {
    super({ readableHighWaterMark: CHUNK_SIZE, writableHighWaterMark: CHUNK_SIZE });
    const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child = child;
    child.on('error', (err: NodeJS.ErrnoException) => {
      this.#exited = true;
      this.destroy(
        err.code === 'ENOENT'
          ? newError('ERR_TOOL_MISSING', 'zstd is not installed (run scripts/host-deps.sh)', { cause: err })
          : newError('ERR_TOOL_FAILED', `zstd could not be started: ${err.message}`, { cause: err }),
      );
    });
    child.stdin.on('error', () => {
      // zstd may exit without reading all its input; its exit status tells why.
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (this.#stderr.length < 4096) this.#stderr += chunk.toString('utf8');
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) child.stdout.pause();
    });
    child.on('close', (code, signal) => {
      this.#exited = true;
      if (this.destroyed) return;
      if (code === 0) {
        this.push(null);
        return;
      }
      const message = this.#stderr.trim().split('\n').pop() ?? '';
      const truncated = /premature end|unexpected end|truncated/i.test(message);
      const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      this.destroy(
        newError(truncated ? 'ERR_LAYER_TRUNCATED' : 'ERR_LAYER_CORRUPT', `zstd ${why}: ${message || 'no message'}`, {
          details: { exitCode: code, signal, stderr: this.#stderr },
        }),
      );
    });
  }

  override _read(): void {
    this.#child.stdout.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // Completion of each write is the backpressure: zstd's stdin pipe takes what zstd has read.
    this.#child.stdin.write(chunk, (err) => callback(err && !this.#exited ? err : null));
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#child.stdin.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#exited) this.#child.kill('SIGKILL');
    callback(error);
  }
}

/**
 * A pass-through that fails with ERR_LAYER_TOO_LARGE once more than `limit` bytes went through (the chunk that
 * crosses the limit is not passed on).
 */
export class SizeLimiter extends Transform {
  readonly #limit: number;
  #seen = 0;

  constructor(limit: number) {
    super({ highWaterMark: CHUNK_SIZE });
    this.#limit = limit;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.#limit) {
      callback(
        newError('ERR_LAYER_TOO_LARGE', `the layer unpacks to more than the limit of ${this.#limit} bytes`, {
          details: { limit: this.#limit, atLeast: this.#seen },
        }),
      );
      return;
    }
    callback(null, chunk);
  }
}
