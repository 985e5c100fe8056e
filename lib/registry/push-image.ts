import type { Readable } from 'node:stream';
import { newError } from '../errors/index.js';
import type { Descriptor } from '../oci/descriptor.js';
import { type Digest, splitDigest } from '../oci/digest.js';
import { isIndexMediaType, isManifestMediaType, isNonDistributableLayer } from '../oci/media-types.js';
import { MAX_MANIFEST_SIZE, parseManifestOrIndex } from '../oci/parse.js';
import { logger, shortId } from '../util/debug.js';
import { digestBuffer } from '../util/digest-stream.js';
import { forEachLimit } from '../util/limiter.js';
import { type ClientContext, repoName } from './context.js';
import { type Repository, repoPath, repositoryScope, upstreamEndpoint } from './endpoints.js';
import { discard, header } from './http.js';
import type { ContentSource } from './types.js';
import { type PushBlobResult, pushBlob } from './upload.js';

const log = logger('registry:push');

/** Whether `mediaType` is stored under `/manifests/` (manifests and indexes) rather than `/blobs/`. */
export function isManifestLike(mediaType: string): boolean {
  return isManifestMediaType(mediaType) || isIndexMediaType(mediaType);
}

/**
 * PUTs a manifest or index under `reference` (a tag or its digest) with `mediaType` as Content-Type, and checks the
 * registry's Docker-Content-Digest against the bytes. Returns the descriptor of what was stored.
 * @throws ERR_MANIFEST_TOO_LARGE above 4 MiB; ERR_DIGEST_MISMATCH when the registry reports another digest (or
 *   `reference` is a digest the bytes do not have); RegistryErrors (ERR_REGISTRY_INVALID for MANIFEST_INVALID,
 *   MANIFEST_BLOB_UNKNOWN…).
 */
export async function pushManifest(
  ctx: ClientContext,
  repo: Repository,
  reference: string,
  bytes: Uint8Array,
  mediaType: string,
  signal?: AbortSignal,
): Promise<Descriptor> {
  if (bytes.byteLength > MAX_MANIFEST_SIZE)
    throw newError('ERR_MANIFEST_TOO_LARGE', `manifest of ${bytes.byteLength} bytes is larger than ${MAX_MANIFEST_SIZE}`);
  const algorithm = reference.includes(':') ? splitDigest(reference).algorithm : 'sha256';
  const digest = `${algorithm}:${digestBuffer(bytes, algorithm).hex}` as Digest;
  if (reference.includes(':') && reference !== digest) {
    throw newError('ERR_DIGEST_MISMATCH', `manifest bytes have digest ${digest}, not ${reference}`, {
      details: { expectedDigest: reference, actualDigest: digest },
    });
  }
  const res = await ctx.session.call({
    method: 'PUT',
    endpoint: upstreamEndpoint(repo.domain, ctx.transport),
    target: repoPath(repo, 'manifests', reference),
    headers: { 'Content-Type': mediaType },
    body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    scopes: [repositoryScope(repo.path, true)],
    accept: [200, 201, 202],
    what: `push manifest ${repoName(repo)}${reference.includes(':') ? '@' : ':'}${reference}`,
    signal,
  });
  discard(res);
  const stored = header(res, 'docker-content-digest')?.trim();
  if (stored !== undefined && stored !== '' && stored !== digest && splitDigest(stored).algorithm === algorithm) {
    throw newError('ERR_DIGEST_MISMATCH', `registry stored manifest as ${stored}, but its bytes have digest ${digest}`, {
      details: { expectedDigest: digest, actualDigest: stored },
    });
  }
  ctx.progress({
    direction: 'push',
    repository: repoName(repo),
    descriptor: { mediaType, digest, size: bytes.byteLength },
    complete: bytes.byteLength,
    total: bytes.byteLength,
    status: 'done',
  });
  return { mediaType, digest, size: bytes.byteLength };
}

/** Reads a whole (small) stream, refusing to hold more than `cap` bytes. */
export async function readAll(stream: Readable, cap: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > cap) {
      stream.destroy();
      throw newError('ERR_MANIFEST_TOO_LARGE', `${what} is larger than ${cap} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** Options of {@link RegistryClient.pushImage}. */
export interface PushImageOptions {
  signal?: AbortSignal;
  /** Blobs uploaded at once. Default 4. */
  concurrency?: number;
  /** Chunked uploads with this chunk size; default monolithic. */
  chunkSize?: number;
  /** Try cross-repository mounts from this repository path first. */
  mountFrom?: string;
}

/** What a whole-image push did, per blob digest. */
export interface PushImageResult {
  /** The root as stored (digest unchanged). */
  descriptor: Descriptor;
  /** How each blob got there. */
  blobs: Map<string, PushBlobResult>;
}

/**
 * Pushes a whole image or index from `source` to `repo`, children first: for an index its manifests, for a manifest
 * its config and layers (skipping blobs that exist, and non-distributable layers), then the manifest by digest; the
 * root last, under `tag` when given (else by digest). Manifests read from `source` are verified and parsed.
 * @throws as {@link pushBlob} and {@link pushManifest}; ERR_DIGEST_MISMATCH when `source` holds wrong bytes; the
 *   parser's errors for a broken manifest.
 */
export async function pushImage(
  ctx: ClientContext,
  repo: Repository,
  tag: string | undefined,
  root: Descriptor,
  source: ContentSource,
  options: PushImageOptions = {},
): Promise<PushImageResult> {
  const { signal, concurrency = 4, chunkSize, mountFrom } = options;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw newError('ERR_INVALID_ARGUMENT', 'options.concurrency must be a positive integer');
  const blobs = new Map<string, PushBlobResult>();
  const inflight = new Map<string, Promise<void>>();

  const pushOneBlob = (desc: Descriptor): Promise<void> => {
    let pending = inflight.get(desc.digest);
    if (!pending) {
      pending = pushBlob(ctx, repo, desc, () => source.read(desc, { signal }), { signal, chunkSize, mountFrom }).then((r) => void blobs.set(desc.digest, r));
      inflight.set(desc.digest, pending);
    }
    return pending;
  };

  const pushNode = async (desc: Descriptor, isRoot: boolean): Promise<void> => {
    signal?.throwIfAborted();
    if (!isManifestLike(desc.mediaType)) return pushOneBlob(desc);
    const bytes = await readAll(await source.read(desc, { signal }), MAX_MANIFEST_SIZE, `manifest ${desc.digest}`);
    const { algorithm, hex } = splitDigest(desc.digest);
    if (digestBuffer(bytes, algorithm).hex !== hex) throw newError('ERR_DIGEST_MISMATCH', `local content for ${desc.digest} has another digest`);
    const parsed = parseManifestOrIndex(bytes, { expected: { mediaType: desc.mediaType, size: desc.size }, strictMediaTypes: false });
    if (parsed.kind === 'index') {
      await forEachLimit(parsed.index.manifests, concurrency, (child) => pushNode(child, false));
    } else {
      const children = [parsed.manifest.config, ...parsed.manifest.layers].filter((d) => !isNonDistributableLayer(d.mediaType));
      await forEachLimit(children, concurrency, pushOneBlob);
    }
    const reference = isRoot && tag !== undefined ? tag : desc.digest;
    await pushManifest(ctx, repo, reference, bytes, desc.mediaType, signal);
    log('pushed %s %s to %s as %s', parsed.kind, shortId(desc.digest), repoName(repo), reference);
  };

  await pushNode(root, true);
  return { descriptor: root, blobs };
}
