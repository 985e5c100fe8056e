import { createHash, type Hash } from 'node:crypto';
import type { CommitOptions, ContentCallOptions, IngestStatus, Writer, WriterOptions } from '../content/types.js';
import { ContainerkitError, newError } from '../errors/index.js';
import { WriteAction, type WriteContentRequest, type WriteContentResponse } from '../gen/containerd/services/content/v1/content.js';
import type { Digest } from '../oci/digest.js';
import { sleep } from '../util/abort.js';
import { toDate, toNumber } from './convert.js';
import type { RpcClients } from './rpc.js';
import { stagedWriteRequest } from './write-request.js';

// WRITE requests carry 1 MiB each, and up to 4 are sent before containerd's answers to the earlier ones are read:
// containerd hashes and stores one chunk while the next ones travel and this side prepares more, instead of each
// side waiting for the other. Per-request costs (framing, an answer to decode, containerd's write call) dominate
// below that: on a 200 MB ingest fed by a registry stream, 4 × 1 MiB took ~25 % less client CPU (and ~5 % less
// of containerd's) than 8 × 256 KiB, and less than 8 × 1 MiB.
const CHUNK = 1024 * 1024;
const WRITES_IN_FLIGHT = 4;

// Room for a WRITE's fields besides the data (action, offset, a ref of up to ~200 bytes); longer refs allocate.
const WIRE_HEAD_ROOM = 256;

