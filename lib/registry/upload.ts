import { pipeline, Readable, Transform } from 'node:stream';
import { newError } from '../errors/index.js';
import type { Descriptor } from '../oci/descriptor.js';
import { splitDigest } from '../oci/digest.js';
import { logger, shortId } from '../util/debug.js';
import { DigestVerifier, digestBuffer } from '../util/digest-stream.js';
import { type ClientContext, repoName } from './context.js';
import { type Repository, repoPath, repositoryScope, upstreamEndpoint } from './endpoints.js';
import { isNotFound } from './fetch-manifest.js';
import { badLocation, discard, type HttpResponse, header } from './http.js';
import type { Endpoint } from './request.js';
import type { PushContent } from './types.js';

const log = logger('registry:upload');

/** Options of {@link RegistryClient.pushBlob}. */
export interface PushBlobOptions {
  signal?: AbortSignal;
  /** Try a cross-repository mount from this repository path (same registry) first. */
  mountFrom?: string;
  /**
   * Upload in PATCH chunks of this many bytes instead of one PUT. Default: monolithic (one PUT with the whole
   * body), which is what most registries handle best.
   */
  chunkSize?: number;
  /** Skip the HEAD that checks whether the blob exists. Default false. */
  skipExistsCheck?: boolean;
}

/** How a pushed blob got into the repository. */
export type PushBlobResult = 'exists' | 'mounted' | 'uploaded';

