/**
 * LocalContentStore: a {@link ContentStore} on a directory that is, at every moment, a valid OCI image layout.
 * @module
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, open, readdir, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { newError } from '../errors/index.js';
import { DIGEST_ALGORITHMS, type Digest, isDigest, parseDigest } from '../oci/digest.js';
import { logger } from '../util/debug.js';
import { errnoOf, fsError } from '../util/fs-error.js';
import { acquireLock } from '../util/lock.js';
import { blobPath, ingestDir, initLayout } from './layout.js';
import type { BlobInfo, ContentCallOptions, ContentStore, IngestFollower, IngestReader, IngestStatus, ReaderAt, Writer, WriterOptions } from './types.js';
import { INGEST_DATA, openWriter, readIngestStatus } from './writer.js';

const log = logger('content:local');
// Blob streams carry megabytes: ≥ 1 MiB chunks (PERFORMANCE.md).
const HIGH_WATER_MARK = 1 << 20;

class FileReaderAt implements ReaderAt {
  #closed = false;
  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    private readonly path: string,
  ) {}

  async read(offset: number, length: number, options: ContentCallOptions = {}): Promise<Buffer> {
    options.signal?.throwIfAborted();
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw newError('ERR_INVALID_ARGUMENT', 'offset and length must be non-negative integers');
    }
    const n = Math.max(0, Math.min(length, this.size - offset));
    const buf = Buffer.allocUnsafe(n);
    let done = 0;
    while (done < n) {
      const { bytesRead } = await this.fh.read(buf, done, n - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf.subarray(0, done);
  }

  stream(offset = 0, options: ContentCallOptions = {}): Readable {
    if (!Number.isSafeInteger(offset) || offset < 0) throw newError('ERR_INVALID_ARGUMENT', 'offset must be a non-negative integer');
    return createReadStream(this.path, { start: offset, highWaterMark: HIGH_WATER_MARK, ...(options.signal ? { signal: options.signal } : {}) });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.fh.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * A content store on an OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), with writes
 * in progress under `ingest/`. Blobs appear under their digest only after verification, fsync and an atomic link,
 * so the directory stays a valid layout that skopeo and umoci read. Any number of processes may share it.
 * Digests are validated before they become paths. Open it with {@link LocalContentStore.open}.
 */
export class LocalContentStore implements ContentStore, IngestFollower {
  private constructor(readonly root: string) {}

  /**
   * Opens the layout at `root`, creating an empty one when the directory is empty or missing.
   * @throws ERR_INVALID_LAYOUT when `oci-layout` is unusable; ERR_IO; ERR_INVALID_ARGUMENT for an empty path.
   */
  static async open(root: string, options: ContentCallOptions = {}): Promise<LocalContentStore> {
    if (typeof root !== 'string' || root === '') throw newError('ERR_INVALID_ARGUMENT', 'root must be a non-empty path');
    options.signal?.throwIfAborted();
    await initLayout(root);
    return new LocalContentStore(root);
  }

  /** The path of blob `digest` (validated first). @throws ERR_INVALID_DIGEST, ERR_UNSUPPORTED_DIGEST_ALGORITHM. */
  blobPath(digest: Digest | string): string {
    return blobPath(this.root, digest);
  }

