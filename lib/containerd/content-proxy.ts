import { Readable } from 'node:stream';
import type { BlobInfo, ContentCallOptions, ContentStore, IngestStatus, ReaderAt, WriterOptions } from '../content/types.js';
import { newError } from '../errors/index.js';
import type { Info as PbInfo, Status as PbStatus } from '../gen/containerd/services/content/v1/content.js';
import type { Digest } from '../oci/digest.js';
import { sleep } from '../util/abort.js';
import { ContainerdWriter } from './content-writer.js';
import { toDate, toNumber } from './convert.js';
import { isAlreadyExists } from './errors.js';
import type { ContainerdCallOptions } from './middleware.js';
import type { RpcClients } from './rpc.js';

/** A blob's metadata in containerd: {@link BlobInfo} plus its labels and update time. */
export interface ContentInfo extends BlobInfo {
  updatedAt?: Date;
  labels: Record<string, string>;
}

/** Options of {@link ContentProxy.read}. */
export interface ContainerdReadOptions extends ContainerdCallOptions {
  /** Where to start. Default 0. */
  offset?: number;
  /** How many bytes. Default: to the end. */
  size?: number;
}

/** How long {@link ContentProxy.abort} waits for containerd's writer of the ingest to finish closing. */
const ABORT_RETRY_MS = 2000;

/** containerd's removal of an ingest raced the close of the writer that was still using it. */
function isIngestStillClosing(err: unknown): boolean {
  return err instanceof Error && /directory not empty/.test(err.message);
}

function toInfo(i: PbInfo | undefined, digest: string): ContentInfo {
  return {
    digest: (i?.digest || digest) as Digest,
    size: toNumber(i?.size ?? 0n),
    createdAt: toDate(i?.createdAt) ?? new Date(0),
    updatedAt: toDate(i?.updatedAt),
    labels: { ...(i?.labels ?? {}) },
  };
}

function toStatus(s: PbStatus | undefined, ref: string): IngestStatus {
  return {
    ref: s?.ref || ref,
    offset: toNumber(s?.offset ?? 0n),
    ...(s && s.total > 0n ? { total: toNumber(s.total) } : {}),
    ...(s?.expected ? { expected: s.expected as Digest } : {}),
    startedAt: toDate(s?.startedAt) ?? new Date(0),
    updatedAt: toDate(s?.updatedAt) ?? new Date(0),
  };
}

/**
 * containerd's content store as a containerkit {@link ContentStore} (Provider, Ingester, IngestManager, Manager),
 * plus what only containerd has: labels (`update`), filtered `list`, and streamed `read`.
 */
export class ContentProxy implements ContentStore {
  /** @internal Built by `ContainerdClient` over its raw gRPC clients, which are not public. */
  constructor(private readonly rpc: Pick<RpcClients, 'content' | 'contentWrite'>) {}

  /** A blob's metadata. @throws ERR_CONTAINERD_NOT_FOUND. */
  async info(digest: Digest | string, options: ContainerdCallOptions = {}): Promise<ContentInfo> {
    const r = await this.rpc.content.info({ digest }, options);
    return toInfo(r.info, digest);
  }

  /**
   * Sets labels of blob `digest` (an empty value removes one); other labels stay. Returns the new info.
   * @throws ERR_CONTAINERD_NOT_FOUND.
   */
  async setLabels(digest: Digest | string, labels: Record<string, string>, options: ContainerdCallOptions = {}): Promise<ContentInfo> {
    const updateMask = Object.keys(labels).map((k) => `labels.${k}`);
    const info = { digest, size: 0n, createdAt: undefined, updatedAt: undefined, labels };
    const r = await this.rpc.content.update({ info, updateMask }, options);
    return toInfo(r.info, digest);
  }

  /** Blobs matching any of `filters` (e.g. `labels."containerd.io/uncompressed"`); all when empty. */
  async list(filters: string[] = [], options: ContainerdCallOptions = {}): Promise<ContentInfo[]> {
    const out: ContentInfo[] = [];
    for await (const page of this.rpc.content.list({ filters }, options)) for (const i of page.info) out.push(toInfo(i, ''));
    return out;
  }

  /** Calls `fn` for each blob. */
  async walk(fn: (info: ContentInfo) => void | Promise<void>, options: ContentCallOptions = {}): Promise<void> {
    for (const info of await this.list([], options)) {
      options.signal?.throwIfAborted();
      await fn(info);
    }
  }

  /** Removes a blob. @throws ERR_CONTAINERD_NOT_FOUND. */
  async delete(digest: Digest | string, options: ContainerdCallOptions = {}): Promise<void> {
    await this.rpc.content.delete({ digest }, options);
  }

  /**
   * The bytes of blob `digest` as a stream (containerd sends 1 MiB chunks). Errors (ERR_CONTAINERD_NOT_FOUND…)
   * and aborts surface as the stream's `'error'`.
   */
  read(digest: Digest | string, options: ContainerdReadOptions = {}): Readable {
    const { offset = 0, size = 0, ...call } = options;
    const responses = this.rpc.content.read({ digest, offset: BigInt(offset), size: BigInt(size) }, call);
    return Readable.from(
      (async function* chunks() {
        for await (const r of responses) if (r.data.length > 0) yield r.data;
      })(),
      { objectMode: false },
    );
  }

