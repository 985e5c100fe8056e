import { newError } from '../errors/index.js';
import type { Descriptor } from '../oci/descriptor.js';
import { type Digest, splitDigest } from '../oci/digest.js';
import { isIndexMediaType, isManifestMediaType, isSchema1MediaType, MANIFEST_ACCEPT } from '../oci/media-types.js';
import { MAX_MANIFEST_SIZE, type ParsedManifestOrIndex, parseManifestOrIndex } from '../oci/parse.js';
import { logger } from '../util/debug.js';
import { digestBuffer, type HashAlgorithm } from '../util/digest-stream.js';
import { type ClientContext, repoName } from './context.js';
import { pullEndpoints, type Repository, repoPath, repositoryScope } from './endpoints.js';
import { RegistryError } from './errors.js';
import { guardStall, type HttpResponse, header } from './http.js';
import type { Endpoint } from './request.js';

const log = logger('registry:fetch');

/** A manifest or index as fetched: the exact bytes, the descriptor they match, and the parsed document. */
export interface FetchedManifest {
  descriptor: Descriptor;
  bytes: Buffer;
  parsed: ParsedManifestOrIndex;
}

/** The `Accept` header for manifests, `first` (a descriptor's own type) leading when it is not already listed. */
export function manifestAccept(first?: string): string {
  const list: string[] = [...MANIFEST_ACCEPT];
  if (first !== undefined && !list.includes(first)) list.unshift(first);
  return list.join(', ');
}

/** The media type of a Content-Type header, parameters dropped; undefined when absent. */
export function contentMediaType(res: HttpResponse): string | undefined {
  const value = header(res, 'content-type');
  if (value === undefined) return undefined;
  const type = value.split(';')[0]!.trim().toLowerCase();
  return type === '' ? undefined : type;
}

/**
 * Refuses a manifest whose Content-Type and descriptor name two different manifest or index types: both are claims
 * about the same bytes, and the body can agree with only one (an index served as a manifest, a Docker type under an
 * OCI one). A generic Content-Type (`application/json`, `application/octet-stream`) claims nothing.
 * @throws ERR_MEDIA_TYPE_MISMATCH.
 */
export function checkServedMediaType(res: HttpResponse, expected: string): void {
  const served = contentMediaType(res);
  if (served === undefined || !(isManifestMediaType(served) || isIndexMediaType(served) || isSchema1MediaType(served))) return;
  if (served === expected.toLowerCase()) return;
  throw newError(
    'ERR_MEDIA_TYPE_MISMATCH',
    `manifest from ${res.url.host} is served as ${JSON.stringify(served)}, but its descriptor says ${JSON.stringify(expected)}`,
    {
      details: { served, expected },
    },
  );
}

/**
 * Reads a manifest body, refusing it before reading past `maxSize`: a Content-Length above the cap fails at once
 * (the body is not read), and a body that grows past it (chunked, or lying) is cut off at the cap.
 * @throws ERR_MANIFEST_TOO_LARGE; ERR_STALL_TIMEOUT.
 */
