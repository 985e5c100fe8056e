import { ContainerkitError, newError } from '../../errors/index.js';
import { logger, scrubSecrets } from '../../util/debug.js';
import { basicAuthorization } from './basic.js';
import { type Credential, isPasswordCredential } from './credentials.js';
import { type AuthHttpResponse, requestFollowing, stripQuery, type TokenRequestFunction } from './request.js';

const log = logger('registry:auth');

/** Lifetime assumed when a token response has no usable `expires_in` (the token spec's default). */
export const DEFAULT_TOKEN_EXPIRES_IN_SECONDS = 60;

/** Where a token comes from: a Bearer challenge's `realm` and `service`. */
export interface TokenEndpoint {
  /** Absolute http(s) URL of the token server. */
  realm: string;
  /** The `service` param, sent back unchanged (omitted when the challenge had none). */
  service?: string;
}

/** A token the token server issued. */
export interface IssuedToken {
  /** The bearer token (`token`, or `access_token` when `token` is absent). Secret. */
  token: string;
  /** Seconds the token lives, from `expires_in` (default {@link DEFAULT_TOKEN_EXPIRES_IN_SECONDS}). */
  expiresInSeconds: number;
  /** A refresh token the server sent with an OAuth2 answer (`refresh_token`), to be kept as an identity token. Secret. */
  refreshToken?: string;
}

/** Options for {@link requestToken}. */
export interface RequestTokenOptions {
  /** The transport. */
  request: TokenRequestFunction;
  /** `User-Agent` header. */
  userAgent?: string;
  /** `client_id` of the OAuth2 POST. Default `containerkit`. */
  clientId?: string;
  /**
   * With a username and password: POST `grant_type=password` with `access_type=offline` (asks for a refresh token,
   * as `docker login` does) instead of a GET with Basic auth. Falls back to the GET when the server answers 404.
   * Default false.
   */
  oauthPassword?: boolean;
  /** For messages: the registry host the token is for. */
  host?: string;
  /**
   * Checks each redirect target of a token request against the realm policy, throwing to refuse it (the
   * Authenticator passes its own: https, or an allowed plain-HTTP host). Default: only the built-in checks of
   * `requestFollowing`.
   */
  allowUrl?: (url: URL) => void;
  signal?: AbortSignal;
}

function form(fields: Record<string, string | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) p.append(k, v);
  return p.toString();
}

