/**
 * The local store's resumable, verified writer: bytes go to `ingest/<hash>/data`, a hash follows them, and
 * `commit()` fsyncs, checks size and digest, then hard-links the file into `blobs/` (link never replaces, so two
 * writers of one digest end with one blob and the loser learns ERR_ALREADY_EXISTS).
 * @module
 */
import { createHash, type Hash } from 'node:crypto';
import { constants, readSync } from 'node:fs';
import { chmod, type FileHandle, link, mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { newError } from '../errors/index.js';
import { type Digest, type DigestAlgorithm, formatDigest, parseDigest, splitDigest } from '../oci/digest.js';
import { syncDir } from '../util/atomic-file.js';
import { errnoOf, fsError } from '../util/fs-error.js';
import { acquireLock, type Lock } from '../util/lock.js';
import { blobPath, ingestDir } from './layout.js';
import type { ContentCallOptions, IngestStatus, Writer, WriterOptions } from './types.js';

const READ_CHUNK = 1 << 20;
/** The name of the file holding an ingest's bytes, in its directory. */
export const INGEST_DATA = 'data';
const FLUSH_EVERY = 16 << 20;

/** Reads the metadata files of an ingest dir; undefined when there is no ingest. */
export async function readIngestStatus(dir: string): Promise<IngestStatus | undefined> {
  let ref: string;
  try {
    ref = await readFile(join(dir, 'ref'), 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return undefined;
    throw fsError(err, 'read ingest', dir);
  }
  const text = async (name: string): Promise<string | undefined> => readFile(join(dir, name), 'utf8').catch(() => undefined);
  const started = Number(await text('startedat'));
  const expectedText = await text('expected');
  const totalText = await text('total');
  const data = await stat(join(dir, INGEST_DATA)).catch(() => undefined);
  const status: IngestStatus = {
    ref,
    offset: data?.size ?? 0,
    startedAt: new Date(Number.isFinite(started) ? started : 0),
    updatedAt: data?.mtime ?? new Date(Number.isFinite(started) ? started : 0),
  };
  if (expectedText) status.expected = parseDigest(expectedText.trim());
  if (totalText && Number.isSafeInteger(Number(totalText))) status.total = Number(totalText);
  return status;
}

/** Opens (or resumes) the ingest `options.ref` under `root`, holding its lock until commit or close. */
export async function openWriter(root: string, options: WriterOptions): Promise<Writer> {
  const { ref, expected, lockTimeoutMs = 0, sourceVerified = false, signal } = options;
  if (typeof ref !== 'string' || ref === '') throw newError('ERR_INVALID_ARGUMENT', 'options.ref must be a non-empty string');
  if (typeof lockTimeoutMs !== 'number' || Number.isNaN(lockTimeoutMs) || lockTimeoutMs < 0) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.lockTimeoutMs must be a number >= 0');
  }
  const expectedDigest = expected === undefined ? undefined : parseDigest(expected.digest);
  if (expected?.size !== undefined && (!Number.isSafeInteger(expected.size) || expected.size < 0)) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.expected.size must be a non-negative integer');
  }
  if (typeof sourceVerified !== 'boolean') throw newError('ERR_INVALID_ARGUMENT', 'options.sourceVerified must be a boolean');
  if (sourceVerified && (expectedDigest === undefined || expected?.size === undefined)) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.sourceVerified needs options.expected with a digest and a size');
  }
  signal?.throwIfAborted();
  const dir = ingestDir(root, ref);
  await mkdir(join(root, 'ingest'), { recursive: true }).catch((err: unknown) => {
    throw fsError(err, 'create', join(root, 'ingest'));
  });
  let lock: Lock;
  try {
    lock = await acquireLock(`${dir}.lock`, { timeoutMs: lockTimeoutMs, signal });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_LOCK_TIMEOUT') {
      throw newError('ERR_INGEST_LOCKED', `ingest ${JSON.stringify(ref)} is held by another writer`, { cause: err, details: { ref } });
    }
    throw err;
  }
  try {
    if (
      expectedDigest !== undefined &&
      (await stat(blobPath(root, expectedDigest)).then(
        () => true,
        () => false,
      ))
    ) {
      await rm(dir, { recursive: true, force: true });
      throw newError('ERR_ALREADY_EXISTS', `content ${expectedDigest} already exists`, { details: { digest: expectedDigest } });
    }
    const algorithm: DigestAlgorithm = expectedDigest ? splitDigest(expectedDigest).algorithm : 'sha256';
    let status = await readIngestStatus(dir);
    if (status !== undefined && (status.ref !== ref || (expectedDigest !== undefined && status.expected !== undefined && status.expected !== expectedDigest))) {
      await rm(dir, { recursive: true, force: true }); // another content under this ref: start over
      status = undefined;
    }
    if (status === undefined) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'startedat'), String(Date.now()));
      if (expectedDigest) await writeFile(join(dir, 'expected'), expectedDigest);
      if (expected?.size !== undefined) await writeFile(join(dir, 'total'), String(expected.size));
      await writeFile(join(dir, INGEST_DATA), '');
      await writeFile(join(dir, 'ref'), ref); // last: an ingest without `ref` is incomplete and is ignored
    }
    const fh = await open(join(dir, INGEST_DATA), constants.O_RDWR);
    const writer = new LocalWriter(root, dir, ref, fh, lock, algorithm, expectedDigest, expected?.size, sourceVerified);
    await writer.rehash(signal);
    return writer;
  } catch (err) {
    await lock.release().catch(() => undefined);
    if ((err as { code?: string }).code !== undefined || signal?.aborted) throw signal?.aborted ? signal.reason : err;
    throw fsError(err, 'open ingest', dir);
  }
}