/** Whether the blob is in the repository (`HEAD /v2/<name>/blobs/<digest>`). */
export async function blobExists(ctx: ClientContext, repo: Repository, desc: Pick<Descriptor, 'digest'>, signal?: AbortSignal, push = false): Promise<boolean> {
  try {
    const res = await ctx.session.call({
      method: 'HEAD',
      endpoint: upstreamEndpoint(repo.domain, ctx.transport),
      target: repoPath(repo, 'blobs', desc.digest),
      scopes: [repositoryScope(repo.path, push)],
      what: `check blob ${repoName(repo)}@${desc.digest}`,
      signal,
    });
    discard(res);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

function locationOf(res: HttpResponse): URL {
  const value = header(res, 'location');
  if (value === undefined) throw newError('ERR_REGISTRY_PROTOCOL', `${res.method} ${res.url.host}: HTTP ${res.status} without a Location header`);
  try {
    return new URL(value, res.url);
  } catch {
    return badLocation(value, res.url);
  }
}

/**
 * Starts an upload session, or mounts the blob from `mountFrom` (`POST …/blobs/uploads/?mount=&from=`): returns
 * `'mounted'` on 201, else the session URL (a registry that cannot mount answers 202 with a fresh session).
 */
async function startUpload(
  ctx: ClientContext,
  endpoint: Endpoint,
  repo: Repository,
  desc: Descriptor,
  mountFrom: string | undefined,
  signal?: AbortSignal,
): Promise<'mounted' | URL> {
  const query = mountFrom === undefined ? '' : `?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(mountFrom)}`;
  const scopes = [repositoryScope(repo.path, true), ...(mountFrom === undefined ? [] : [repositoryScope(mountFrom)])];
  const res = await ctx.session.call({
    method: 'POST',
    endpoint,
    target: `${repoPath(repo, 'blobs/uploads/')}${query}`,
    headers: { 'Content-Length': '0' },
    body: Buffer.alloc(0),
    scopes,
    accept: [201, 202],
    what: `start upload of ${desc.digest} to ${repoName(repo)}`,
    signal,
  });
  discard(res);
  if (res.status === 201 && mountFrom !== undefined) return 'mounted';
  if (res.status === 201) throw newError('ERR_REGISTRY_PROTOCOL', `POST upload to ${repoName(repo)} answered 201 without a mount`);
  return locationOf(res);
}

function withDigest(location: URL, digest: string): URL {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url;
}

async function openContent(content: PushContent): Promise<Readable> {
  if (content instanceof Uint8Array) return Readable.from([Buffer.from(content.buffer, content.byteOffset, content.byteLength)]);
  if (typeof content === 'function') return content();
  return content;
}

/** Reads `stream` in pieces of exactly `size` bytes (the last may be shorter). */
async function* pieces(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let held = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let rest = chunk;
    while (held + rest.length >= size) {
      const take = size - held;
      parts.push(rest.subarray(0, take));
      yield Buffer.concat(parts, size);
      parts = [];
      held = 0;
      rest = rest.subarray(take);
    }
    if (rest.length > 0) {
      parts.push(rest);
      held += rest.length;
    }
  }
  if (held > 0) yield Buffer.concat(parts, held);
}

/**
 * Pushes one blob: HEAD (skip when it exists), optional cross-repository mount, then a monolithic upload
 * (POST, PUT `?digest=` with the body) or a chunked one (POST, PATCH with Content-Range per chunk following each
 * Location, PUT `?digest=`). The bytes are verified against `desc` as they are sent; a registry that stored
 * something else would fail the PUT.
 *
 * @throws ERR_DIGEST_MISMATCH / ERR_SIZE_MISMATCH when the content is not what `desc` says; RegistryErrors;
 *   ERR_REGISTRY_PROTOCOL for a missing Location or an unexpected answer; ERR_INSECURE_REDIRECT for a Location that
 *   moves an https upload to plain http. A Location on another origin is followed without the credentials.
 */
export async function pushBlob(
  ctx: ClientContext,
  repo: Repository,
  desc: Descriptor,
  content: PushContent,
  options: PushBlobOptions = {},
): Promise<PushBlobResult> {
  const { signal, mountFrom, chunkSize, skipExistsCheck = false } = options;
  const { algorithm, hex } = splitDigest(desc.digest);
  if (chunkSize !== undefined && (!Number.isSafeInteger(chunkSize) || chunkSize <= 0))
    throw newError('ERR_INVALID_ARGUMENT', 'options.chunkSize must be a positive integer');
  const repository = repoName(repo);
  const report = (complete: number, status?: 'done' | 'skipped' | 'mounted'): void =>
    ctx.progress({ direction: 'push', repository, descriptor: desc, complete, total: desc.size, ...(status ? { status } : {}) });
  if (!skipExistsCheck && (await blobExists(ctx, repo, desc, signal, true))) {
    log('blob %s already in %s', shortId(desc.digest), repository);
    report(desc.size, 'skipped');
    return 'exists';
  }
  const endpoint = upstreamEndpoint(repo.domain, ctx.transport);
  const started = await startUpload(ctx, endpoint, repo, desc, mountFrom, signal);
  if (started === 'mounted') {
    log('blob %s mounted into %s from %s', shortId(desc.digest), repository, mountFrom);
    report(desc.size, 'mounted');
    return 'mounted';
  }
  // Bytes in memory are checked before the upload starts; streams are checked as they flow.
  if (content instanceof Uint8Array) {
    const actual = digestBuffer(content, algorithm);
    if (actual.hex !== hex || actual.size !== desc.size) {
      throw newError('ERR_DIGEST_MISMATCH', `content to push as ${desc.digest} is ${algorithm}:${actual.hex} (${actual.size} bytes)`, {
        details: { expectedDigest: desc.digest, actualDigest: `${algorithm}:${actual.hex}`, expectedSize: desc.size, actualSize: actual.size },
      });
    }
  }
  const verifier = new DigestVerifier({ algorithm, hex, size: desc.size }, { highWaterMark: 1024 * 1024 });
  let sent = 0;
  let contentError: unknown;
  const counter = new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      report(sent);
      callback(null, chunk);
    },
  });
  // The content's own failure (a digest or size mismatch, a read error) is what the caller must see, not the
  // aborted request it causes.
  pipeline(await openContent(content), verifier, counter, (err) => {
    if (err) contentError ??= err;
  });
  const scopes = [repositoryScope(repo.path, true)];
  let location = started;
  const put = async (url: URL, body: Buffer | Readable, length: number): Promise<HttpResponse> =>
    ctx.session.call({
      method: 'PUT',
      endpoint,
      target: url,
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(length) },
      body,
      scopes,
      accept: [201],
      what: `finish upload of ${desc.digest} to ${repository}`,
      signal,
    });
  try {
    if (chunkSize === undefined) {
      discard(await put(withDigest(location, desc.digest), counter, desc.size));
    } else {
      let offset = 0;
      for await (const piece of pieces(counter, chunkSize)) {
        const res = await ctx.session.call({
          method: 'PATCH',
          endpoint,
          target: location,
          headers: {
            'Content-Type': 'application/octet-stream',
            'Content-Range': `${offset}-${offset + piece.length - 1}`,
            'Content-Length': String(piece.length),
          },
          body: piece,
          scopes,
          accept: [202],
          what: `upload chunk of ${desc.digest} to ${repository}`,
          signal,
        });
        discard(res);
        location = locationOf(res);
        offset += piece.length;
      }
      discard(await put(withDigest(location, desc.digest), Buffer.alloc(0), 0));
    }
  } catch (err) {
    signal?.throwIfAborted();
    throw contentError ?? err;
  }
  if (contentError) throw contentError;
  report(desc.size, 'done');
  return 'uploaded';
}