function parseBody(data: unknown): Record<string, unknown> | undefined {
  let value = data;
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

// A token becomes a header value: visible ASCII only, so a hostile server cannot inject header lines.
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

function nonEmptyString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function registryMessage(body: Record<string, unknown> | undefined, secrets: readonly string[]): string {
  const errors = body?.errors;
  const first = Array.isArray(errors) ? (errors[0] as { message?: unknown } | undefined) : undefined;
  const msg = typeof first?.message === 'string' ? first.message : typeof body?.details === 'string' ? body.details : '';
  // Scrubbed before it is cut: a cut could leave part of a secret that no longer matches.
  return msg === '' ? '' : `: ${scrubSecrets(msg, secrets).slice(0, 200)}`;
}

function interpret(res: AuthHttpResponse, realm: string, host: string, withCredentials: boolean, secrets: readonly string[]): IssuedToken {
  const body = parseBody(res.data);
  const where = `token server ${stripQuery(realm)}${host ? ` for ${host}` : ''}`;
  if (res.status === 401 || res.status === 403) {
    throw newError(
      'ERR_REGISTRY_UNAUTHORIZED',
      `${where} refused ${withCredentials ? 'the credentials' : 'anonymous access'} (HTTP ${res.status})${registryMessage(body, secrets)}`,
      {
        details: { status: res.status, realm: stripQuery(realm), host },
      },
    );
  }
  if (res.status < 200 || res.status >= 300) {
    throw newError('ERR_REGISTRY_AUTH_FAILED', `${where} answered HTTP ${res.status}${registryMessage(body, secrets)}`, {
      details: { status: res.status, realm: stripQuery(realm), host },
    });
  }
  if (!body)
    throw newError('ERR_REGISTRY_AUTH_FAILED', `${where} answered with a body that is not a JSON object`, { details: { realm: stripQuery(realm), host } });
  const token = nonEmptyString(body.token) ?? nonEmptyString(body.access_token);
  if (token === undefined)
    throw newError('ERR_REGISTRY_AUTH_FAILED', `${where} sent neither "token" nor "access_token"`, { details: { realm: stripQuery(realm), host } });
  if (!TOKEN_CHARS.test(token))
    throw newError('ERR_REGISTRY_AUTH_FAILED', `${where} sent a token with characters a header cannot carry`, { details: { realm: stripQuery(realm), host } });
  const exp = body.expires_in;
  const expiresInSeconds = typeof exp === 'number' && Number.isFinite(exp) && exp > 0 ? exp : DEFAULT_TOKEN_EXPIRES_IN_SECONDS;
  const refreshToken = nonEmptyString(body.refresh_token);
  return refreshToken === undefined ? { token, expiresInSeconds } : { token, expiresInSeconds, refreshToken };
}

/**
 * Gets a token from a distribution token server (https://distribution.github.io/distribution/spec/auth/token/):
 * - no credential: `GET realm?service=…&scope=…` (one `scope` param per scope), anonymously;
 * - a username and password: the same GET with Basic auth and `account=<username>`, or with `oauthPassword` an
 *   OAuth2 POST `grant_type=password`;
 * - an identity token: an OAuth2 POST `grant_type=refresh_token&refresh_token=…` (as docker does); a 404 falls
 *   back to the GET (anonymous, or Basic when a password is also known).
 * Exactly one request, or two when the POST falls back: never a loop. Accepts `token` or `access_token`.
 *
 * @throws ERR_REGISTRY_UNAUTHORIZED when the server answers 401/403; ERR_DEADLINE_EXCEEDED past the request timeout; ERR_REGISTRY_AUTH_FAILED for another status,
 *   an unusable body, a transport failure or a bad realm; `signal.reason` on abort. No message holds a secret.
 */
export async function requestToken(
  endpoint: TokenEndpoint,
  scopes: readonly string[],
  credential: Credential | undefined,
  options: RequestTokenOptions,
): Promise<IssuedToken> {
  const { request, userAgent, clientId = 'containerkit', oauthPassword = false, host = '', allowUrl, signal } = options;
  signal?.throwIfAborted();
  let realmUrl: URL;
  try {
    realmUrl = new URL(endpoint.realm);
  } catch {
    throw newError('ERR_REGISTRY_AUTH_FAILED', `the token realm of ${host || 'the registry'} is not a URL`, { details: { host } });
  }
  if (realmUrl.protocol !== 'https:' && realmUrl.protocol !== 'http:') {
    throw newError('ERR_REGISTRY_AUTH_FAILED', `the token realm of ${host || 'the registry'} is not http(s)`, { details: { host } });
  }
  if (realmUrl.username !== '' || realmUrl.password !== '') {
    throw newError('ERR_REGISTRY_AUTH_FAILED', `the token realm of ${host || 'the registry'} carries userinfo`, { details: { host } });
  }
  const baseHeaders: Record<string, string> = { Accept: 'application/json' };
  if (userAgent) baseHeaders['User-Agent'] = userAgent;
  const password = credential && isPasswordCredential(credential) ? credential : undefined;
  const identityToken = credential && !isPasswordCredential(credential) ? credential.identityToken : undefined;
  // A server may echo any of these, encoded (a form-encoded refresh token, a Base64 `user:password`).
  const secrets = [password?.password, password && `${password.username}:${password.password}`, identityToken].filter(
    (v): v is string => v !== undefined && v !== '',
  );

  const send = async (method: 'GET' | 'POST', url: string, headers: Record<string, string>, body?: string): Promise<AuthHttpResponse> => {
    try {
      // Redirects are followed hop by hop: a body or Authorization never goes on to another origin.
      return await requestFollowing(request, new URL(url), body === undefined ? { method, headers, signal } : { method, headers, body, signal }, {
        what: `token server ${stripQuery(url)}${host ? ` for ${host}` : ''}`,
        ...(allowUrl === undefined ? {} : { allowUrl }),
      });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (err instanceof ContainerkitError) throw err;
      throw newError(
        'ERR_REGISTRY_AUTH_FAILED',
        `token server ${stripQuery(url)} could not be reached: ${scrubSecrets((err as Error).message ?? String(err), secrets)}`,
        {
          details: { realm: stripQuery(url), host, errno: (err as { code?: unknown }).code },
        },
      );
    }
  };

  if (identityToken !== undefined || (password && oauthPassword)) {
    const fields =
      identityToken !== undefined
        ? { grant_type: 'refresh_token', refresh_token: identityToken }
        : { grant_type: 'password', username: password!.username, password: password!.password, access_type: 'offline' };
    const body = form({ ...fields, client_id: clientId, service: endpoint.service, scope: scopes.length > 0 ? scopes.join(' ') : undefined });
    log('POST %s (oauth2 %s) for %s scopes %o', stripQuery(realmUrl.href), fields.grant_type, host, scopes);
    const res = await send('POST', realmUrl.href, { ...baseHeaders, 'Content-Type': 'application/x-www-form-urlencoded' }, body);
    if (res.status !== 404 && res.status !== 405) return interpret(res, realmUrl.href, host, true, secrets);
    log('token server %s has no OAuth2 POST (HTTP %d), falling back to GET', stripQuery(realmUrl.href), res.status);
  }

  const url = new URL(realmUrl.href);
  if (endpoint.service !== undefined) url.searchParams.append('service', endpoint.service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  const headers = { ...baseHeaders };
  if (password) {
    url.searchParams.append('account', password.username);
    headers.Authorization = basicAuthorization(password.username, password.password);
  }
  log('GET %s (%s) for %s scopes %o', stripQuery(url.href), password ? 'basic' : 'anonymous', host, scopes);
  const res = await send('GET', url.href, headers);
  return interpret(res, realmUrl.href, host, password !== undefined, secrets);
}

/**
 * When a cached token of `expiresInSeconds` lifetime, received at `receivedAtMs`, stops being used: a safety margin
 * of 10 % of the lifetime (at most 30 s) before it expires, for clock skew and requests in flight.
 */
export function tokenDeadline(receivedAtMs: number, expiresInSeconds: number): number {
  const lifetime = expiresInSeconds * 1000;
  return receivedAtMs + lifetime - Math.min(30_000, lifetime * 0.1);
}
