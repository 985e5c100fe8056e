import { newError } from '../errors/index.js';
import type { Descriptor } from '../oci/descriptor.js';
import { type Digest, isDigest } from '../oci/digest.js';
import { isIndexMediaType, isManifestMediaType } from '../oci/media-types.js';
import type { Reference } from '../oci/reference.js';
import { logger } from '../util/debug.js';
import type { ClientContext } from './context.js';
import { repoPath, repositoryScope } from './endpoints.js';
import { contentMediaType, fetchManifest, manifestAccept, withPullEndpoints } from './fetch-manifest.js';
import { discard, header } from './http.js';
import type { Resolved } from './types.js';

const log = logger('registry:resolve');

/**
 * Resolves a reference to the descriptor of its manifest or index: `HEAD` first (no body moves), and a `GET`
 * when the HEAD answer lacks what a descriptor needs (digest, a manifest media type, a length) or the HEAD itself
 * fails for a reason other than "not found". A body that is read is always checked against Docker-Content-Digest;
 * a reference with a digest must resolve to exactly that digest.
 *
 * @throws ERR_REGISTRY_NOT_FOUND when the tag or digest does not exist; ERR_DIGEST_MISMATCH when the registry
 *   answers with another digest than the reference's; other RegistryErrors; the manifest errors of fetchManifest.
 */
export async function resolveReference(ctx: ClientContext, ref: Reference, signal?: AbortSignal): Promise<Resolved> {
  const repo = { domain: ref.domain, path: ref.path };
  const reference = ref.digest ?? ref.tag;
  if (reference === undefined) throw newError('ERR_INVALID_ARGUMENT', `reference ${String(ref)} has neither tag nor digest`);
  const name = ref.toString();
  const headed = await withPullEndpoints(ctx, repo, signal, async (endpoint) => {
    const res = await ctx.session.call({
      method: 'HEAD',
      endpoint,
      target: repoPath(repo, 'manifests', reference),
      headers: { Accept: manifestAccept() },
      scopes: [repositoryScope(repo.path)],
      what: `resolve ${name}`,
      accept: [200, 400, 405, 406, 500, 501, 502, 503, 504],
      signal,
    });
    discard(res);
    if (res.status !== 200) return undefined;
    const digest = header(res, 'docker-content-digest')?.trim();
    const mediaType = contentMediaType(res);
    const size = Number(header(res, 'content-length') ?? 'NaN');
    if (digest === undefined || !isDigest(digest) || mediaType === undefined || !Number.isSafeInteger(size) || size < 0) return undefined;
    if (!isManifestMediaType(mediaType) && !isIndexMediaType(mediaType)) return undefined;
    if (ref.digest !== undefined && digest !== ref.digest) {
      throw newError('ERR_DIGEST_MISMATCH', `${name}: the registry answered with digest ${digest}`, {
        details: { expectedDigest: ref.digest, actualDigest: digest },
      });
    }
    const descriptor: Descriptor = { mediaType, digest: digest as Digest, size };
    return descriptor;
  }).catch((err: unknown) => {
    // A HEAD that fails for a reason a GET could avoid is retried as a GET; "not found" and aborts are final.
    signal?.throwIfAborted();
    const code = (err as { code?: string }).code;
    if (code === 'ERR_REGISTRY_NOT_FOUND' || code === 'ERR_DIGEST_MISMATCH' || code === 'ERR_REGISTRY_UNAUTHORIZED' || code === 'ERR_REGISTRY_DENIED')
      throw err;
    log('HEAD %s failed (%s), falling back to GET', name, (err as Error).message);
    return undefined;
  });
  if (headed) return { name, descriptor: headed };
  const fetched = await fetchManifest(ctx, repo, reference, ref.digest === undefined ? undefined : { digest: ref.digest }, signal);
  const { digest, size, mediaType } = fetched.descriptor;
  return { name, descriptor: { mediaType, digest, size } };
}