  /**
   * Reads ingest `ref`'s bytes while they are written (see {@link IngestFollower}): its data file, whose bytes keep
   * their offsets and, after the commit, are the blob's (the same file).
   * @throws ERR_NOT_FOUND when the ingest has no data file (not begun, or committed); ERR_INVALID_ARGUMENT for an empty ref.
   */
  async ingestReader(ref: string, options: ContentCallOptions = {}): Promise<IngestReader> {
    if (typeof ref !== 'string' || ref === '') throw newError('ERR_INVALID_ARGUMENT', 'ref must be a non-empty string');
    options.signal?.throwIfAborted();
    const path = join(ingestDir(this.root, ref), INGEST_DATA);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') throw newError('ERR_NOT_FOUND', `ingest ${ref} has no data`, { cause: err, details: { ref } });
      throw fsError(err, 'open', path);
    }
    // No size: the file grows while it is read, and a read returns what is there.
    return new FileReaderAt(fh, Number.MAX_SAFE_INTEGER, path);
  }

  async info(digest: Digest | string, options: ContentCallOptions = {}): Promise<BlobInfo> {
    options.signal?.throwIfAborted();
    const path = blobPath(this.root, digest);
    try {
      const st = await stat(path);
      return { digest: parseDigest(digest), size: st.size, createdAt: st.mtime };
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') throw newError('ERR_NOT_FOUND', `content ${digest} not found`, { cause: err, details: { digest } });
      throw fsError(err, 'stat', path);
    }
  }

  async readerAt(digest: Digest | string, options: ContentCallOptions = {}): Promise<ReaderAt> {
    options.signal?.throwIfAborted();
    const path = blobPath(this.root, digest);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') throw newError('ERR_NOT_FOUND', `content ${digest} not found`, { cause: err, details: { digest } });
      throw fsError(err, 'open', path);
    }
    const { size } = await fh.stat();
    return new FileReaderAt(fh, size, path);
  }

  writer(options: WriterOptions): Promise<Writer> {
    if (typeof options !== 'object' || options === null) throw newError('ERR_INVALID_ARGUMENT', 'options must be an object with a ref');
    return openWriter(this.root, options);
  }

  async walk(fn: (info: BlobInfo) => void | Promise<void>, options: ContentCallOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    for (const algorithm of Object.keys(DIGEST_ALGORITHMS)) {
      const dir = join(this.root, 'blobs', algorithm);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') continue;
        throw fsError(err, 'list', dir);
      }
      for (const name of names.sort()) {
        options.signal?.throwIfAborted();
        const digest = `${algorithm}:${name}`;
        if (!isDigest(digest)) {
          log('skipping %s/%s: not a valid digest', dir, name);
          continue;
        }
        const st = await stat(join(dir, name)).catch(() => undefined);
        if (st === undefined || !st.isFile()) continue;
        await fn({ digest, size: st.size, createdAt: st.mtime });
      }
    }
  }

  async delete(digest: Digest | string, options: ContentCallOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    const path = blobPath(this.root, digest);
    try {
      await unlink(path);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') throw newError('ERR_NOT_FOUND', `content ${digest} not found`, { cause: err, details: { digest } });
      throw fsError(err, 'delete', path);
    }
  }

  async status(ref: string, options: ContentCallOptions = {}): Promise<IngestStatus> {
    options.signal?.throwIfAborted();
    const status = await readIngestStatus(ingestDir(this.root, ref));
    if (status === undefined || status.ref !== ref) throw newError('ERR_NOT_FOUND', `ingest ${JSON.stringify(ref)} not found`, { details: { ref } });
    return status;
  }

  async listStatuses(options: ContentCallOptions = {}): Promise<IngestStatus[]> {
    options.signal?.throwIfAborted();
    const dir = join(this.root, 'ingest');
    const names = await readdir(dir).catch((err: unknown) => {
      if (errnoOf(err) === 'ENOENT') return [] as string[];
      throw fsError(err, 'list', dir);
    });
    const out: IngestStatus[] = [];
    for (const name of names.sort()) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue; // lock files and temp files
      const status = await readIngestStatus(join(dir, name));
      if (status !== undefined) out.push(status);
    }
    return out;
  }

  async abort(ref: string, options: ContentCallOptions = {}): Promise<void> {
    await this.status(ref, options);
    const dir = ingestDir(this.root, ref);
    let lock;
    try {
      lock = await acquireLock(`${dir}.lock`, { timeoutMs: 0, signal: options.signal });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_LOCK_TIMEOUT') {
        throw newError('ERR_INGEST_LOCKED', `ingest ${JSON.stringify(ref)} is held by a writer`, { cause: err, details: { ref } });
      }
      throw err;
    }
    try {
      await rm(dir, { recursive: true, force: true });
    } finally {
      await lock.release();
    }
  }

  /**
   * Removes ingest directories with no `ref` file (left by a crash while one was being created) and unlocked ones
   * not touched for `olderThanMs`. Returns the refs (or dir names) removed. Used by GC.
   */
  async pruneIngests(olderThanMs: number, options: ContentCallOptions = {}): Promise<string[]> {
    const dir = join(this.root, 'ingest');
    const names = await readdir(dir).catch(() => [] as string[]);
    const removed: string[] = [];
    for (const name of names) {
      options.signal?.throwIfAborted();
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      const path = join(dir, name);
      let lock;
      try {
        lock = await acquireLock(`${path}.lock`, { timeoutMs: 0 });
      } catch {
        continue; // a live writer holds it
      }
      try {
        const status = await readIngestStatus(path);
        if (status === undefined || Date.now() - status.updatedAt.getTime() >= olderThanMs) {
          await rm(path, { recursive: true, force: true });
          removed.push(status?.ref ?? name);
        }
      } finally {
        await lock.release();
      }
    }
    return removed;
  }
}
