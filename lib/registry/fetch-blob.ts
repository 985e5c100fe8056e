import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { ContainerkitError, newError } from '../errors/index.js';
import type { Descriptor } from '../oci/descriptor.js';
import { splitDigest } from '../oci/digest.js';
import { isNonDistributableLayer } from '../oci/media-types.js';
import { logger, shortId } from '../util/debug.js';
import { DigestVerifier } from '../util/digest-stream.js';
import { type ClientContext, repoName } from './context.js';
import { type Repository, repoPath, repositoryScope } from './endpoints.js';
import { withPullEndpoints } from './fetch-manifest.js';
import { guardStall, type HttpResponse, header } from './http.js';
import type { Endpoint } from './request.js';

const log = logger('registry:blob');

/**
 * Buffering of a blob stream, in bytes (each stage may hold this much while its consumer is busy). Chunks are handed
 * on as the network delivers them (≤ 64 KiB), not gathered: gathering copied every byte once more (a third of the
 * client's CPU per byte besides hashing on the registry-pull bench), and sinks batch themselves (a file stream writes
 * what queued up with one writev, the containerd writer fills 256 KiB requests). A crash loses only what is in flight.
 */
export const BLOB_CHUNK_SIZE = 1024 * 1024;

/** Options of {@link RegistryClient.fetchBlob}. */
export interface FetchBlobOptions {
  signal?: AbortSignal;
  /** Start at this byte (the caller holds the ones before and verifies the digest itself). Default 0. */
  offset?: number;
  /** `size`: check only the byte count (the caller's sink verifies the digest). Default `digest`. */
  verify?: 'digest' | 'size';
}

type Opener = (offset: number, etag: string | undefined) => Promise<{ res: HttpResponse; skip: number }>;

function checkRange(res: HttpResponse, desc: Descriptor, offset: number): number {
  const length = header(res, 'content-length');
  if (res.status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(res, 'content-range') ?? '');
    if (!range || Number(range[1]) !== offset || Number(range[2]) !== desc.size - 1) {
      res.body.destroy();
      throw newError(
        'ERR_REGISTRY_PROTOCOL',
        `blob ${desc.digest}: asked for bytes ${offset}-, got Content-Range ${JSON.stringify(header(res, 'content-range') ?? '')}`,
      );
    }
    return 0;
  }
  // 200: the whole blob, whatever was asked; its length must be the descriptor's size.
  if (length !== undefined && Number(length) !== desc.size) {
    res.body.destroy();
    throw newError('ERR_SIZE_MISMATCH', `blob ${desc.digest} from ${res.url.host}: Content-Length ${length}, expected ${desc.size}`, {
      details: { expectedDigest: desc.digest, expectedSize: desc.size, contentLength: Number(length) },
    });
  }
  const sent = header(res, 'docker-content-digest');
  if (sent !== undefined && sent.trim() !== desc.digest) {
    res.body.destroy();
    throw newError('ERR_DIGEST_MISMATCH', `blob ${desc.digest} from ${res.url.host}: Docker-Content-Digest says ${sent}`, {
      details: { expectedDigest: desc.digest, actualDigest: sent },
    });
  }
  return offset;
}

/** Errors after which a download can go on with a Range request: connection drops and stalls, not verdicts. */
function isResumable(err: unknown): boolean {
  if (err instanceof ContainerkitError) return err.code === 'ERR_STALL_TIMEOUT' || err.code === 'ERR_REGISTRY_UNAVAILABLE';
  return true;
}

function opener(
  ctx: ClientContext,
  repo: Repository,
  desc: Descriptor,
  endpoint: Endpoint,
  target: string | URL,
  noAuth: boolean,
  signal?: AbortSignal,
): Opener {
  return async (offset, etag) => {
    const headers: Record<string, string> = { Accept: '*/*' };
    if (offset > 0) {
      headers['Range'] = `bytes=${offset}-`;
      if (etag !== undefined && !etag.startsWith('W/')) headers['If-Range'] = etag;
    }
    const res = await ctx.session.call({
      method: 'GET',
      endpoint,
      target,
      headers,
      scopes: [repositoryScope(repo.path)],
      accept: [200, 206],
      noAuth,
      what: `fetch blob ${repoName(repo)}@${desc.digest}`,
      signal,
    });
    return { res, skip: checkRange(res, desc, offset) };
  };
}

/**
 * The bytes of the blob from `start`, chunk by chunk as they arrive; after a dropped connection or a stall it
 * re-opens with `Range: bytes=<received>-` (If-Range on a strong ETag) up to `maxResumes` times, and skips the
 * already-received prefix when the server answers 200 instead of 206.
 */
async function* resumingChunks(
  ctx: ClientContext,
  desc: Descriptor,
  open: Opener,
  first: HttpResponse,
  firstSkip: number,
  start: number,
  onChunk: (bytes: number) => void,
  signal?: AbortSignal,
): AsyncGenerator<Buffer> {
  let res = first;
  let skip = firstSkip;
  let received = start;
  let resumes = 0;
  const etag = header(first, 'etag');
  for (;;) {
    try {
      for await (let chunk of guardStall(res, ctx.stallTimeoutMs)) {
        if (skip > 0) {
          if (chunk.length <= skip) {
            skip -= chunk.length;
            continue;
          }
          chunk = chunk.subarray(skip);
          skip = 0;
        }
        received += chunk.length;
        onChunk(chunk.length);
        yield chunk;
      }
      // A body that ended short without an error (chunked encoding cut cleanly) is resumed like a drop.
      if (received >= desc.size) break;
      throw newError('ERR_REGISTRY_UNAVAILABLE', `blob ${desc.digest}: body ended after ${received} of ${desc.size} bytes`);
    } catch (err) {
      signal?.throwIfAborted();
      if (!isResumable(err) || resumes >= ctx.maxResumes || received >= desc.size) throw err;
      resumes++;
      log('blob %s: resuming at byte %d (%d of %d): %s', shortId(desc.digest), received, resumes, ctx.maxResumes, (err as Error).message);
      ({ res, skip } = await open(received, etag));
    }
  }
}

