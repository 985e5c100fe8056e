import { newError } from '../errors/index.js';
import { Authenticator } from './auth/authenticator.js';
import { type CredentialSource, DockerConfigCredentials } from './auth/credentials.js';
import { DEFAULT_CERTS_DIR, type HostTls } from './certs.js';
import { DEFAULT_PLAIN_HTTP_HOSTS, HostMatcher } from './host-match.js';
import { type ProxySettings, proxyFromEnv, type TransportSettings } from './http.js';
import { type ResolvedRetryPolicy, type RetryPolicy, resolveRetryPolicy } from './retry.js';
import type { RegistryAuth } from './types.js';

/** Options of `new RegistryClient(options)`; every field is optional and its default stated. */
export interface RegistryClientOptions {
  /**
   * Where credentials come from; the client answers token and basic challenges with them (anonymous tokens when a
   * host has none). Default: the docker CLI's (`~/.docker/config.json` or `$DOCKER_CONFIG`, its `credsStore` and
   * `credHelpers`, read on every challenge); `new StaticCredentials({})` for none. Not together with `auth`.
   */
  credentials?: CredentialSource;
  /** The whole challenge/authorization flow, replacing the default one built over `credentials`. Not together with `credentials`. */
  auth?: RegistryAuth;
  /** `User-Agent` header. Default `containerkit (node <version>)`. */
  userAgent?: string;
  /**
   * Hosts spoken to over plain HTTP: names, `name:port`, IPs, CIDR ranges. Default `localhost`, `127.0.0.0/8`,
   * `::1/128` (as dockerd). Replaces the default; include those entries to keep them.
   */
  plainHttpHosts?: readonly string[];
  /** docker-style per-host TLS directories (`<dir>/<host>/ca.crt`, `client.cert`, `client.key`); `false` to skip. Default `/etc/docker/certs.d`. */
  certsDir?: string | false;
  /** TLS material per host (`host[:port]`), used instead of certs.d for those hosts. Default none. */
  tls?: Record<string, HostTls>;
  /** Proxies; `false` for none. Default: `HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY` from the environment at construction. */
  proxy?: ProxySettings | false;
  /** Pull-through mirrors per registry domain, tried in order before the registry for pulls (never pushes). Default none. */
  mirrors?: Record<string, readonly string[]>;
  /** Time to connect and receive response headers, in ms. Default 30000. */
  connectTimeoutMs?: number;
  /** Longest pause of a response body while the reader waits, in ms (ERR_STALL_TIMEOUT). Default 30000. */
  stallTimeoutMs?: number;
  /** Requests in flight per host (open bodies count). Default 8. */
  maxConcurrencyPerHost?: number;
  /** Retries of idempotent requests; see {@link RetryPolicy}. */
  retry?: RetryPolicy;
  /** Hosts (`host[:port]`) a foreign layer's `urls` may be fetched from. Default none: such layers come only from the registry. */
  allowedForeignHosts?: readonly string[];
  /** Range resumes per blob download after a drop or a stall. Default 5. */
  maxResumes?: number;
}

/** The options with defaults applied. @internal */
export interface ResolvedClientOptions {
  auth: RegistryAuth;
  transport: TransportSettings;
  retry: ResolvedRetryPolicy;
  mirrors: Record<string, readonly string[]> | undefined;
  allowedForeignHosts: Set<string>;
  maxResumes: number;
}

function positiveInt(value: unknown, name: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw newError('ERR_INVALID_ARGUMENT', `${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`);
  }
  return value;
}

function stringList(value: unknown, name: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw newError('ERR_INVALID_ARGUMENT', `${name} must be an array of strings`);
  return value as string[];
}

/**
 * Validates every option and applies the defaults, before any work.
 * @throws ERR_INVALID_ARGUMENT naming the option.
 */
export function resolveClientOptions(options: RegistryClientOptions): ResolvedClientOptions {
  if (typeof options !== 'object' || options === null) throw newError('ERR_INVALID_ARGUMENT', 'options must be an object');
  const { auth, credentials } = options;
  if (auth !== undefined && (typeof auth.authorization !== 'function' || typeof auth.challenge !== 'function')) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.auth must have authorization() and challenge() methods');
  }
  if (credentials !== undefined && typeof credentials.get !== 'function')
    throw newError('ERR_INVALID_ARGUMENT', 'options.credentials must have a get() method');
  if (auth !== undefined && credentials !== undefined) throw newError('ERR_INVALID_ARGUMENT', 'options.auth and options.credentials exclude each other');
  if (options.userAgent !== undefined && (typeof options.userAgent !== 'string' || /[\r\n]/.test(options.userAgent))) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.userAgent must be a one-line string');
  }
  const certsDir = options.certsDir ?? DEFAULT_CERTS_DIR;
  if (certsDir !== false && (typeof certsDir !== 'string' || certsDir === ''))
    throw newError('ERR_INVALID_ARGUMENT', 'options.certsDir must be a path or false');
  const tls = options.tls ?? {};
  if (typeof tls !== 'object' || tls === null) throw newError('ERR_INVALID_ARGUMENT', 'options.tls must be an object keyed by host');
  const proxy = options.proxy === undefined ? proxyFromEnv() : options.proxy;
  if (proxy !== false) {
    if (typeof proxy !== 'object' || proxy === null) throw newError('ERR_INVALID_ARGUMENT', 'options.proxy must be an object or false');
    for (const key of ['httpProxy', 'httpsProxy'] as const) {
      const value = proxy[key];
      if (value !== undefined && (typeof value !== 'string' || !URL.canParse(value.includes('://') ? value : `http://${value}`))) {
        throw newError('ERR_INVALID_ARGUMENT', `options.proxy.${key} must be a proxy URL`);
      }
    }
  }
  const foreign = stringList(options.allowedForeignHosts, 'options.allowedForeignHosts') ?? [];
  return {
    auth:
      auth ??
      new Authenticator({
        credentials: credentials ?? new DockerConfigCredentials(),
        userAgent: options.userAgent,
        plainHttpHosts: options.plainHttpHosts,
      }),
    transport: {
      userAgent: options.userAgent ?? `containerkit (node ${process.version})`,
      plainHttp: new HostMatcher(stringList(options.plainHttpHosts, 'options.plainHttpHosts') ?? DEFAULT_PLAIN_HTTP_HOSTS, 'options.plainHttpHosts'),
      certsDir,
      tls,
      proxy,
      connectTimeoutMs: positiveInt(options.connectTimeoutMs, 'options.connectTimeoutMs', 30_000),
      stallTimeoutMs: positiveInt(options.stallTimeoutMs, 'options.stallTimeoutMs', 30_000),
      maxConcurrencyPerHost: positiveInt(options.maxConcurrencyPerHost, 'options.maxConcurrencyPerHost', 8),
    },
    retry: resolveRetryPolicy(options.retry),
    mirrors: options.mirrors,
    allowedForeignHosts: new Set(foreign.map((h) => h.toLowerCase())),
    maxResumes: positiveInt(options.maxResumes, 'options.maxResumes', 5, true),
  };
}
