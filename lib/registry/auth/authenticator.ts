import type { AxiosInstance } from 'axios';
import { newError } from '../../errors/index.js';
import { onAbort, raceSignal } from '../../util/abort.js';
import { logger } from '../../util/debug.js';
import type { RegistryAuth } from '../types.js';
import { basicAuthorization } from './basic.js';
import { findChallenge, parseWwwAuthenticate } from './challenge.js';
import { type Credential, type CredentialSource, isPasswordCredential } from './credentials.js';
import { hostnameOf, isLoopbackHost } from './hosts.js';
import { axiosTokenRequest, stripQuery, type TokenRequestFunction } from './request.js';
import { mergeScopes, splitScopeParam } from './scopes.js';
import { requestToken, type TokenEndpoint, tokenDeadline } from './token.js';

const log = logger('registry:auth');

/** Options of {@link Authenticator.authorization}. */
export interface AuthorizationOptions {
  signal?: AbortSignal;
}

/** Options of {@link Authenticator.challenge} (a superset of what {@link RegistryAuth} promises). */
export interface ChallengeOptions {
  signal?: AbortSignal;
  /**
   * The `Authorization` value the refused request carried, if any. When the new value would be the same (the same
   * Basic credentials, or a token server that reissued the same token) `challenge` answers undefined: retrying
   * could not help.
   */
  sent?: string;
}

/** Options for {@link Authenticator}. */
export interface AuthenticatorOptions {
  /** Where credentials come from. Default: none (anonymous tokens only). */
  credentials?: CredentialSource;
  /** Transport for token requests. Default: {@link axiosTokenRequest} over `http`, or over a new axios instance. */
  tokenRequest?: TokenRequestFunction;
  /** An axios instance for the default transport (ignored when `tokenRequest` is given). */
  http?: AxiosInstance;
  /** `User-Agent` of token requests. Default: none set by containerkit. */
  userAgent?: string;
  /**
   * Hosts (`host` or `host:port`) whose token realm may be plain `http:`. Loopback hosts always may; any other
   * realm must be https, so credentials never cross the network in clear. Default `[]`.
   */
  plainHttpHosts?: readonly string[];
  /** `client_id` of OAuth2 token requests. Default `containerkit`. */
  clientId?: string;
  /** Most tokens kept; expired ones go first, then the oldest. Default 1024. */
  maxCachedTokens?: number;
  /** The clock, in ms (tests pass a fake one). Default `Date.now`. */
  now?: () => number;
}

type HostState = { kind: 'bearer'; endpoint: TokenEndpoint } | { kind: 'basic'; header: string | undefined };

interface Flight {
  promise: Promise<string>;
  controller: AbortController;
  waiters: number;
}

function validateHostAndScopes(host: unknown, scopes: unknown): void {
  if (typeof host !== 'string' || host === '' || /[\s/@]/.test(host)) throw newError('ERR_INVALID_ARGUMENT', 'host must be a registry host[:port]');
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string' && s !== '' && !/\s/.test(s))) {
    throw newError('ERR_INVALID_ARGUMENT', 'scopes must be an array of non-empty scope strings without spaces');
  }
}

/**
 * The {@link RegistryAuth} of containerkit: the distribution token flow and Basic auth.
 *
 * - On a 401 it reads the challenges; Bearer wins over Basic (as docker chooses). For Bearer it fetches a token from
 *   the realm for the request's scopes plus the challenge's `scope` (anonymously, with Basic credentials, or by
 *   OAuth2 with an identity token) and caches it per host and scope set until shortly before `expires_in` ends.
 *   For Basic it sends the host's username and password.
 * - Later, {@link authorization} answers from the cache; once a host is known to use tokens, a new scope set gets
 *   its token right away instead of after another 401. Concurrent fetches of one token are shared.
 * - Credentials are looked up once per host and again on each challenge (a helper may hand out short-lived ones).
 *
 * Throws ERR_INVALID_ARGUMENT for a bad host or scopes; challenge() throws ERR_REGISTRY_UNAUTHORIZED when the token
 * server refuses the credentials and ERR_REGISTRY_AUTH_FAILED for a malformed challenge, an insecure realm or a
 * failing token server; the credential source's errors pass through. Nothing logged or thrown holds a secret.
 */
export class Authenticator implements RegistryAuth {
  readonly #credentials: CredentialSource | undefined;
  readonly #request: TokenRequestFunction;
  readonly #userAgent: string | undefined;
  readonly #plainHttpHosts: ReadonlySet<string>;
  readonly #clientId: string | undefined;
  readonly #maxTokens: number;
  readonly #now: () => number;
  readonly #hosts = new Map<string, HostState>();
  readonly #tokens = new Map<string, { authorization: string; deadline: number }>();
  readonly #flights = new Map<string, Flight>();
  readonly #creds = new Map<string, Promise<Credential | undefined>>();

