import { newError } from '../errors/index.js';
import { DEFAULT_DOMAIN, parseNormalizedReference, type Reference, withDefaultTag } from '../oci/reference.js';
import type { HttpTransport } from './http.js';
import type { Endpoint } from './request.js';

/** Docker Hub's API host: `docker.io` references are served from here. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

/** A repository in a registry, as the client addresses it. */
export interface Repository {
  /** The reference's domain, e.g. `docker.io` or `127.0.0.1:5000`. */
  domain: string;
  /** The repository path, e.g. `library/busybox`. */
  path: string;
}

/**
 * Parses `ref` the way docker reads user input (`busybox` → `docker.io/library/busybox:latest`). With
 * `defaultTag: false` a name without tag or digest stays so (repository-level calls).
 * @throws ERR_INVALID_REFERENCE.
 */
export function parseRef(ref: string | Reference, options: { defaultTag?: boolean } = {}): Reference {
  const parsed = typeof ref === 'string' ? parseNormalizedReference(ref) : ref;
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.path !== 'string') {
    throw newError('ERR_INVALID_ARGUMENT', 'reference must be a string or a parsed Reference');
  }
  return options.defaultTag === false ? parsed : withDefaultTag(parsed);
}

/** The `pull` (and `push`) scope of a repository for the token spec. */
export function repositoryScope(path: string, push = false): string {
  return `repository:${path}:${push ? 'pull,push' : 'pull'}`;
}

/** Parsed mirror endpoints per registry domain. */
export type MirrorMap = ReadonlyMap<string, readonly { host: string; scheme: 'http' | 'https' | undefined }[]>;

/**
 * Validates the `mirrors` option: `{ "docker.io": ["https://mirror.example", "127.0.0.1:5001"] }`. An entry is a
 * host[:port] (scheme chosen like any registry's) or an http(s) URL without a path.
 * @throws ERR_INVALID_ARGUMENT naming the bad entry.
 */
export function parseMirrors(mirrors: Record<string, readonly string[]> | undefined): MirrorMap {
  const out = new Map<string, { host: string; scheme: 'http' | 'https' | undefined }[]>();
  if (mirrors === undefined) return out;
  if (typeof mirrors !== 'object' || mirrors === null) throw newError('ERR_INVALID_ARGUMENT', 'options.mirrors must be an object');
  for (const [domain, list] of Object.entries(mirrors)) {
    if (!Array.isArray(list)) throw newError('ERR_INVALID_ARGUMENT', `options.mirrors[${JSON.stringify(domain)}] must be an array`);
    out.set(
      domain === 'index.docker.io' ? DEFAULT_DOMAIN : domain,
      list.map((entry: unknown) => {
        if (typeof entry !== 'string' || entry === '')
          throw newError('ERR_INVALID_ARGUMENT', `options.mirrors[${JSON.stringify(domain)}] entries must be strings`);
        if (!entry.includes('://')) return { host: entry, scheme: undefined };
        let url: URL;
        try {
          url = new URL(entry);
        } catch (err) {
          throw newError('ERR_INVALID_ARGUMENT', `options.mirrors: invalid URL ${JSON.stringify(entry)}`, { cause: err });
        }
        if ((url.protocol !== 'http:' && url.protocol !== 'https:') || (url.pathname !== '/' && url.pathname !== '')) {
          throw newError('ERR_INVALID_ARGUMENT', `options.mirrors: ${JSON.stringify(entry)} must be http(s)://host[:port] without a path`);
        }
        return { host: url.host, scheme: url.protocol === 'http:' ? 'http' : 'https' };
      }),
    );
  }
  return out;
}

/** The endpoint of the registry itself for `domain`. */
export function upstreamEndpoint(domain: string, transport: HttpTransport): Endpoint {
  const host = domain === DEFAULT_DOMAIN ? DOCKER_HUB_API_HOST : domain;
  return { host, scheme: transport.scheme(host), authHost: domain, mirror: false };
}

/** Endpoints to pull `domain` from: its mirrors in order, then the registry itself. */
export function pullEndpoints(domain: string, mirrors: MirrorMap, transport: HttpTransport): Endpoint[] {
  const list: Endpoint[] = (mirrors.get(domain) ?? []).map((m) => ({
    host: m.host,
    scheme: m.scheme ?? transport.scheme(m.host),
    authHost: m.host,
    mirror: true,
  }));
  list.push(upstreamEndpoint(domain, transport));
  return list;
}

/** `/v2/<path>/<kind>/<reference>`, each part URL-safe by the reference grammar already. */
export function repoPath(repo: Repository, kind: 'manifests' | 'blobs' | 'tags/list' | 'blobs/uploads/' | 'referrers', reference = ''): string {
  return `/v2/${repo.path}/${kind}${reference === '' ? '' : `/${encodeURIComponent(reference).replace(/%3A/gi, ':')}`}`;
}
