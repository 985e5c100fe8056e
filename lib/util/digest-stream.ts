import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { newError } from '../errors/index.js';

/**
 * The hash algorithms the digest streams support. The same names as `oci/digest.ts`'s `DigestAlgorithm`, kept
 * here because util (L0) may not import oci (L1).
 */
export type HashAlgorithm = 'sha256' | 'sha512';

// Hex length of each algorithm's digest, to reject a malformed expectation before any byte flows.
const HEX_LENGTH: Record<HashAlgorithm, number> = { sha256: 64, sha512: 128 };
const LOWER_HEX = /^[0-9a-f]+$/;

// Blob streams carry megabytes: with 64 KiB chunks hashing is up to 50 % slower here (PERFORMANCE.md).
const DEFAULT_CHUNK = 1024 * 1024;

/** What a stream of bytes is expected to be: the split form of a digest (`oci/digest.ts` `splitDigest`), plus its size. */
export interface ExpectedDigest {
  algorithm: HashAlgorithm;
  /** Lower-case hex of the digest. */
  hex: string;
  /** Exact byte count, when known (a descriptor's `size`). */
  size?: number;
}

/** The digest and size of some bytes, as computed. */
export interface ComputedDigest {
  algorithm: HashAlgorithm;
  hex: string;
  size: number;
}

/** Options for {@link DigestVerifier} and {@link DigestCalculator}. */
export interface DigestStreamOptions {
  /** Buffer size of each side of the Transform, in bytes. Default: Node's default for byte streams. */
  highWaterMark?: number;
}

/** Options for {@link digestFile}. */
export interface DigestFileOptions {
  /** Default `'sha256'`. */
  algorithm?: HashAlgorithm;
  /** Size of each read, in bytes. Default 1 MiB. */
  highWaterMark?: number;
  /** Cancels the read; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
}

function checkAlgorithm(algorithm: unknown, name: string): HashAlgorithm {
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw newError('ERR_UNSUPPORTED_DIGEST_ALGORITHM', `${name} must be "sha256" or "sha512", got ${JSON.stringify(String(algorithm))}`);
  }
  return algorithm;
}

function checkPositiveInteger(value: unknown, name: string): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || (value as number) <= 0)) {
    throw newError('ERR_INVALID_ARGUMENT', `${name} must be a positive integer, got ${String(value)}`);
  }
}

function transformOptions(options: DigestStreamOptions): { highWaterMark?: number } {
  checkPositiveInteger(options.highWaterMark, 'options.highWaterMark');
  return options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark };
}

/**
 * A pass-through `Transform` that checks the bytes flowing through it against an expected digest and size, so a
 * blob can be streamed to a temp file and renamed only once it is known to be right.
 *
 * - More bytes than `expected.size`: fails with `ERR_SIZE_MISMATCH` as soon as the chunk that overflows arrives;
 *   that chunk is not passed on, so a consumer never receives more than `size` bytes.
 * - Fewer bytes than `expected.size`: fails with `ERR_SIZE_MISMATCH` at the end of the stream.
 * - Wrong digest: fails with `ERR_DIGEST_MISMATCH` at the end of the stream.
 *
 * The end-of-stream checks run in `_flush`, before the readable side ends, so with
 * `pipeline(source, verifier, fileStream)` the pipeline rejects before the file stream finishes: a caller who
 * renames after the pipeline resolves never renames a bad blob. Error `details` carry `expectedDigest`,
 * `actualDigest` (when known), `expectedSize` and `actualSize`.
 *
 * @throws ERR_UNSUPPORTED_DIGEST_ALGORITHM, ERR_INVALID_DIGEST or ERR_INVALID_ARGUMENT from the constructor when
 *   `expected` or `options` are malformed.
 */
export class DigestVerifier extends Transform {
  readonly expected: Readonly<ExpectedDigest>;
  readonly #hash: Hash;
  readonly #limit: number;
  #received = 0;

  constructor(expected: ExpectedDigest, options: DigestStreamOptions = {}) {
    if (typeof expected !== 'object' || expected === null) {
      throw newError('ERR_INVALID_ARGUMENT', 'expected must be an object { algorithm, hex, size? }');
    }
    const algorithm = checkAlgorithm(expected.algorithm, 'expected.algorithm');
    const { hex, size } = expected;
    if (typeof hex !== 'string' || hex.length !== HEX_LENGTH[algorithm] || !LOWER_HEX.test(hex)) {
      throw newError('ERR_INVALID_DIGEST', `expected.hex must be ${HEX_LENGTH[algorithm]} lower-case hex characters for ${algorithm}`);
    }
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
      throw newError('ERR_INVALID_ARGUMENT', `expected.size must be a non-negative integer, got ${String(size)}`);
    }
    super(transformOptions(options));
    this.expected = Object.freeze({ algorithm, hex, ...(size === undefined ? {} : { size }) });
    this.#hash = createHash(algorithm);
    this.#limit = size ?? Number.POSITIVE_INFINITY;
  }

