import { Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable, Transform } from 'node:stream';
import { rootCertificates } from 'node:tls';
import type { AxiosInstance, AxiosProxyConfig } from 'axios';
import { isAbortError, newError } from '../errors/index.js';
import { onAbort } from '../util/abort.js';
import { logger } from '../util/debug.js';
import { KeyedLimiter } from '../util/limiter.js';
import { type HostTls, loadHostTls } from './certs.js';
import { networkError, RegistryError, redactUrl } from './errors.js';
import { type HostMatcher, isNoProxy } from './host-match.js';
import { sendDirect } from './node-request.js';

const log = logger('registry:http');

/** Proxy settings; by default read from `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` (either case). */
export interface ProxySettings {
  /** Proxy for `http://` registries, e.g. `http://proxy:3128`. */
  httpProxy?: string;
  /** Proxy for `https://` registries (tunnelled with CONNECT). */
  httpsProxy?: string;
  /** Hosts reached directly (curl's NO_PROXY syntax). */
  noProxy?: string;
}

/** Everything the transport needs, already validated and defaulted by the client. */
export interface TransportSettings {
  userAgent: string;
  plainHttp: HostMatcher;
  /** `false`: never read certs.d. */
  certsDir: string | false;
  /** Explicit TLS per host, used instead of certs.d for those hosts. */
  tls: Readonly<Record<string, HostTls>>;
  proxy: ProxySettings | false;
  connectTimeoutMs: number;
  stallTimeoutMs: number;
  maxConcurrencyPerHost: number;
}

/** One HTTP request as the transport sends it. */
export interface HttpRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** A Buffer (replayable) or a stream (sent once). */
  body?: Buffer | Readable;
  signal?: AbortSignal;
}

/** An HTTP answer; the body must be read to the end or discarded, which frees the per-host slot. */
export interface HttpResponse {
  status: number;
  /** Node's lower-cased headers. */
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  url: URL;
  method: string;
}