export async function readManifestBody(res: HttpResponse, stallMs: number, maxSize = MAX_MANIFEST_SIZE): Promise<Buffer> {
  const length = Number(header(res, 'content-length') ?? 'NaN');
  const tooLarge = (seen: number): Error =>
    newError('ERR_MANIFEST_TOO_LARGE', `manifest from ${res.url.host} is larger than ${maxSize} bytes (${seen}${Number.isFinite(length) ? '' : '+'})`, {
      details: { maxSize, size: seen },
    });
  if (Number.isFinite(length) && length > maxSize) {
    res.body.destroy();
    throw tooLarge(length);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of guardStall(res, stallMs)) {
    size += chunk.length;
    if (size > maxSize) {
      res.body.destroy();
      throw tooLarge(size);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/**
 * Checks manifest bytes against what the registry and the caller said: the `Docker-Content-Digest` header (when
 * sent), the digest asked for (when fetching by digest) and the descriptor's size. Returns the body's digest in
 * the algorithm of the expectation (sha256 by default).
 * @throws ERR_DIGEST_MISMATCH, ERR_SIZE_MISMATCH.
 */
export function verifyManifestBytes(res: HttpResponse, bytes: Buffer, expected?: { digest?: Digest; size?: number }): Digest {
  // One hash per algorithm, however many sources name a digest for these bytes.
  const hashes = new Map<HashAlgorithm, string>();
  const hexOf = (algorithm: HashAlgorithm): string => {
    let hex = hashes.get(algorithm);
    if (hex === undefined) hashes.set(algorithm, (hex = digestBuffer(bytes, algorithm).hex));
    return hex;
  };
  const check = (want: string, source: string): void => {
    const { algorithm, hex } = splitDigest(want);
    const got = hexOf(algorithm);
    if (got !== hex) {
      throw newError('ERR_DIGEST_MISMATCH', `manifest from ${res.url.host} has digest ${algorithm}:${got}, but ${source} says ${want}`, {
        details: { expectedDigest: want, actualDigest: `${algorithm}:${got}`, source },
      });
    }
  };
  const sent = header(res, 'docker-content-digest');
  if (sent !== undefined && sent !== '') check(sent.trim(), 'the Docker-Content-Digest header');
  if (expected?.digest !== undefined) check(expected.digest, 'the requested digest');
  if (expected?.size !== undefined && expected.size !== bytes.length) {
    throw newError('ERR_SIZE_MISMATCH', `manifest ${expected.digest ?? ''} from ${res.url.host}: ${bytes.length} bytes, expected ${expected.size}`, {
      details: { expectedSize: expected.size, actualSize: bytes.length },
    });
  }
  const algorithm = expected?.digest !== undefined ? splitDigest(expected.digest).algorithm : 'sha256';
  return `${algorithm}:${hexOf(algorithm)}` as Digest;
}

/**
 * Runs `attempt` on each pull endpoint (mirrors first); a mirror's failure moves on to the next endpoint, the
 * upstream's is thrown. Aborts are never swallowed.
 */
export async function withPullEndpoints<T>(
  ctx: ClientContext,
  repo: Repository,
  signal: AbortSignal | undefined,
  attempt: (endpoint: Endpoint) => Promise<T>,
): Promise<T> {
  const endpoints = pullEndpoints(repo.domain, ctx.mirrors, ctx.transport);
  for (const endpoint of endpoints) {
    try {
      return await attempt(endpoint);
    } catch (err) {
      signal?.throwIfAborted();
      if (!endpoint.mirror) throw err;
      log('mirror %s failed for %s, trying the next endpoint: %s', endpoint.host, repoName(repo), (err as Error).message);
    }
  }
  throw newError('ERR_INTERNAL', 'no endpoint to pull from');
}

/**
 * GETs a manifest or index by digest or tag, verifies it (size cap, Docker-Content-Digest, requested digest, size)
 * and parses it with the strict OCI parser. `expected` is the descriptor it was reached through, if any: the
 * registry's Content-Type, the descriptor's media type and the body's own `mediaType` must all agree.
 * @throws ERR_REGISTRY_NOT_FOUND and other RegistryErrors; ERR_MANIFEST_TOO_LARGE; ERR_DIGEST_MISMATCH;
 *   ERR_SIZE_MISMATCH; the parser's ERR_INVALID_MANIFEST, ERR_MEDIA_TYPE_MISMATCH, ERR_SCHEMA1_UNSUPPORTED.
 */
export async function fetchManifest(
  ctx: ClientContext,
  repo: Repository,
  reference: string,
  expected: Partial<Descriptor> | undefined,
  signal: AbortSignal | undefined,
): Promise<FetchedManifest> {
  const byDigest = reference.includes(':');
  const digest = (expected?.digest ?? (byDigest ? reference : undefined)) as Digest | undefined;
  return withPullEndpoints(ctx, repo, signal, async (endpoint) => {
    const res = await ctx.session.call({
      method: 'GET',
      endpoint,
      target: repoPath(repo, 'manifests', reference),
      headers: { Accept: manifestAccept(expected?.mediaType) },
      scopes: [repositoryScope(repo.path)],
      what: `fetch manifest ${repoName(repo)}${byDigest ? '@' : ':'}${reference}`,
      signal,
    });
    const bytes = await readManifestBody(res, ctx.stallTimeoutMs);
    const actual = verifyManifestBytes(res, bytes, { digest, size: expected?.size });
    if (expected?.mediaType !== undefined) checkServedMediaType(res, expected.mediaType);
    const mediaType = expected?.mediaType ?? contentMediaType(res);
    const parsed = parseManifestOrIndex(bytes, {
      expected: mediaType !== undefined && mediaType !== 'application/json' ? { mediaType, size: bytes.length } : undefined,
      strictMediaTypes: false,
    });
    const descriptor: Descriptor = { ...expected, mediaType: parsed.mediaType, digest: actual, size: bytes.length };
    return { descriptor, bytes, parsed };
  });
}

/** Whether `err` says the thing asked for is not there (so a fallback may be tried). */
export function isNotFound(err: unknown): boolean {
  return err instanceof RegistryError && err.code === 'ERR_REGISTRY_NOT_FOUND';
}