  /** Bytes received (and passed on) so far. */
  get bytesReceived(): number {
    return this.#received;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // Hot path: one comparison, one hash update, and the chunk handed on untouched.
    const received = this.#received + chunk.length;
    if (received > this.#limit) {
      callback(
        this.#error('ERR_SIZE_MISMATCH', `more than the expected ${this.#limit} bytes (at least ${received})`, {
          actualSize: received,
        }),
      );
      return;
    }
    this.#received = received;
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const actual = this.#hash.digest('hex');
    const actualDigest = `${this.expected.algorithm}:${actual}`;
    if (this.expected.size !== undefined && this.#received < this.expected.size) {
      callback(
        this.#error('ERR_SIZE_MISMATCH', `${this.#received} bytes, fewer than the expected ${this.#limit}`, {
          actualSize: this.#received,
          actualDigest,
        }),
      );
      return;
    }
    if (actual !== this.expected.hex) {
      callback(
        this.#error('ERR_DIGEST_MISMATCH', `digest mismatch: got ${actualDigest}`, {
          actualSize: this.#received,
          actualDigest,
        }),
      );
      return;
    }
    callback();
  }

  #error(code: 'ERR_SIZE_MISMATCH' | 'ERR_DIGEST_MISMATCH', what: string, actual: Record<string, unknown>): Error {
    const expectedDigest = `${this.expected.algorithm}:${this.expected.hex}`;
    return newError(code, `content of ${expectedDigest}: ${what}`, {
      details: { expectedDigest, expectedSize: this.expected.size, ...actual },
    });
  }
}

/**
 * A pass-through `Transform` that computes the digest and size of what flows through it, for bytes whose digest
 * is not known beforehand (a layer's uncompressed diff_id, a blob about to be pushed). Read {@link digest},
 * {@link hex} and {@link size} after the stream has ended.
 *
 * @throws ERR_UNSUPPORTED_DIGEST_ALGORITHM or ERR_INVALID_ARGUMENT from the constructor on bad arguments.
 */
export class DigestCalculator extends Transform {
  readonly algorithm: HashAlgorithm;
  readonly #hash: Hash;
  #size = 0;
  #hex: string | undefined;

  /** @param algorithm default `'sha256'`. */
  constructor(algorithm: HashAlgorithm = 'sha256', options: DigestStreamOptions = {}) {
    const checked = checkAlgorithm(algorithm, 'algorithm');
    super(transformOptions(options));
    this.algorithm = checked;
    this.#hash = createHash(checked);
  }

  /** Bytes seen so far (the total once the stream has ended). */
  get size(): number {
    return this.#size;
  }

  /**
   * The lower-case hex digest.
   * @throws ERR_FAILED_PRECONDITION before the stream has ended.
   */
  get hex(): string {
    if (this.#hex === undefined) {
      throw newError('ERR_FAILED_PRECONDITION', 'the digest is known only after the stream has ended');
    }
    return this.#hex;
  }

  /**
   * The digest as `<algorithm>:<hex>`.
   * @throws ERR_FAILED_PRECONDITION before the stream has ended.
   */
  digest(): string {
    return `${this.algorithm}:${this.hex}`;
  }

  /**
   * Algorithm, hex and size together.
   * @throws ERR_FAILED_PRECONDITION before the stream has ended.
   */
  result(): ComputedDigest {
    return { algorithm: this.algorithm, hex: this.hex, size: this.#size };
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#size += chunk.length;
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.#hex = this.#hash.digest('hex');
    callback();
  }
}

/**
 * Digest of an in-memory buffer.
 *
 * @param algorithm default `'sha256'`.
 * @throws ERR_UNSUPPORTED_DIGEST_ALGORITHM for an algorithm other than sha256 or sha512.
 */
export function digestBuffer(buf: Uint8Array, algorithm: HashAlgorithm = 'sha256'): ComputedDigest {
  const checked = checkAlgorithm(algorithm, 'algorithm');
  return { algorithm: checked, hex: createHash(checked).update(buf).digest('hex'), size: buf.byteLength };
}

/**
 * Digest and size of a file, read in large chunks (default 1 MiB) through two reused buffers: the next read runs
 * in the thread pool while the current chunk is hashed, and no buffer is allocated per chunk.
 *
 * @throws ERR_NOT_FOUND when the file does not exist; ERR_INVALID_ARGUMENT for a directory or bad options;
 *   ERR_UNSUPPORTED_DIGEST_ALGORITHM for an algorithm other than sha256 or sha512. Other file-system errors are
 *   Node's own errno errors. Rejects with `signal.reason` on abort.
 */
export async function digestFile(path: string, options: DigestFileOptions = {}): Promise<ComputedDigest> {
  const { algorithm = 'sha256', highWaterMark = DEFAULT_CHUNK, signal } = options;
  const checked = checkAlgorithm(algorithm, 'options.algorithm');
  checkPositiveInteger(highWaterMark, 'options.highWaterMark');
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.signal must be an AbortSignal');
  }
  signal?.throwIfAborted();

  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw translateFsError(err, path);
  }
  const hash = createHash(checked);
  const buffers = [Buffer.allocUnsafe(highWaterMark), Buffer.allocUnsafe(highWaterMark)] as const;
  let pending: Promise<{ bytesRead: number }> | undefined;
  let size = 0;
  try {
    signal?.throwIfAborted();
    let current = 0;
    pending = handle.read(buffers[0], 0, highWaterMark, 0);
    for (;;) {
      const { bytesRead } = await pending;
      pending = undefined;
      if (bytesRead === 0) break;
      signal?.throwIfAborted();
      const chunk = buffers[current];
      size += bytesRead;
      current ^= 1;
      // Start the next read before hashing, so disk or page-cache copy overlaps with hashing.
      pending = handle.read(buffers[current], 0, highWaterMark, size);
      hash.update(bytesRead === highWaterMark ? chunk : chunk.subarray(0, bytesRead));
    }
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw translateFsError(err, path);
  } finally {
    // A read still in flight must settle before close; its outcome no longer matters.
    await pending?.catch(() => undefined);
    await handle.close();
  }
  return { algorithm: checked, hex: hash.digest('hex'), size };
}

function translateFsError(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return newError('ERR_NOT_FOUND', `file ${path} does not exist`, { cause: err, details: { path } });
  if (code === 'EISDIR') return newError('ERR_INVALID_ARGUMENT', `${path} is a directory, not a file`, { cause: err, details: { path } });
  return err;
}
