import { ContainerkitError, newError } from '../../errors/index.js';
import { logger, redact } from '../../util/debug.js';
import { Authenticator } from './authenticator.js';
import { type Credential, StaticCredentials } from './credentials.js';
import { isLoopbackHost } from './hosts.js';
import { type AuthHttpResponse, axiosTokenRequest, requestFollowing, type TokenRequestFunction } from './request.js';

const log = logger('registry:auth');

/** Options for {@link verifyCredentials}. */
export interface VerifyCredentialsOptions {
  /** Talk plain HTTP to the registry. Default: only for loopback hosts (`localhost`, `127.0.0.0/8`, `::1`). */
  plainHttp?: boolean;
  /** Transport for `GET /v2/` and the token request. Default {@link axiosTokenRequest}. */
  request?: TokenRequestFunction;
  userAgent?: string;
  signal?: AbortSignal;
}

function header(res: AuthHttpResponse, name: string): string | string[] | undefined {
  return res.headers[name];
}

/**
 * Checks that a registry accepts `credential`, as `docker login` does: `GET /v2/`; on a 401, the challenge flow
 * (a token fetched with the credential, or Basic auth) and one retry. A registry that answers 200 without asking
 * for credentials also passes.
 *
 * @throws ERR_REGISTRY_UNAUTHORIZED when the registry or its token server refuses the credential;
 *   ERR_REGISTRY_AUTH_FAILED when the registry cannot be reached or answers something else; `signal.reason`.
 */
export async function verifyCredentials(host: string, credential: Credential, options: VerifyCredentialsOptions = {}): Promise<void> {
  if (typeof host !== 'string' || host === '') throw newError('ERR_INVALID_ARGUMENT', 'host must be a registry host[:port]');
  const { plainHttp = isLoopbackHost(host), request = axiosTokenRequest(), userAgent, signal } = options;
  signal?.throwIfAborted();
  const auth = new Authenticator({
    credentials: new StaticCredentials({ [host]: credential }),
    tokenRequest: request,
    userAgent,
    plainHttpHosts: plainHttp ? [host] : [],
  });
  const url = `${plainHttp ? 'http' : 'https'}://${host}/v2/`;
  const get = async (authorization: string | undefined): Promise<AuthHttpResponse> => {
    const headers: Record<string, string> = {};
    if (authorization) headers.Authorization = authorization;
    if (userAgent) headers['User-Agent'] = userAgent;
    try {
      return await requestFollowing(request, new URL(url), { method: 'GET', headers, signal }, { what: host });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (err instanceof ContainerkitError) throw err;
      throw newError('ERR_REGISTRY_AUTH_FAILED', `cannot reach ${url}: ${redact((err as Error).message ?? String(err))}`, { details: { host } });
    }
  };
  let res = await get(undefined);
  if (res.status === 401) {
    const authorization = await auth.challenge(host, header(res, 'www-authenticate'), [], { signal });
    if (authorization === undefined) {
      throw newError('ERR_REGISTRY_UNAUTHORIZED', `${host} asks for a kind of authentication the credentials cannot answer`, {
        details: { host, status: 401 },
      });
    }
    res = await get(authorization);
  }
  if (res.status === 401 || res.status === 403) {
    throw newError('ERR_REGISTRY_UNAUTHORIZED', `${host} refused the credentials (HTTP ${res.status})`, { details: { host, status: res.status } });
  }
  if (res.status !== 200) {
    throw newError('ERR_REGISTRY_AUTH_FAILED', `${url} answered HTTP ${res.status}`, { details: { host, status: res.status } });
  }
  log('credentials for %s verified', host);
}
