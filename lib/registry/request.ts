import type { Readable } from 'node:stream';
import { newError } from '../errors/index.js';
import { sleep } from '../util/abort.js';
import { logger } from '../util/debug.js';
import { authorizationSecrets, errorFromResponse, RegistryError, readCapped, redactUrl } from './errors.js';
import { badLocation, discard, type HttpResponse, type HttpTransport, header } from './http.js';
import { isRetryableRequest, type ResolvedRetryPolicy, retryDelay } from './retry.js';
import type { RegistryAuth } from './types.js';

const log = logger('registry:request');

/** At most this many redirects per request (the Fetch standard allows 20; registries need one or two). */
export const MAX_REDIRECTS = 5;

/** Where requests for one registry go. */
export interface Endpoint {
  /** `host[:port]` connected to. */
  host: string;
  scheme: 'http' | 'https';
  /** The host name given to RegistryAuth: the reference's domain for the upstream, the mirror's host for a mirror. */
  authHost: string;
  /** Whether this endpoint is a pull-through mirror (tried before the upstream, for pulls only). */
  mirror: boolean;
}

/** One protocol-level request. */
export interface CallRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  endpoint: Endpoint;
  /** A path under the endpoint (`/v2/…`, query included), or an absolute URL (an upload Location). */
  target: string | URL;
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  /** Token scopes for RegistryAuth, e.g. `repository:library/busybox:pull`. */
  scopes: readonly string[];
  /** Statuses returned to the caller; any other becomes a RegistryError. Default: 2xx. */
  accept?: readonly number[];
  /** Follow 3xx redirects (GET and HEAD only). Default true for GET/HEAD. */
  followRedirects?: boolean;
  /** Words for error messages, e.g. `fetch manifest busybox:latest`. */
  what?: string;
  /** Send no credentials at all (a foreign layer's URL). Default false. */
  noAuth?: boolean;
  signal?: AbortSignal;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The URL of `target` on `endpoint`. */
export function endpointUrl(endpoint: Endpoint, target: string | URL): URL {
  if (target instanceof URL) return target;
  return new URL(`${endpoint.scheme}://${endpoint.host}${target}`);
}

/** The origin (scheme, host, port) credentials for `endpoint` belong to. */
export function endpointOrigin(endpoint: Endpoint): string {
  return new URL(`${endpoint.scheme}://${endpoint.host}`).origin;
}

/**
 * Refuses a move from https to plain http, whether a redirect or a Location the registry handed out (an upload
 * session): the body, and any URL-borne state, would cross the network in clear.
 * @throws ERR_INSECURE_REDIRECT.
 */
export function refuseDowngrade(from: URL, to: URL): void {
  if (from.protocol === 'https:' && to.protocol === 'http:') {
    throw newError('ERR_INSECURE_REDIRECT', `refusing to go from https to plain http (${redactUrl(from)} → ${redactUrl(to)})`, {
      details: { from: redactUrl(from), to: redactUrl(to) },
    });
  }
}

/**
 * Sends registry requests with the cross-cutting rules of the protocol: the Authorization header from RegistryAuth
 * (one challenge round on 401, never a loop) only to the endpoint's own origin, redirects followed by hand (at most
 * {@link MAX_REDIRECTS}), no https→http downgrade by a redirect or an upload Location, retries with backoff of
 * idempotent requests on temporary failures (honouring Retry-After), and error messages scrubbed of the
 * credentials the request carried.
 */
export class RegistrySession {
  constructor(
    readonly transport: HttpTransport,
    readonly auth: RegistryAuth | undefined,
    readonly retry: ResolvedRetryPolicy,
  ) {}

