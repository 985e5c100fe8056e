import { newError } from '../errors/index.js';
import type { Descriptor } from '../oci/descriptor.js';
import { type Digest, splitDigest } from '../oci/digest.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import { parseIndex } from '../oci/parse.js';
import { logger } from '../util/debug.js';
import { type ClientContext, repoName } from './context.js';
import { type Repository, repoPath, repositoryScope } from './endpoints.js';
import { fetchManifest, isNotFound, withPullEndpoints } from './fetch-manifest.js';
import { guardStall, header } from './http.js';
import { parseLinkNext } from './pagination.js';

const log = logger('registry:referrers');
const MAX_INDEX = 4 * 1024 * 1024;

/** Options of {@link RegistryClient.referrers}. */
export interface ReferrersOptions {
  signal?: AbortSignal;
  /** Only referrers with this artifact type (filtered here too when the registry did not). */
  artifactType?: string;
}

/** The tag the OCI 1.1 fallback ("referrers tag schema") stores the referrers index under: `<alg>-<hex>`. */
export function referrersTag(digest: string): string {
  const { algorithm, hex } = splitDigest(digest);
  return `${algorithm}-${hex}`.slice(0, 128);
}

/**
 * The manifests that refer to `subject` (signatures, SBOMs, attestations): the OCI 1.1 referrers API
 * (`GET /v2/<name>/referrers/<digest>`, following `Link` pages), or, when the registry answers 404 there, the
 * referrers index under the tag-schema tag `<alg>-<hex>`; none when that tag does not exist either.
 * @throws RegistryErrors other than "not found"; the parser's errors for a malformed index.
 */
export async function listReferrers(ctx: ClientContext, repo: Repository, subject: Digest, options: ReferrersOptions = {}): Promise<Descriptor[]> {
  const { signal, artifactType } = options;
  splitDigest(subject);
  const filter = (list: Descriptor[]): Descriptor[] => (artifactType === undefined ? list : list.filter((d) => d.artifactType === artifactType));
  try {
    return await withPullEndpoints(ctx, repo, signal, async (endpoint) => {
      const out: Descriptor[] = [];
      let target: string | URL =
        `${repoPath(repo, 'referrers', subject)}${artifactType === undefined ? '' : `?artifactType=${encodeURIComponent(artifactType)}`}`;
      for (let page = 0; page < 1000; page++) {
        const res = await ctx.session.call({
          method: 'GET',
          endpoint,
          target,
          headers: { Accept: MEDIA_TYPES.OCI_INDEX },
          scopes: [repositoryScope(repo.path)],
          what: `list referrers of ${repoName(repo)}@${subject}`,
          signal,
        });
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of guardStall(res, ctx.stallTimeoutMs)) {
          size += chunk.length;
          if (size > MAX_INDEX) {
            res.body.destroy();
            throw newError('ERR_MANIFEST_TOO_LARGE', `referrers index from ${res.url.host} is larger than ${MAX_INDEX} bytes`);
          }
          chunks.push(chunk);
        }
        const index = parseIndex(Buffer.concat(chunks, size), { expected: { mediaType: MEDIA_TYPES.OCI_INDEX } });
        out.push(...index.manifests);
        const next = parseLinkNext(res.headers['link']);
        if (next === undefined) return header(res, 'oci-filters-applied')?.includes('artifactType') ? out : filter(out);
        target = new URL(next, res.url);
      }
      throw newError('ERR_REGISTRY_PROTOCOL', 'more than 1000 pages of referrers');
    });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  log('no referrers API on %s, trying tag %s', repo.domain, referrersTag(subject));
  try {
    const fetched = await fetchManifest(ctx, repo, referrersTag(subject), undefined, signal);
    if (fetched.parsed.kind !== 'index') throw newError('ERR_REGISTRY_PROTOCOL', `tag ${referrersTag(subject)} is not an index`);
    return filter(fetched.parsed.index.manifests);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}