class LocalWriter implements Writer {
  #hash: Hash;
  // False while every byte came from a verifying source from byte 0 (`sourceVerified`): the source's own check
  // stands for the hash, so the blob is hashed once, not twice.
  #hashing = true;
  #offset = 0;
  #closed = false;
  // Background flushes while bytes still arrive, so the fsync at commit has little left to write (overlaps disk
  // with network). At most one in flight; their errors surface through the final sync.
  #flushing: Promise<void> | undefined;
  #unflushed = 0;

  constructor(
    readonly root: string,
    readonly dir: string,
    readonly ref: string,
    private fh: FileHandle,
    private lock: Lock,
    readonly algorithm: DigestAlgorithm,
    readonly expected: Digest | undefined,
    readonly total: number | undefined,
    private readonly sourceVerified = false,
  ) {
    this.#hash = createHash(algorithm);
  }

  /** Rebuilds the hash of the bytes already in `data` (Node cannot serialise a hash state). */
  async rehash(signal?: AbortSignal): Promise<void> {
    const { size } = await this.fh.stat();
    const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(size, 1)));
    let pos = 0;
    while (pos < size) {
      signal?.throwIfAborted();
      const { bytesRead } = await this.fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
      if (bytesRead === 0) break;
      this.#hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    this.#offset = pos;
    this.#hashing = !this.sourceVerified || pos > 0;
  }

  #check(): void {
    if (this.#closed) throw newError('ERR_FAILED_PRECONDITION', `writer ${JSON.stringify(this.ref)} is closed`);
  }

  async status(): Promise<IngestStatus> {
    const status = await readIngestStatus(this.dir);
    if (status === undefined) throw newError('ERR_NOT_FOUND', `ingest ${JSON.stringify(this.ref)} not found`, { details: { ref: this.ref } });
    return { ...status, offset: this.#offset };
  }

  async write(data: Uint8Array, options: ContentCallOptions = {}): Promise<void> {
    this.#check();
    options.signal?.throwIfAborted();
    let done = 0;
    try {
      while (done < data.byteLength) {
        const { bytesWritten } = await this.fh.write(data, done, data.byteLength - done, this.#offset + done);
        done += bytesWritten;
      }
    } catch (err) {
      // Keep the hash and the file in step: drop a partial write.
      await this.fh.truncate(this.#offset).catch(() => undefined);
      throw fsError(err, 'write', join(this.dir, INGEST_DATA));
    }
    if (this.#hashing) this.#hash.update(data);
    this.#offset += data.byteLength;
    this.#unflushed += data.byteLength;
    if (this.#unflushed >= FLUSH_EVERY && this.#flushing === undefined) {
      this.#unflushed = 0;
      this.#flushing = this.fh
        .datasync()
        .catch(() => undefined)
        .finally(() => {
          this.#flushing = undefined;
        });
    }
  }

  digest(): Digest {
    if (this.#hashing) return formatDigest(this.algorithm, this.#hash.copy().digest('hex'));
    // Not hashed on the way in: hash what is on disk, synchronously as the interface asks (a rare call: neither the
    // fetch path nor commit makes it).
    const hash = createHash(this.algorithm);
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    for (let pos = 0; pos < this.#offset; ) {
      const n = readSync(this.fh.fd, buf, 0, Math.min(buf.length, this.#offset - pos), pos);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      pos += n;
    }
    return formatDigest(this.algorithm, hash.digest('hex'));
  }

  async truncate(size: 0): Promise<void> {
    this.#check();
    if (size !== 0) throw newError('ERR_INVALID_ARGUMENT', 'only truncate(0) is supported');
    await this.fh.truncate(0);
    this.#hash = createHash(this.algorithm);
    this.#offset = 0;
    this.#hashing = !this.sourceVerified;
  }

  async commit(size = 0, digest?: Digest | string, options: ContentCallOptions = {}): Promise<Digest> {
    this.#check();
    options.signal?.throwIfAborted();
    const want = digest === undefined ? this.expected : parseDigest(digest);
    const wantSize = size > 0 ? size : this.total;
    if (wantSize !== undefined && this.#offset !== wantSize) {
      throw newError('ERR_SIZE_MISMATCH', `ingest ${JSON.stringify(this.ref)} has ${this.#offset} bytes, expected ${wantSize}`, {
        details: { expectedSize: wantSize, actualSize: this.#offset },
      });
    }
    // Unhashed bytes are the source-verified ones of `expected` when all of them are here; anything else is hashed.
    const trusted = !this.#hashing && want === this.expected && this.#offset === this.total;
    if (!trusted && !this.#hashing) {
      this.#hash = createHash(this.algorithm);
      await this.rehash(options.signal);
      this.#hashing = true;
    }
    const actual = trusted ? this.expected! : this.digest();
    if (want !== undefined && want !== actual) {
      throw newError('ERR_DIGEST_MISMATCH', `ingest ${JSON.stringify(this.ref)} has digest ${actual}, expected ${want}`, {
        details: { expectedDigest: want, actualDigest: actual },
      });
    }
    const target = blobPath(this.root, actual);
    const data = join(this.dir, INGEST_DATA);
    try {
      await this.#flushing;
      await this.fh.sync();
      await this.fh.chmod(0o444);
      await mkdir(dirname(target), { recursive: true });
      await link(data, target);
    } catch (err) {
      if (errnoOf(err) === 'EEXIST') {
        await this.#finish();
        throw newError('ERR_ALREADY_EXISTS', `content ${actual} already exists`, { details: { digest: actual } });
      }
      await chmod(data, 0o644).catch(() => undefined);
      throw fsError(err, 'commit', target);
    }
    await syncDir(dirname(target)).catch(() => undefined);
    await this.#finish();
    return actual;
  }

  async #finish(): Promise<void> {
    this.#closed = true;
    await this.#flushing;
    await this.fh.close().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
    await this.lock.release().catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#flushing;
    await this.fh.close().catch(() => undefined);
    await this.lock.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