  /** The whole blob in memory; for manifests and configs. @throws ERR_CONTAINERD_NOT_FOUND. */
  async readAll(digest: Digest | string, options: ContainerdReadOptions = {}): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.read(digest, options)) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }

  /** Random access to blob `digest` (its size from `info`). @throws ERR_CONTAINERD_NOT_FOUND. */
  async readerAt(digest: Digest | string, options: ContentCallOptions = {}): Promise<ReaderAt> {
    const { size } = await this.info(digest, options);
    return {
      size,
      read: async (offset, length, o = {}) => {
        if (offset >= size || length <= 0) return Buffer.alloc(0);
        return this.readAll(digest, { offset, size: Math.min(length, size - offset), signal: o.signal });
      },
      stream: (offset = 0, o = {}) => this.read(digest, { offset, signal: o.signal }),
      close: async () => undefined,
      [Symbol.asyncDispose]: async () => undefined,
    };
  }

  /**
   * Opens or resumes ingest `options.ref` with a STAT; `options.signal` covers the whole life of the write stream.
   * @throws ERR_CONTAINERD_ALREADY_EXISTS when the expected blob is already committed; ERR_CONTAINERD_UNAVAILABLE
   *   when another writer holds the ref past `options.lockTimeoutMs` (default 0: fail at once).
   */
  writer(options: WriterOptions): Promise<ContainerdWriter> {
    return ContainerdWriter.open(this.rpc, options);
  }

  /** The state of ingest `ref`. @throws ERR_CONTAINERD_NOT_FOUND. */
  async status(ref: string, options: ContainerdCallOptions = {}): Promise<IngestStatus> {
    const r = await this.rpc.content.status({ ref }, options);
    return toStatus(r.status, ref);
  }

  /** Every ingest matching any of `filters` (e.g. `ref~="layer-"`); all when empty. */
  async listStatuses(options: ContainerdCallOptions & { filters?: string[] } = {}): Promise<IngestStatus[]> {
    const { filters = [], ...call } = options;
    const r = await this.rpc.content.listStatuses({ filters }, call);
    return r.statuses.map((s) => toStatus(s, ''));
  }

  /**
   * Drops ingest `ref`. Right after a write to `ref` was cut, containerd's writer may still be closing (it rewrites
   * the ingest's `updatedat` file as it does), so its removal can fail with "directory not empty"; that is retried
   * for up to 2 s.
   * @throws ERR_CONTAINERD_NOT_FOUND.
   */
  async abort(ref: string, options: ContainerdCallOptions = {}): Promise<void> {
    const giveUpAt = Date.now() + ABORT_RETRY_MS;
    for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
      try {
        await this.rpc.content.abort({ ref }, options);
        return;
      } catch (err) {
        if (!isIngestStillClosing(err) || Date.now() + wait > giveUpAt) throw err;
        await sleep(wait, options.signal);
      }
    }
  }

  /**
   * Writes a whole blob: STAT (already present → returns without writing), resume from the ingest's offset by asking
   * `source(offset)` for the remaining bytes, then COMMIT with `labels`. Returns whether it wrote anything. With
   * `sourceVerified` (the source checks the digest itself) no local hash is kept; containerd verifies at commit.
   * @throws ERR_CONTAINERD_* from containerd (a digest or size mismatch); ERR_INVALID_ARGUMENT.
   */
  async writeBlob(
    ref: string,
    expected: { digest: Digest | string; size: number },
    source: (offset: number) => AsyncIterable<Uint8Array> | Uint8Array,
    options: ContainerdCallOptions & { labels?: Record<string, string>; lockTimeoutMs?: number; sourceVerified?: boolean } = {},
  ): Promise<boolean> {
    if (typeof expected?.digest !== 'string' || !Number.isSafeInteger(expected.size))
      throw newError('ERR_INVALID_ARGUMENT', 'expected needs a digest and a size');
    const { labels, lockTimeoutMs = 60_000, sourceVerified = false, signal } = options;
    let writer: ContainerdWriter;
    try {
      writer = await this.writer({ ref, expected, lockTimeoutMs, sourceVerified, signal });
    } catch (err) {
      if (isAlreadyExists(err)) return false;
      throw err;
    }
    try {
      const { offset } = await writer.status();
      if (offset < expected.size) {
        const bytes = source(offset);
        if (bytes instanceof Uint8Array) await writer.write(bytes.subarray(0), { signal });
        else for await (const chunk of bytes) await writer.write(chunk, { signal });
      }
      await writer.commit(expected.size, expected.digest, { labels, signal });
      return true;
    } catch (err) {
      if (isAlreadyExists(err)) return false;
      throw err;
    } finally {
      await writer.close();
    }
  }
}