/** A push-fed request stream for the bidi Write call; `end()` half-closes it. */
class RequestQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #ended = false;
  #wake: (() => void) | undefined;

  push(item: T): void {
    this.#items.push(item);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.#items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}

function request(ref: string, action: WriteAction, fields: Partial<WriteContentRequest> = {}): WriteContentRequest {
  return { action, ref, total: 0n, expected: '', offset: 0n, data: Buffer.alloc(0), labels: {}, ...fields };
}

/** Options of {@link ContainerdWriter.commit}: the Writer interface's, whose `labels` containerd keeps. */
export type ContainerdCommitOptions = CommitOptions;

/**
 * A containerd content ingest held open through one bidi `Content.Write` stream (STAT → WRITE… → COMMIT). Bytes land
 * at the server's offset, so a writer reopened on a ref resumes where the previous one stopped (`status().offset`).
 */
export class ContainerdWriter implements Writer {
  readonly ref: string;
  #queue = new RequestQueue<WriteContentRequest>();
  #responses: AsyncIterator<WriteContentResponse>;
  #abort = new AbortController();
  #status: IngestStatus;
  #hash: Hash | undefined;
  #serverDigest = '';
  #closed = false;
  /** Data lengths of the requests sent whose answers are not read yet, oldest first (0 for non-WRITE ones). */
  #inFlight: number[] = [];
  // Wire buffers for WRITE requests, used in turn: one more than can be in flight, so a buffer is reused only after
  // containerd answered the request it carried (an answer means every byte of it was sent; the call sends the buffer
  // itself, without a copy).
  #wires: Buffer[] = [];
  #nextWire = 0;
  // The wire buffer that write() is filling (data from WIRE_HEAD_ROOM on) and how many bytes it holds: written
  // bytes go out as full CHUNK requests whatever size the caller's pieces are (a registry blob stream hands on its
  // ≤ 64 KiB network reads uncopied), the last partial one when an answer is needed (settle) or at close.
  #stage: Buffer | undefined;
  #staged = 0;

  private constructor(rpc: Pick<RpcClients, 'contentWrite'>, ref: string, signal: AbortSignal | undefined) {
    this.ref = ref;
    const callSignal = signal ? AbortSignal.any([signal, this.#abort.signal]) : this.#abort.signal;
    this.#responses = rpc.contentWrite(this.#queue, { signal: callSignal })[Symbol.asyncIterator]();
    this.#status = { ref, offset: 0, startedAt: new Date(0), updatedAt: new Date(0) };
  }

  /**
   * @internal Takes the raw gRPC clients, which are not public: callers open writers with `ContentProxy.writer()`.
   *
   * Opens (or resumes) ingest `options.ref` with a STAT. `options.signal` covers the whole life of the stream.
   * @throws ERR_CONTAINERD_ALREADY_EXISTS when the expected blob is already committed; ERR_CONTAINERD_UNAVAILABLE
   *   when another writer holds the ref past `lockTimeoutMs` (default 0: fail at once).
   */
  static async open(rpc: Pick<RpcClients, 'contentWrite'>, options: WriterOptions): Promise<ContainerdWriter> {
    const { ref, expected, lockTimeoutMs = 0, signal } = options;
    if (typeof ref !== 'string' || ref === '') throw newError('ERR_INVALID_ARGUMENT', 'options.ref must be a non-empty string');
    if (typeof lockTimeoutMs !== 'number' || lockTimeoutMs < 0) throw newError('ERR_INVALID_ARGUMENT', 'options.lockTimeoutMs must be a number >= 0');
    signal?.throwIfAborted();
    const until = Date.now() + lockTimeoutMs;
    for (let delay = 10; ; delay = Math.min(delay * 2, 500)) {
      const writer = new ContainerdWriter(rpc, ref, signal);
      try {
        await writer.#send(request(ref, WriteAction.STAT, { total: BigInt(expected?.size ?? 0), expected: expected?.digest ?? '' }), signal);
        // A source that verified its bytes already (a registry blob stream) needs no second hash: containerd checks
        // the expected digest at commit anyway.
        if (writer.#status.offset === 0 && options.sourceVerified !== true) writer.#hash = createHash('sha256');
        return writer;
      } catch (err) {
        await writer.close();
        const locked = err instanceof ContainerkitError && err.code === 'ERR_CONTAINERD_UNAVAILABLE' && /locked/i.test(err.message);
        if (!locked || Date.now() + delay > until) throw err;
        await sleep(delay, signal);
      }
    }
  }

  /** Sends `req` after every earlier answer was read, and returns containerd's answer to it. */
  async #send(req: WriteContentRequest, signal?: AbortSignal): Promise<WriteContentResponse> {
    await this.#settle(signal);
    this.#push(req, signal);
    return this.#receive(req, signal);
  }

  #push(req: WriteContentRequest, signal?: AbortSignal): void {
    if (this.#closed) throw newError('ERR_FAILED_PRECONDITION', `content writer ${this.ref} is closed`);
    signal?.throwIfAborted();
    this.#queue.push(req);
    this.#inFlight.push(req.action === WriteAction.WRITE ? req.data.length : 0);
  }

  /** Reads every outstanding answer; the first failed WRITE's error surfaces here. */
  async #settle(signal?: AbortSignal): Promise<void> {
    this.#flushStage(signal);
    while (this.#inFlight.length > 0) await this.#receive(undefined, signal);
  }

  /** Sends the staged bytes as one WRITE at the offset where the requests in flight end. */
  #flushStage(signal?: AbortSignal): void {
    const stage = this.#stage;
    if (stage === undefined || this.#staged === 0) return;
    const offset = this.#inFlight.reduce((sum, n) => sum + n, this.#status.offset);
    const req = request(this.ref, WriteAction.WRITE, { offset: BigInt(offset) });
    const staged = stagedWriteRequest(req, stage, WIRE_HEAD_ROOM, this.#staged);
    this.#stage = undefined;
    this.#staged = 0;
    this.#push(staged, signal);
  }

  /** Reads the answer to the oldest request in flight (`req`, when the caller still has it) into the status. */
  async #receive(req: WriteContentRequest | undefined, signal?: AbortSignal): Promise<WriteContentResponse> {
    signal?.throwIfAborted();
    const onAbort = (): void => this.#abort.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let next: IteratorResult<WriteContentResponse>;
    try {
      next = await this.#responses.next();
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (next.done) throw newError('ERR_CONTAINERD_INTERNAL', `containerd ended the write of ${this.ref} early`);
    this.#inFlight.shift();
    const r = next.value;
    this.#status = {
      ref: this.ref,
      offset: toNumber(r.offset),
      ...(r.total > 0n ? { total: toNumber(r.total) } : {}),
      ...(req?.expected ? { expected: req.expected as Digest } : this.#status.expected ? { expected: this.#status.expected } : {}),
      startedAt: toDate(r.startedAt) ?? this.#status.startedAt,
      updatedAt: toDate(r.updatedAt) ?? new Date(),
    };
    if (r.digest !== '') this.#serverDigest = r.digest;
    return r;
  }

  /**
   * Where the ingest stands, as of containerd's answer to the last write (read first when still outstanding; if
   * that failed, the last offset containerd confirmed).
   */
  async status(): Promise<IngestStatus> {
    await this.#settle().catch(() => undefined);
    return { ...this.#status };
  }

  #wire(): Buffer {
    const i = this.#nextWire;
    this.#nextWire = (i + 1) % (WRITES_IN_FLIGHT + 1);
    return (this.#wires[i] ??= Buffer.allocUnsafe(WIRE_HEAD_ROOM + CHUNK));
  }

  /**
   * Appends `data` at the current offset, sent as WRITEs of 1 MiB (small writes are gathered; the last partial
   * one goes out with the next `status`, `commit`, `truncate` or `close`). Up to 4 chunks stay in flight when it
   * returns: a failure containerd reports for them is thrown by the next call (`write`, `truncate`, `commit`).
   */
  async write(data: Uint8Array, options: ContentCallOptions = {}): Promise<void> {
    const { signal } = options;
    if (this.#closed) throw newError('ERR_FAILED_PRECONDITION', `content writer ${this.ref} is closed`);
    signal?.throwIfAborted();
    for (let at = 0; at < data.length; ) {
      if (this.#stage === undefined) {
        // The next wire buffer is free once at most WRITES_IN_FLIGHT - 1 others are out (one more than can be in flight).
        while (this.#inFlight.length >= WRITES_IN_FLIGHT) await this.#receive(undefined, signal);
        this.#stage = this.#wire();
      }
      // Copied into the wire form now: the caller may reuse its buffer once this returns.
      const n = Math.min(CHUNK - this.#staged, data.length - at);
      this.#stage.set(data.subarray(at, at + n), WIRE_HEAD_ROOM + this.#staged);
      this.#staged += n;
      at += n;
      if (this.#staged === CHUNK) {
        // The server's offset once the chunks in flight are stored: each WRITE must start where the previous ended.
        while (this.#inFlight.length >= WRITES_IN_FLIGHT) await this.#receive(undefined, signal);
        this.#flushStage(signal);
      }
    }
    this.#hash?.update(data);
  }

  /**
   * The sha256 digest of the bytes written so far: computed locally when this writer wrote them all, else
   * containerd's last reported one. @throws ERR_FAILED_PRECONDITION when neither is known (a resumed ingest).
   */
  digest(): Digest {
    if (this.#hash) return `sha256:${this.#hash.copy().digest('hex')}` as Digest;
    if (this.#serverDigest !== '') return this.#serverDigest as Digest;
    throw newError('ERR_FAILED_PRECONDITION', `the digest of resumed ingest ${this.ref} is not known before commit`);
  }

  /** Restarts the ingest from 0 (containerd truncates on a WRITE at offset 0). */
  async truncate(size: 0): Promise<void> {
    if (size !== 0) throw newError('ERR_INVALID_ARGUMENT', 'only truncate(0) is supported');
    await this.#send(request(this.ref, WriteAction.WRITE, { offset: 0n }));
    this.#hash = createHash('sha256');
  }

  /**
   * Commits the ingest as a blob, checking `size` (when > 0) and `digest` (default: the expected one given at open),
   * with `options.labels`. Closes the writer.
   * @throws ERR_DIGEST_MISMATCH / ERR_SIZE_MISMATCH when containerd finds the bytes are not the expected blob (its
   *   content store hashes every byte it is sent); ERR_CONTAINERD_ALREADY_EXISTS when that blob exists (callers treat it as success).
   */
  async commit(size?: number, digest?: Digest | string, options: ContainerdCommitOptions = {}): Promise<Digest> {
    try {
      // The COMMIT carries the offset, so every write in flight must be answered first (an older offset truncates).
      await this.#settle(options.signal);
      const expected = digest ?? this.#status.expected ?? '';
      const r = await this.#send(
        request(this.ref, WriteAction.COMMIT, {
          total: BigInt(size ?? 0),
          offset: BigInt(this.#status.offset),
          expected,
          labels: { ...(options.labels ?? {}) },
        }),
        options.signal,
      );
      return (r.digest || expected) as Digest;
    } catch (err) {
      throw commitMismatch(err) ?? err;
    } finally {
      await this.close();
    }
  }

  /**
   * Ends the stream; an uncommitted ingest stays in containerd for a later resume. Half-closes and waits (up to 5 s)
   * for containerd to end its side, so its writer has released the ingest when this resolves. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    // Bytes written but not sent yet land in the ingest like the ones in flight (a resume starts after them).
    try {
      this.#flushStage();
    } catch {
      // Aborted: nothing more is sent.
    }
    this.#closed = true;
    this.#queue.end();
    const timer = setTimeout(() => this.#abort.abort(), 5000);
    try {
      while (!(await this.#responses.next()).done);
    } catch {
      // The stream failed or was aborted: nothing more to wait for.
    } finally {
      clearTimeout(timer);
      this.#abort.abort();
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

// containerd's local content store refuses a commit whose bytes do not match with FailedPrecondition and these words
// (content/local/writer.go); they are the same failures a verifying stream reports, so they get the same codes.
const COMMIT_MISMATCH = /unexpected commit (digest|size) (\S+), expected (\S+?)(?=:\s|\s|$)/;

function commitMismatch(err: unknown): ContainerkitError | undefined {
  if (!(err instanceof ContainerkitError) || err.code !== 'ERR_CONTAINERD_FAILED_PRECONDITION') return undefined;
  const match = COMMIT_MISMATCH.exec(String(err.details?.['grpcMessage'] ?? ''));
  if (match === null) return undefined;
  const [, what, actual, expected] = match;
  return newError(
    what === 'digest' ? 'ERR_DIGEST_MISMATCH' : 'ERR_SIZE_MISMATCH',
    `containerd refused the blob: its ${what} is ${actual}, expected ${expected}`,
    {
      cause: err,
      details: { expected, actual },
    },
  );
}