/** Opens the blob at the first working source: allowed foreign URLs, then mirrors, then the registry. */
async function openFirst(
  ctx: ClientContext,
  repo: Repository,
  desc: Descriptor,
  offset: number,
  signal?: AbortSignal,
): Promise<{ res: HttpResponse; skip: number; open: Opener }> {
  const urls = desc.urls ?? [];
  if (urls.length > 0 && isNonDistributableLayer(desc.mediaType)) {
    for (const raw of urls) {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        continue;
      }
      if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !ctx.allowedForeignHosts.has(url.host.toLowerCase())) continue;
      const endpoint: Endpoint = { host: url.host, scheme: url.protocol === 'http:' ? 'http' : 'https', authHost: url.host, mirror: true };
      const open = opener(ctx, repo, desc, endpoint, url, true, signal);
      try {
        return { ...(await open(offset, undefined)), open };
      } catch (err) {
        signal?.throwIfAborted();
        log('foreign URL for %s failed: %s', shortId(desc.digest), (err as Error).message);
      }
    }
  }
  try {
    return await withPullEndpoints(ctx, repo, signal, async (endpoint) => {
      const open = opener(ctx, repo, desc, endpoint, repoPath(repo, 'blobs', desc.digest), false, signal);
      return { ...(await open(offset, undefined)), open };
    });
  } catch (err) {
    const denied = urls.filter((u) => {
      try {
        return !ctx.allowedForeignHosts.has(new URL(u).host.toLowerCase());
      } catch {
        return true;
      }
    });
    if ((err as { code?: string }).code === 'ERR_REGISTRY_NOT_FOUND' && denied.length > 0) {
      throw newError('ERR_FOREIGN_LAYER_DENIED', `blob ${desc.digest} is not in ${repoName(repo)}, and its urls are on hosts not in allowedForeignHosts`, {
        cause: err,
        details: { hosts: [...new Set(denied.map((u) => (URL.canParse(u) ? new URL(u).host : u)))] },
      });
    }
    throw err;
  }
}

/**
 * Streams a blob, verified byte by byte against `desc.digest` and `desc.size` (the stream errors with
 * ERR_DIGEST_MISMATCH / ERR_SIZE_MISMATCH instead of ending), resuming with Range after connection drops. With
 * `offset`, only the size of the rest is checked (the caller verifies the digest over the prefix it holds).
 *
 * @throws ERR_INVALID_ARGUMENT for a bad descriptor or offset; RegistryErrors (ERR_REGISTRY_NOT_FOUND…);
 *   ERR_FOREIGN_LAYER_DENIED; ERR_SIZE_MISMATCH when Content-Length contradicts the descriptor.
 */
export async function fetchBlob(ctx: ClientContext, repo: Repository, desc: Descriptor, options: FetchBlobOptions = {}): Promise<Readable> {
  const { signal, offset = 0, verify = 'digest' } = options;
  const { algorithm, hex } = splitDigest(desc.digest);
  if (!Number.isSafeInteger(desc.size) || desc.size < 0)
    throw newError('ERR_INVALID_ARGUMENT', `descriptor.size must be a non-negative integer, got ${String(desc.size)}`);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > desc.size)
    throw newError('ERR_INVALID_ARGUMENT', `options.offset must be an integer in [0, ${desc.size}]`);
  signal?.throwIfAborted();
  const { res, skip, open } = await openFirst(ctx, repo, desc, offset, signal);
  const repository = repoName(repo);
  let complete = offset;
  const onChunk = (bytes: number): void => {
    complete += bytes;
    ctx.progress({ direction: 'fetch', repository, descriptor: desc, complete, total: desc.size });
  };
  const chunks = resumingChunks(ctx, desc, open, res, skip, offset, onChunk, signal);
  const source = Readable.from(chunks, { objectMode: false, highWaterMark: BLOB_CHUNK_SIZE });
  const verifier =
    offset === 0 && verify === 'digest'
      ? new DigestVerifier({ algorithm, hex, size: desc.size }, { highWaterMark: BLOB_CHUNK_SIZE })
      : new SizeOnly(desc.size - offset);
  pipeline(source, verifier, (err) => {
    ctx.progress({ direction: 'fetch', repository, descriptor: desc, complete, total: desc.size, status: err ? 'failed' : 'done' });
  });
  return verifier;
}

/** Checks only the byte count (for a download resumed by the caller at an offset). */
class SizeOnly extends Transform {
  #left: number;
  constructor(size: number) {
    super({ highWaterMark: BLOB_CHUNK_SIZE });
    this.#left = size;
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.#left -= chunk.length;
    if (this.#left < 0) cb(newError('ERR_SIZE_MISMATCH', 'more bytes than the descriptor size'));
    else cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    cb(this.#left === 0 ? null : newError('ERR_SIZE_MISMATCH', `${this.#left} bytes missing at the end of the blob`));
  }
}