  constructor(options: AuthenticatorOptions = {}) {
    const { credentials, tokenRequest, http, userAgent, plainHttpHosts = [], clientId, maxCachedTokens = 1024, now = Date.now } = options;
    if (credentials !== undefined && typeof credentials?.get !== 'function')
      throw newError('ERR_INVALID_ARGUMENT', 'options.credentials must have a get(host) method');
    if (tokenRequest !== undefined && typeof tokenRequest !== 'function') throw newError('ERR_INVALID_ARGUMENT', 'options.tokenRequest must be a function');
    if (userAgent !== undefined && (typeof userAgent !== 'string' || /[\r\n]/.test(userAgent)))
      throw newError('ERR_INVALID_ARGUMENT', 'options.userAgent must be a one-line string');
    if (!Array.isArray(plainHttpHosts) || !plainHttpHosts.every((h) => typeof h === 'string'))
      throw newError('ERR_INVALID_ARGUMENT', 'options.plainHttpHosts must be an array of strings');
    if (clientId !== undefined && (typeof clientId !== 'string' || clientId === ''))
      throw newError('ERR_INVALID_ARGUMENT', 'options.clientId must be a non-empty string');
    if (!Number.isInteger(maxCachedTokens) || maxCachedTokens < 1) throw newError('ERR_INVALID_ARGUMENT', 'options.maxCachedTokens must be a positive integer');
    if (typeof now !== 'function') throw newError('ERR_INVALID_ARGUMENT', 'options.now must be a function');
    this.#credentials = credentials;
    this.#request = tokenRequest ?? axiosTokenRequest(http);
    this.#userAgent = userAgent;
    this.#plainHttpHosts = new Set(plainHttpHosts.map((h) => h.toLowerCase()));
    this.#clientId = clientId;
    this.#maxTokens = maxCachedTokens;
    this.#now = now;
  }

  async authorization(host: string, scopes: readonly string[], options: AuthorizationOptions = {}): Promise<string | undefined> {
    validateHostAndScopes(host, scopes);
    const { signal } = options;
    signal?.throwIfAborted();
    const state = this.#hosts.get(host);
    if (state === undefined) return undefined;
    if (state.kind === 'basic') return state.header;
    const key = tokenKey(host, scopes);
    const cached = this.#tokens.get(key);
    if (cached && cached.deadline > this.#now()) return cached.authorization;
    if (cached) this.#tokens.delete(key);
    return this.#token(host, state.endpoint, key, mergeScopes(scopes), false, signal);
  }

  async challenge(
    host: string,
    wwwAuthenticate: string | string[] | undefined,
    scopes: readonly string[],
    options: ChallengeOptions = {},
  ): Promise<string | undefined> {
    validateHostAndScopes(host, scopes);
    const { signal, sent } = options;
    signal?.throwIfAborted();
    const challenges = parseWwwAuthenticate(wwwAuthenticate);
    const bearer = findChallenge(challenges, 'bearer');
    if (bearer) {
      const realm = bearer.params.realm;
      if (realm === undefined || realm === '') {
        throw newError('ERR_REGISTRY_AUTH_FAILED', `${host} sent a Bearer challenge without a realm`, { details: { host } });
      }
      this.#checkRealm(host, realm);
      const endpoint: TokenEndpoint = bearer.params.service === undefined ? { realm } : { realm, service: bearer.params.service };
      const prev = this.#hosts.get(host);
      if (prev?.kind !== 'bearer' || prev.endpoint.realm !== endpoint.realm || prev.endpoint.service !== endpoint.service) {
        this.#forgetTokens(host);
        log('%s uses tokens from %s (service %s)', host, stripQuery(realm), endpoint.service ?? '-');
      }
      this.#hosts.set(host, { kind: 'bearer', endpoint });
      const key = tokenKey(host, scopes);
      this.#tokens.delete(key);
      const authorization = await this.#token(host, endpoint, key, mergeScopes(scopes, splitScopeParam(bearer.params.scope)), true, signal);
      if (sent !== undefined && authorization === sent) {
        log('token server for %s reissued the refused token; nothing new to try', host);
        return undefined;
      }
      return authorization;
    }
    if (findChallenge(challenges, 'basic')) {
      const cred = await this.#credential(host, true, signal);
      const header = cred && isPasswordCredential(cred) ? basicAuthorization(cred.username, cred.password) : undefined;
      this.#hosts.set(host, { kind: 'basic', header });
      if (header === undefined) log('%s asks for basic auth and no username/password is configured', host);
      if (header !== undefined && header === sent) {
        log('%s refused the configured basic credentials; nothing new to try', host);
        return undefined;
      }
      return header;
    }
    log(
      '%s sent no Bearer or Basic challenge (schemes: %o)',
      host,
      challenges.map((c) => c.scheme),
    );
    return undefined;
  }

  /** Forgets what is known about `host` (scheme, tokens, credentials), or about every host. */
  forget(host?: string): void {
    if (host === undefined) {
      this.#hosts.clear();
      this.#tokens.clear();
      this.#creds.clear();
      return;
    }
    this.#hosts.delete(host);
    this.#forgetTokens(host);
    this.#creds.delete(host);
  }

  #checkRealm(host: string, realm: string): void {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw newError('ERR_REGISTRY_AUTH_FAILED', `${host} sent a token realm that is not a URL`, { details: { host } });
    }
    if (url.protocol === 'https:') return;
    const plainOk =
      url.protocol === 'http:' &&
      (isLoopbackHost(url.host) || this.#plainHttpHosts.has(url.host.toLowerCase()) || this.#plainHttpHosts.has(hostnameOf(url.host)));
    if (!plainOk) {
      throw newError('ERR_REGISTRY_AUTH_FAILED', `${host} sent a token realm ${stripQuery(realm)} that is neither https nor an allowed plain-HTTP host`, {
        details: { host, realm: stripQuery(realm) },
      });
    }
  }