  /**
   * Sends `req` and returns the answer when its status is accepted; the caller must consume or discard its body.
   * @throws RegistryError for any other status (registry codes parsed from the capped body), for network errors
   *   after the retries, ERR_REDIRECT_LIMIT, ERR_REGISTRY_PROTOCOL for an unusable redirect, ERR_INSECURE_REDIRECT
   *   for a redirect or Location from https to http; `signal.reason` on abort.
   */
  async call(req: CallRequest): Promise<HttpResponse> {
    const replayable = req.body === undefined || Buffer.isBuffer(req.body);
    const retryable = isRetryableRequest(req.method, replayable);
    // Every Authorization value sent, so an error body that echoes one (in any encoding) is scrubbed of it.
    const sent = new Set<string>();
    for (let attempt = 1; ; attempt++) {
      let failure: RegistryError;
      try {
        const res = await this.#once(req, replayable, sent);
        if (req.accept ? req.accept.includes(res.status) : res.status >= 200 && res.status < 300) return res;
        const body = req.method === 'HEAD' ? undefined : await readCapped(res.body);
        if (req.method === 'HEAD') discard(res);
        const what = req.what === undefined ? undefined : `${req.what} (${req.method} ${redactUrl(res.url)})`;
        failure = errorFromResponse(res, body, what, secretsOf(sent));
      } catch (err) {
        req.signal?.throwIfAborted();
        if (!(err instanceof RegistryError)) throw err;
        failure = err;
      }
      if (!failure.temporary || !retryable || attempt >= this.retry.maxAttempts) throw failure;
      const delay = retryDelay(attempt, this.retry, failure.retryAfterMs);
      if (delay === undefined) throw failure;
      log('retry %d of %s %s in %d ms: %s', attempt, req.method, redactUrl(endpointUrl(req.endpoint, req.target)), delay, failure.message);
      await sleep(delay, req.signal);
    }
  }

  async #once(req: CallRequest, replayable: boolean, sent: Set<string>): Promise<HttpResponse> {
    const { endpoint, scopes, signal } = req;
    const first = endpointUrl(endpoint, req.target);
    // Credentials belong to the endpoint's origin, not to whatever URL the registry handed out (as containerd's
    // pusher compares an upload Location with the registry host): a Location elsewhere gets none.
    const home = endpointOrigin(endpoint);
    if (req.target instanceof URL) {
      if (first.protocol !== 'https:' && first.protocol !== 'http:') badLocation(first.href, new URL(home));
      // A foreign layer's URL (noAuth) was allowed by the caller, host by host; anything else came from the registry.
      if (req.noAuth !== true) refuseDowngrade(new URL(home), first);
    }
    const follow = req.followRedirects ?? (req.method === 'GET' || req.method === 'HEAD');
    let url = first;
    let method: string = req.method;
    const auth = req.noAuth === true ? undefined : this.auth;
    let authorization = auth ? await auth.authorization(endpoint.authHost, scopes, { signal }) : undefined;
    let challenged = false;
    const visited = new Set<string>();
    for (let hops = 0; ; ) {
      const sameOrigin = url.origin === home;
      const headers: Record<string, string> = { ...req.headers };
      // Credentials belong to the registry: blob storage on another origin gets none.
      if (authorization !== undefined && sameOrigin) {
        headers['Authorization'] = authorization;
        sent.add(authorization);
      }
      const res = await this.transport.send({ method, url, headers, body: req.body, signal });
      if (res.status === 401 && auth && sameOrigin && !challenged) {
        challenged = true;
        const body = method === 'HEAD' ? undefined : await readCapped(res.body);
        if (method === 'HEAD') discard(res);
        const fresh = await auth.challenge(endpoint.authHost, res.headers['www-authenticate'], scopes, { signal, sent: authorization });
        if (fresh === undefined || !replayable) throw errorFromResponse(res, body, req.what, secretsOf(sent));
        authorization = fresh;
        continue;
      }
      if (!follow || !REDIRECTS.has(res.status)) return res;
      const location = header(res, 'location');
      discard(res);
      if (location === undefined) throw newError('ERR_REGISTRY_PROTOCOL', `${method} ${redactUrl(url)}: HTTP ${res.status} without a Location`);
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        badLocation(location, url);
      }
      if (next.protocol !== 'https:' && next.protocol !== 'http:') badLocation(location, url);
      refuseDowngrade(url, next);
      visited.add(url.href);
      hops++;
      if (hops > MAX_REDIRECTS || visited.has(next.href)) {
        throw new RegistryError(
          'ERR_REDIRECT_LIMIT',
          `${req.method} ${redactUrl(first)}: ${visited.has(next.href) ? 'redirect loop' : `more than ${MAX_REDIRECTS} redirects`}`,
          {
            method: req.method,
            url: first,
            status: res.status,
            temporary: false,
          },
        );
      }
      if (res.status === 303) method = 'GET';
      url = next;
    }
  }
}

function secretsOf(sent: ReadonlySet<string>): string[] {
  return [...sent].flatMap(authorizationSecrets);
}