/** The value of a header that may repeat, as one string (the first one). */
export function header(res: { headers: Record<string, string | string[] | undefined> }, name: string): string | undefined {
  const value = res.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Drops the rest of a body (keeps small ones flowing for keep-alive reuse, destroys big ones). */
export function discard(res: HttpResponse): void {
  const length = Number(header(res, 'content-length') ?? 'NaN');
  // A HEAD answer has no body whatever its Content-Length says; draining keeps the socket for reuse.
  if (res.method === 'HEAD' || (Number.isFinite(length) && length <= 64 * 1024)) res.body.resume();
  else res.body.destroy();
}

/** Reads env proxy variables (lower-case wins, as curl does). */
export function proxyFromEnv(env: NodeJS.ProcessEnv = process.env): ProxySettings {
  const pick = (name: string): string | undefined => env[name.toLowerCase()] ?? env[name.toUpperCase()] ?? undefined;
  const out: ProxySettings = {};
  const http = pick('http_proxy');
  const https = pick('https_proxy');
  const no = pick('no_proxy');
  if (http) out.httpProxy = http;
  if (https) out.httpsProxy = https;
  if (no) out.noProxy = no;
  return out;
}

/** The axios instance of proxied requests, loaded on the first one (see {@link sendDirect} for why not before). */
async function proxyAxios(): Promise<AxiosInstance> {
  const { default: axios } = await import('axios');
  return axios.create({
    maxRedirects: 0,
    decompress: false,
    responseType: 'stream',
    validateStatus: () => true,
    maxBodyLength: Number.POSITIVE_INFINITY,
    maxContentLength: -1,
    transitional: { clarifyTimeoutError: true },
  });
}

/**
 * The HTTP layer of one RegistryClient: node's http client (axios, loaded on first use, for proxied requests), shared keep-alive agents (one https agent per host that
 * has its own TLS material), plain HTTP for the configured hosts, proxies, a connect timeout (until the response
 * headers) and a per-host concurrency limit. Knows nothing of the distribution protocol.
 */
export class HttpTransport {
  readonly settings: TransportSettings;
  #axios: Promise<AxiosInstance> | undefined;
  readonly #httpAgent: HttpAgent;
  readonly #httpsAgent: HttpsAgent;
  readonly #hostAgents = new Map<string, Promise<HttpsAgent>>();
  readonly #limiter: KeyedLimiter;

  constructor(settings: TransportSettings) {
    this.settings = settings;
    this.#httpAgent = new HttpAgent({ keepAlive: true, scheduling: 'lifo' });
    this.#httpsAgent = new HttpsAgent({ keepAlive: true, scheduling: 'lifo' });
    this.#limiter = new KeyedLimiter(settings.maxConcurrencyPerHost);
  }

  /** `http` for plain-HTTP hosts, else `https`. */
  scheme(host: string): 'http' | 'https' {
    return this.settings.plainHttp.matches(host) ? 'http' : 'https';
  }

  /**
   * Sends one request (no redirects followed, every status returned).
   * @throws RegistryError ERR_REGISTRY_UNAVAILABLE (temporary) on network errors, ERR_DEADLINE_EXCEEDED when no
   *   response headers came within the connect timeout; `signal.reason` on abort.
   */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const { signal } = req;
    signal?.throwIfAborted();
    const release = await this.#limiter.acquire(req.url.host, signal);
    const connect = new AbortController();
    const timer = setTimeout(() => connect.abort(), this.settings.connectTimeoutMs);
    let settled = false;
    // An upload's answer comes only after its whole body: the timeout then counts from the last byte sent.
    let data = req.body;
    if (data instanceof Readable) {
      const source = data;
      data = source.pipe(
        new Transform({
          highWaterMark: 1024 * 1024,
          transform(chunk: Buffer, _encoding, callback) {
            if (!settled) timer.refresh();
            callback(null, chunk);
          },
        }),
      );
      source.once('error', (err) => (data as Readable).destroy(err));
    }
    const combined = signal ? AbortSignal.any([signal, connect.signal]) : connect.signal;
    let res: IncomingMessage;
    try {
      const secure = req.url.protocol === 'https:';
      const headers = { 'User-Agent': this.settings.userAgent, 'Accept-Encoding': 'identity', ...req.headers };
      const httpsAgent = secure ? await this.#agentFor(req.url.host) : this.#httpsAgent;
      const proxy = this.#proxyFor(req.url);
      if (proxy === false) {
        res = await sendDirect({ method: req.method, url: req.url, headers, body: data, agent: secure ? httpsAgent : this.#httpAgent, signal: combined });
      } else {
        this.#axios ??= proxyAxios();
        const response = await (await this.#axios).request({
          url: req.url.toString(),
          method: req.method,
          headers,
          data,
          signal: combined,
          proxy,
          httpAgent: this.#httpAgent,
          httpsAgent,
        });
        res = response.data as IncomingMessage;
      }
    } catch (err) {
      release();
      if (signal?.aborted) throw signal.reason;
      if (connect.signal.aborted) {
        throw new RegistryError('ERR_DEADLINE_EXCEEDED', `${req.method} ${redactUrl(req.url)}: no response within ${this.settings.connectTimeoutMs} ms`, {
          method: req.method,
          url: req.url,
          temporary: true,
          cause: err,
          details: { transport: 'http', timeoutMs: this.settings.connectTimeoutMs },
        });
      }
      if (err instanceof RegistryError || isAbortError(err)) throw err;
      throw networkError(req.method, req.url, err);
    } finally {
      settled = true;
      clearTimeout(timer);
    }
    // The slot is held while the body is open: a caller holding many unread bodies throttles itself.
    res.once('close', release);
    // onAbort also covers an abort that landed between the response and here: the body is destroyed at once.
    res.once(
      'close',
      onAbort(signal, (reason) => void res.destroy(reason as Error)),
    );
    log('%s %s → %d', req.method, redactUrl(req.url), res.statusCode);
    return { status: res.statusCode ?? 0, headers: res.headers, body: res, url: req.url, method: req.method };
  }

  /** Closes idle keep-alive sockets. In-flight requests finish. */
  close(): void {
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
    for (const agent of this.#hostAgents.values())
      void agent.then(
        (a) => a.destroy(),
        () => undefined,
      );
    this.#hostAgents.clear();
  }

  #proxyFor(url: URL): AxiosProxyConfig | false {
    const proxy = this.settings.proxy;
    if (proxy === false) return false;
    const raw = url.protocol === 'https:' ? proxy.httpsProxy : proxy.httpProxy;
    if (raw === undefined || isNoProxy(url.host, proxy.noProxy)) return false;
    const parsed = new URL(raw.includes('://') ? raw : `http://${raw}`);
    const config: AxiosProxyConfig = {
      protocol: parsed.protocol.replace(/:$/, ''),
      host: parsed.hostname.replace(/^\[|\]$/g, ''),
      port: Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)),
    };
    if (parsed.username !== '') config.auth = { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
    return config;
  }

  #agentFor(host: string): Promise<HttpsAgent> {
    let agent = this.#hostAgents.get(host);
    if (!agent) {
      agent = this.#loadAgent(host);
      this.#hostAgents.set(host, agent);
      agent.catch(() => this.#hostAgents.delete(host));
    }
    return agent;
  }

  async #loadAgent(host: string): Promise<HttpsAgent> {
    const tls = this.settings.tls[host] ?? (this.settings.certsDir === false ? undefined : await loadHostTls(this.settings.certsDir, host));
    if (!tls) return this.#httpsAgent;
    return new HttpsAgent({
      keepAlive: true,
      scheduling: 'lifo',
      ...(tls.ca ? { ca: [...rootCertificates, ...tls.ca] } : {}),
      ...(tls.cert ? { cert: tls.cert } : {}),
      ...(tls.key ? { key: tls.key } : {}),
    });
  }
}

/**
 * Yields the chunks of `body`, failing with ERR_STALL_TIMEOUT (and destroying the body) when no chunk arrives for
 * `stallMs` while the reader is waiting for one. Time the reader spends elsewhere (backpressure) never counts.
 */
export async function* guardStall(res: HttpResponse, stallMs: number): AsyncGenerator<Buffer> {
  const it = (res.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const stall = (): void => {
    res.body.destroy(
      new RegistryError('ERR_STALL_TIMEOUT', `${res.method} ${redactUrl(res.url)}: no data for ${stallMs} ms`, {
        method: res.method,
        url: res.url,
        status: res.status,
        temporary: true,
      }),
    );
  };
  try {
    for (;;) {
      // Armed only while waiting on the network, so a slow consumer (backpressure) never trips it.
      const timer = setTimeout(stall, stallMs);
      let next: IteratorResult<Buffer>;
      try {
        next = await it.next();
      } finally {
        clearTimeout(timer);
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    if (!res.body.readableEnded) res.body.destroy();
  }
}

/** The error raised when a request fails before any HTTP answer because the input was wrong (a bad URL). */
export function badLocation(value: string, base: URL): never {
  throw newError('ERR_REGISTRY_PROTOCOL', `registry sent an unusable Location ${JSON.stringify(redactUrl(value))} (from ${redactUrl(base)})`);
}