  #forgetTokens(host: string): void {
    const prefix = `${host}\n`;
    for (const key of this.#tokens.keys()) if (key.startsWith(prefix)) this.#tokens.delete(key);
  }

  #credential(host: string, fresh: boolean, signal: AbortSignal | undefined): Promise<Credential | undefined> {
    if (!this.#credentials) return Promise.resolve(undefined);
    if (fresh) this.#creds.delete(host);
    let p = this.#creds.get(host);
    if (!p) {
      p = this.#credentials.get(host, { signal });
      this.#creds.set(host, p);
      // A failed lookup is not remembered: the next request asks again.
      p.catch(() => {
        if (this.#creds.get(host) === p) this.#creds.delete(host);
      });
    }
    return p;
  }

  /** The token for `key`, fetched once however many requests wait for it; each waiter can abort on its own. */
  #token(host: string, endpoint: TokenEndpoint, key: string, scopes: string[], freshCredentials: boolean, signal: AbortSignal | undefined): Promise<string> {
    let flight = this.#flights.get(key);
    if (!flight) {
      const controller = new AbortController();
      const promise = (async () => {
        const credential = await this.#credential(host, freshCredentials, controller.signal);
        const issued = await requestToken(endpoint, scopes, credential, {
          request: this.#request,
          userAgent: this.#userAgent,
          clientId: this.#clientId,
          host,
          // Every redirect hop of the token request meets the realm's own policy.
          allowUrl: (url) => this.#checkRealm(host, url.href),
          signal: controller.signal,
        });
        const authorization = `Bearer ${issued.token}`;
        this.#store(key, authorization, tokenDeadline(this.#now(), issued.expiresInSeconds));
        log('got a token for %s scopes %o, valid %d s', host, scopes, issued.expiresInSeconds);
        return authorization;
      })();
      const entry: Flight = { promise, controller, waiters: 0 };
      flight = entry;
      this.#flights.set(key, entry);
      promise.then(
        () => this.#flights.get(key) === entry && this.#flights.delete(key),
        () => this.#flights.get(key) === entry && this.#flights.delete(key),
      );
    }
    return wait(flight, signal);
  }

  #store(key: string, authorization: string, deadline: number): void {
    this.#tokens.delete(key);
    this.#tokens.set(key, { authorization, deadline });
    if (this.#tokens.size <= this.#maxTokens) return;
    const now = this.#now();
    for (const [k, v] of this.#tokens) if (v.deadline <= now) this.#tokens.delete(k);
    for (const k of this.#tokens.keys()) {
      if (this.#tokens.size <= this.#maxTokens) break;
      this.#tokens.delete(k);
    }
  }
}

function tokenKey(host: string, scopes: readonly string[]): string {
  return `${host}\n${mergeScopes(scopes).join(' ')}`;
}

/** Waits for a shared fetch; the fetch itself is aborted only when every waiter has gone. */
function wait(flight: Flight, signal: AbortSignal | undefined): Promise<string> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  flight.waiters++;
  if (!signal) return flight.promise;
  const leave = onAbort(signal, () => {
    flight.waiters--;
    if (flight.waiters === 0) flight.controller.abort(signal.reason);
  });
  return raceSignal(flight.promise, signal).finally(leave);
}
