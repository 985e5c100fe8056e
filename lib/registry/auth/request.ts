import type { AxiosInstance } from 'axios';
import { isAbortError, newError } from '../../errors/index.js';
import { redact } from '../../util/debug.js';

/** One HTTP request the auth flow makes: a token fetch, or the `GET /v2/` of a login check. */
export interface AuthHttpRequest {
  method: 'GET' | 'POST';
  /** Header names as sent; `Authorization` may be among them and must never be logged. */
  headers: Record<string, string>;
  /** A form body (`application/x-www-form-urlencoded`) for the OAuth2 POST. */
  body?: string;
  /** Rejects the request with `signal.reason` on abort. */
  signal?: AbortSignal;
}

/** What {@link TokenRequestFunction} answers: any status (it does not throw on 4xx/5xx), headers lower-cased. */
export interface AuthHttpResponse {
  status: number;
  /** The body: parsed JSON, a string or a Buffer; the token flow parses strings and Buffers itself. */
  data: unknown;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The transport of the auth flow, injectable so the RegistryClient's own http layer (agents, TLS, proxies) can be
 * used. Must resolve for every HTTP status, 3xx included (it must not follow redirects: the auth flow follows them
 * itself, hop by hop, see `requestFollowing`), reject with `signal.reason` on abort and with an Error that
 * holds no credential otherwise.
 */
export type TokenRequestFunction = (url: string, request: AuthHttpRequest) => Promise<AuthHttpResponse>;

/** Options for {@link axiosTokenRequest}. */
export interface AxiosTokenRequestOptions {
  /** Whole-request timeout in ms (ERR_DEADLINE_EXCEEDED past it). Default 30000. */
  timeoutMs?: number;
  /** Largest body accepted. Default 1 MiB (a token response is a few KiB). */
  maxBodyBytes?: number;
}

/**
 * The default {@link TokenRequestFunction}: axios (the given instance, or a new one) with a timeout, a body cap,
 * no redirects followed (axios would re-send a POST's body, with a password or refresh token, to wherever a 307
 * points), and errors rebuilt without the request config (an AxiosError keeps the headers, with the Authorization
 * value, and the form body).
 */
export function axiosTokenRequest(instance?: AxiosInstance, options: AxiosTokenRequestOptions = {}): TokenRequestFunction {
  const { timeoutMs = 30_000, maxBodyBytes = 1 << 20 } = options;
  // Loaded on the first token request, not with the client: an anonymous pull never makes one.
  let client: Promise<AxiosInstance> | undefined = instance === undefined ? undefined : Promise.resolve(instance);
  return async (url, req) => {
    try {
      client ??= import('axios').then(({ default: axios }) => axios.create());
      const res = await (await client).request({
        url,
        method: req.method,
        headers: req.headers,
        data: req.body,
        signal: req.signal,
        timeout: timeoutMs,
        // ETIMEDOUT (not ECONNABORTED) for the timeout, so it is told apart from other aborts.
        transitional: { clarifyTimeoutError: true },
        maxRedirects: 0,
        maxContentLength: maxBodyBytes,
        responseType: 'text',
        // The body is parsed by the caller, which knows what a malformed one means.
        transformResponse: (data: unknown) => data,
        validateStatus: () => true,
      });
      const headers: Record<string, string | string[] | undefined> = {};
      for (const [name, value] of Object.entries(res.headers as Record<string, unknown>)) {
        if (typeof value === 'string' || Array.isArray(value)) headers[name.toLowerCase()] = value as string | string[];
        else if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value);
      }
      return { status: res.status, data: res.data, headers };
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason;
      if (isAbortError(err)) throw err;
      const e = err as { message?: string; code?: string };
      if (e.code === 'ETIMEDOUT') {
        throw newError('ERR_DEADLINE_EXCEEDED', `${req.method} ${stripQuery(url)}: no answer within ${timeoutMs} ms`, {
          details: { transport: 'http', timeoutMs, method: req.method, url: stripQuery(url) },
        });
      }
      const clean = new Error(redact(`${req.method} ${stripQuery(url)}: ${e.message ?? String(err)}`));
      if (e.code) (clean as Error & { code?: string }).code = e.code;
      throw clean;
    }
  };
}

/** The URL without its query string and userinfo, for messages. */
export function stripQuery(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}

/** Redirects followed for one auth request. */
export const MAX_AUTH_REDIRECTS = 3;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Options of `requestFollowing`. */
export interface RequestFollowingOptions {
  /** Refuses a redirect target by throwing (the realm policy: https, or an allowed plain-HTTP host). Default: none. */
  allowUrl?: (url: URL) => void;
  /** Words for messages, e.g. `token server for ghcr.io`. */
  what: string;
}

/**
 * Sends `req` to `url` through `request` and follows redirects by hand, at most {@link MAX_AUTH_REDIRECTS}, checking
 * every hop: http(s) without userinfo, never from https to http, and `allowUrl`. Credentials stay with the first
 * URL's origin: a credentialed request (an `Authorization` header, or a body, which holds a password or refresh
 * token) is never sent on to another origin, and a body only by a 307 or 308 (which keep the method); an
 * anonymous GET may follow anywhere the policy allows. A 3xx without a Location is returned as it is.
 *
 * @throws ERR_REGISTRY_AUTH_FAILED for a hop refused as above or too many of them; ERR_INSECURE_REDIRECT for a hop
 *   from https to http; whatever `allowUrl` and `request` throw.
 */
export async function requestFollowing(
  request: TokenRequestFunction,
  url: URL,
  req: AuthHttpRequest,
  options: RequestFollowingOptions,
): Promise<AuthHttpResponse> {
  const { allowUrl, what } = options;
  const credentialed = req.body !== undefined || Object.keys(req.headers).some((h) => h.toLowerCase() === 'authorization');
  let current = url;
  for (let hops = 0; ; hops++) {
    const res = await request(current.href, req);
    if (!REDIRECTS.has(res.status)) return res;
    const raw = res.headers['location'];
    const location = Array.isArray(raw) ? raw[0] : raw;
    if (location === undefined) return res;
    const refuse = (why: string): never => {
      throw newError('ERR_REGISTRY_AUTH_FAILED', `${what}: not following a redirect (HTTP ${res.status}) from ${stripQuery(current.href)}: ${why}`, {
        details: { status: res.status, from: stripQuery(current.href) },
      });
    };
    if (hops >= MAX_AUTH_REDIRECTS) refuse(`more than ${MAX_AUTH_REDIRECTS} redirects`);
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      return refuse('the Location is not a URL');
    }
    if (next.protocol !== 'https:' && next.protocol !== 'http:') refuse('the Location is not http(s)');
    if (next.username !== '' || next.password !== '') refuse('the Location carries userinfo');
    if (current.protocol === 'https:' && next.protocol === 'http:') {
      throw newError('ERR_INSECURE_REDIRECT', `${what}: refusing a redirect from https to plain http (${stripQuery(next.href)})`, {
        details: { from: stripQuery(current.href), to: stripQuery(next.href) },
      });
    }
    // The body of a 301/302/303 would be dropped and the method changed: that is another request, not this one.
    if (req.body !== undefined && res.status !== 307 && res.status !== 308) refuse(`a ${req.method} with a body is only re-sent by a 307 or 308`);
    if (credentialed && next.origin !== url.origin) refuse(`credentials are not sent on to another origin (${stripQuery(next.href)})`);
    allowUrl?.(next);
    current = next;
  }
}
