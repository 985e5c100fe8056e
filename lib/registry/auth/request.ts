import type { AxiosInstance } from 'axios';
import { isAbortError } from '../../errors/index.js';
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
 * used. Must resolve for every HTTP status, reject with `signal.reason` on abort and with an Error that holds no
 * credential otherwise.
 */
export type TokenRequestFunction = (url: string, request: AuthHttpRequest) => Promise<AuthHttpResponse>;

/** Options for {@link axiosTokenRequest}. */
export interface AxiosTokenRequestOptions {
  /** Whole-request timeout in ms. Default 30000. */
  timeoutMs?: number;
  /** Largest body accepted. Default 1 MiB (a token response is a few KiB). */
  maxBodyBytes?: number;
}

/**
 * The default {@link TokenRequestFunction}: axios (the given instance, or a new one) with a timeout, a body cap,
 * at most 3 redirects, and errors rebuilt without the request config (an AxiosError keeps the headers, with the
 * Authorization value, and the form body, with a password or refresh token).
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
        maxRedirects: 3,
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
