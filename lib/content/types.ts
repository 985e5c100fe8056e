/**
 * The role interfaces of the content store, split like containerd's `core/content`: a {@link Provider} reads
 * committed blobs, an {@link Ingester} hands out {@link Writer}s, an {@link IngestManager} lists and aborts
 * in-progress writes, a {@link Manager} inspects, walks and deletes blobs. {@link ContentStore} is all four.
 *
 * Lifecycle of a write: `writer({ ref })` opens (or resumes) the ingest named `ref`; `write()` appends bytes;
 * `commit(size, digest)` verifies them and makes the blob visible through the Provider atomically. Nothing is
 * readable under a digest before its commit succeeded. Types only: other L2 components `import type` this file.
 * @module
 */
import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';

/** Options every content call accepts. */
export interface ContentCallOptions {
  /** Cancels the call; it rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** What the store knows about one committed blob. */
export interface BlobInfo {
  digest: Digest;
  /** Size in bytes. */
  size: number;
  /** When the blob was committed (its file's mtime). */
  createdAt: Date;
}

/** Random access to one committed blob. Close it when done. */
export interface ReaderAt extends AsyncDisposable {
  /** The blob's size in bytes. */
  readonly size: number;
  /** Reads up to `length` bytes at `offset` (fewer only at the end of the blob). */
  read(offset: number, length: number, options?: ContentCallOptions): Promise<Buffer>;
  /** A stream of the bytes from `offset` (default 0) to the end; independent of the handle's lifetime. */
  stream(offset?: number, options?: ContentCallOptions): Readable;
  /** Releases the handle. Idempotent. */
  close(): Promise<void>;
}

/** Reads the bytes of one ingest while they are written. Close it when done. */
export interface IngestReader extends AsyncDisposable {
  /**
   * Reads up to `length` bytes at `offset` from what the ingest holds now: fewer, or none, past what was written so
   * far. Writes land at their offsets and never move, so bytes a writer reported as written can be read here; the
   * reader keeps reading the same bytes after the ingest is committed.
   */
  read(offset: number, length: number, options?: ContentCallOptions): Promise<Buffer>;
  /** Releases the handle. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens ingests for reading while they are written, for a reader that follows a download in progress (an unpack that
 * starts before the blob is complete). Stores whose writes land in place offer it (LocalContentStore).
 */
export interface IngestFollower {
  /** @throws ERR_NOT_FOUND when ingest `ref` holds no bytes (not begun, or committed meanwhile); ERR_INVALID_ARGUMENT. */
  ingestReader(ref: string, options?: ContentCallOptions): Promise<IngestReader>;
}

/** Reads committed blobs. */
export interface Provider {
  /** Opens the blob `digest` for random access. @throws ERR_NOT_FOUND when absent; ERR_INVALID_DIGEST. */
  readerAt(digest: Digest | string, options?: ContentCallOptions): Promise<ReaderAt>;
}

/** The state of one ingest (a write in progress). */
export interface IngestStatus {
  /** The caller's key for the write. */
  ref: string;
  /** Bytes written so far: where the next `write()` lands. */
  offset: number;
  /** The expected size, when the writer was opened with one. */
  total?: number;
  /** The expected digest, when the writer was opened with one. */
  expected?: Digest;
  startedAt: Date;
  updatedAt: Date;
}

/** Options of {@link Ingester.writer}. */
export interface WriterOptions extends ContentCallOptions {
  /** The caller's key for this write; reopening the same ref resumes it. Required. */
  ref: string;
  /** What the bytes should be; when given and already committed, `writer()` throws ERR_ALREADY_EXISTS. */
  expected?: { digest: Digest | string; size?: number };
  /**
   * How long to wait for another writer holding `ref` (this process or another), in ms. Default 0: fail at once
   * with ERR_INGEST_LOCKED. `Infinity` waits until `signal`.
   */
  lockTimeoutMs?: number;
  /**
   * The caller feeds the writer from a source that checks every byte against `expected` itself and fails before
   * its end when they differ (a registry Fetcher stream read from offset 0), so hashing them again would only cost
   * CPU: the writer skips its own hash while it holds exactly the bytes written by this writer from byte 0, and
   * `commit()` (which the caller must call only after the source ended without an error) then checks the size and
   * takes `expected.digest`. A resumed prefix (bytes already in the ingest when it opened) is hashed as usual.
   * Needs `expected` with a digest and a size (else ERR_INVALID_ARGUMENT). Implementations may ignore it and always
   * hash. Default false.
   */
  sourceVerified?: boolean;
}

/** Options of {@link Writer.commit}. */
export interface CommitOptions extends ContentCallOptions {
  /**
   * Labels of the committed blob, for a store that keeps labels (containerd: GC references, distribution source);
   * a store without labels ignores them. Default none.
   */
  labels?: Record<string, string>;
}

/** One open, exclusive, resumable write. */
export interface Writer extends AsyncDisposable {
  readonly ref: string;
  /** Where the ingest stands now. */
  status(): Promise<IngestStatus>;
  /** Appends `data` at the current offset. */
  write(data: Uint8Array, options?: ContentCallOptions): Promise<void>;
  /** The digest of the bytes written so far. */
  digest(): Digest;
  /** Drops the bytes from `size` on (only `0` is supported: restart the write). */
  truncate(size: 0): Promise<void>;
  /**
   * Verifies the bytes (`size` when > 0, `digest` when given, else the writer's `expected`), fsyncs them and makes
   * them the blob of their digest; the ingest is gone afterwards and the writer closed.
   * @throws ERR_SIZE_MISMATCH, ERR_DIGEST_MISMATCH (the ingest is kept: truncate or abort it);
   *   ERR_ALREADY_EXISTS when that blob was committed meanwhile (the ingest is removed; callers treat as success).
   */
  commit(size?: number, digest?: Digest | string, options?: CommitOptions): Promise<Digest>;
  /** Releases the writer's lock, keeping the ingest for a later resume. Idempotent. */
  close(): Promise<void>;
}

/** Opens writers. */
export interface Ingester {
  /** Opens, or resumes, the ingest `options.ref`. @throws ERR_INGEST_LOCKED, ERR_ALREADY_EXISTS, ERR_INVALID_ARGUMENT. */
  writer(options: WriterOptions): Promise<Writer>;
}

/** Lists and aborts ingests. */
export interface IngestManager {
  /** The status of ingest `ref`. @throws ERR_NOT_FOUND. */
  status(ref: string, options?: ContentCallOptions): Promise<IngestStatus>;
  /** Every ingest on disk. */
  listStatuses(options?: ContentCallOptions): Promise<IngestStatus[]>;
  /** Removes ingest `ref` and its bytes. @throws ERR_NOT_FOUND; ERR_INGEST_LOCKED while a writer holds it. */
  abort(ref: string, options?: ContentCallOptions): Promise<void>;
}

/** Inspects, walks and deletes committed blobs. */
export interface Manager {
  /** @throws ERR_NOT_FOUND when absent; ERR_INVALID_DIGEST. */
  info(digest: Digest | string, options?: ContentCallOptions): Promise<BlobInfo>;
  /** Calls `fn` for each committed blob (names that are not valid digests are skipped). */
  walk(fn: (info: BlobInfo) => void | Promise<void>, options?: ContentCallOptions): Promise<void>;
  /** Removes a blob. @throws ERR_NOT_FOUND when absent. */
  delete(digest: Digest | string, options?: ContentCallOptions): Promise<void>;
}

/** A whole content store: every role. */
export interface ContentStore extends Provider, Ingester, IngestManager, Manager {}
