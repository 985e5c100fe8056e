import type { Readable } from 'node:stream';
import { ContainerkitError, ERROR_CODES, type ErrorCode } from '../errors/index.js';
import { redact, scrubSecrets } from '../util/debug.js';
import { escapeControl } from '../util/escape-control.js';

// Error bodies are read only this far: a hostile or broken registry cannot make us buffer an unbounded error page.
const MAX_ERROR_BODY = 64 * 1024;
const BRAND = Symbol.for('containerkit.registry-error');
// Query parameters that carry no secret and help a reader of the error; every other value is masked.
const SAFE_QUERY = new Set(['n', 'last', 'mount', 'from', 'digest', 'artifactType']);

/** One entry of a distribution error body: `{"errors":[{"code","message","detail"}]}`. */
export interface DistributionError {
  code: string;
  message: string;
  detail?: unknown;
}

/** What a {@link RegistryError} carries besides the message. */
export interface RegistryErrorInit {
  /** HTTP status, when the registry answered. */
  status?: number;
  method?: string;
  /** The request URL; stored redacted. */
  url?: string | URL;
  errors?: DistributionError[];
  /** Whether a retry (later, unchanged) could help. */
  temporary: boolean;
  /** Delay asked for by Retry-After, in ms. */
  retryAfterMs?: number;
  cause?: unknown;
  /** More `details` (e.g. a deadline's `transport` and `timeoutMs`). */
  details?: Record<string, unknown>;
}

/**
 * A failure reported by (or while talking to) a registry. Keeps the HTTP status, the distribution error codes and
 * messages from the body, the redacted URL, and {@link RegistryError.temporary}: whether retrying could help.
 * Its `code` is one of ERR_REGISTRY_* (and ERR_STALL_TIMEOUT, ERR_DEADLINE_EXCEEDED, ERR_REDIRECT_LIMIT), so
 * `instanceof NotFoundError` and friends work as for every containerkit error.
 */
export class RegistryError extends ContainerkitError {
  readonly status: number | undefined;
  readonly method: string | undefined;
  /** The request URL with credentials and signed query values masked. */
  readonly url: string | undefined;
  /** The distribution error entries of the body (may be empty). */
  readonly errors: readonly DistributionError[];
  /** The first distribution error code (`MANIFEST_UNKNOWN`, `DENIED`…), when the body had one. */
  readonly registryCode: string | undefined;
  readonly temporary: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, init: RegistryErrorInit) {
    const url = init.url === undefined ? undefined : redactUrl(init.url);
    const errors = init.errors ?? [];
    super(code, redact(message), {
      cause: init.cause,
      details: {
        ...init.details,
        status: init.status,
        method: init.method,
        url,
        registryCode: errors[0]?.code,
        temporary: init.temporary,
        ...(init.retryAfterMs === undefined ? {} : { retryAfterMs: init.retryAfterMs }),
      },
    });
    this.status = init.status;
    this.method = init.method;
    this.url = url;
    this.errors = errors;
    this.registryCode = errors[0]?.code;
    this.temporary = init.temporary;
    this.retryAfterMs = init.retryAfterMs;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** Whether `err` is a {@link RegistryError} a retry could help. */
export function isTemporaryError(err: unknown): boolean {
  return err instanceof RegistryError && err.temporary;
}

/** The URL without userinfo, and with every query value masked except a few harmless ones. */
export function redactUrl(value: string | URL): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    return redact(String(value));
  }
  url.username = '';
  url.password = '';
  for (const key of [...url.searchParams.keys()]) {
    if (!SAFE_QUERY.has(key)) url.searchParams.set(key, '***');
  }
  return redact(url.toString());
}

/** Statuses a retry may fix: request timeout, rate limit, and server-side failures other than "not implemented". */
export function isTemporaryStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

const NOT_FOUND_CODES = new Set(['NAME_UNKNOWN', 'MANIFEST_UNKNOWN', 'BLOB_UNKNOWN', 'BLOB_UPLOAD_UNKNOWN']);
const INVALID_CODES = new Set([
  'BLOB_UPLOAD_INVALID',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNVERIFIED',
  'NAME_INVALID',
  'SIZE_INVALID',
  'TAG_INVALID',
  'PAGINATION_NUMBER_INVALID',
  'RANGE_INVALID',
]);

/** The error code for a registry answer with this status and first distribution code. */
export function codeForStatus(status: number, registryCode: string | undefined): ErrorCode {
  if (registryCode === 'UNAUTHORIZED' || status === 401) return 'ERR_REGISTRY_UNAUTHORIZED';
  if (registryCode === 'DENIED' || status === 403) return 'ERR_REGISTRY_DENIED';
  if (registryCode === 'TOOMANYREQUESTS' || status === 429) return 'ERR_REGISTRY_TOO_MANY_REQUESTS';
  if (registryCode === 'UNSUPPORTED' || status === 405 || status === 501) return 'ERR_REGISTRY_UNSUPPORTED';
  if ((registryCode !== undefined && NOT_FOUND_CODES.has(registryCode)) || status === 404) return 'ERR_REGISTRY_NOT_FOUND';
  if ((registryCode !== undefined && INVALID_CODES.has(registryCode)) || status === 400 || status === 416) return 'ERR_REGISTRY_INVALID';
  if (registryCode === 'UNAVAILABLE' || isTemporaryStatus(status)) return 'ERR_REGISTRY_UNAVAILABLE';
  return 'ERR_REGISTRY_PROTOCOL';
}

/** Parses a distribution error body; entries that are not `{code: string}` objects are dropped. */
export function parseErrorBody(body: Buffer | string): DistributionError[] {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return [];
  }
  const list = (doc as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(list)) return [];
  return list
    .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string')
    .map((e) => ({
      code: e['code'] as string,
      message: typeof e['message'] === 'string' ? e['message'] : '',
      ...(e['detail'] === undefined ? {} : { detail: e['detail'] }),
    }));
}

/**
 * Parses `Retry-After` (delay-seconds or an HTTP date) into milliseconds from `now`; undefined when absent or
 * malformed. A date in the past gives 0.
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const when = Date.parse(text);
  return Number.isNaN(when) ? undefined : Math.max(0, when - now);
}

/** Reads at most 64 KiB of `body` and drops the rest (destroying the stream past the cap). */
export async function readCapped(body: Readable, cap = MAX_ERROR_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= cap) {
        body.destroy();
        break;
      }
    }
  } catch {
    // A broken error body still leaves the status to report.
  }
  return Buffer.concat(chunks).subarray(0, cap);
}

/** Minimal view of an HTTP answer, enough to build an error from it. */
export interface ErrorResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  url: URL;
  method: string;
}

/**
 * What an `Authorization` value holds that a server might echo: a Basic value's Base64 and its decoded
 * `user:password` and password (the username alone is no secret), a Bearer (or other) value's credential.
 */
export function authorizationSecrets(authorization: string): string[] {
  const space = authorization.indexOf(' ');
  const credential = space < 0 ? authorization : authorization.slice(space + 1).trim();
  if (credential === '') return [];
  if (authorization.slice(0, space).toLowerCase() !== 'basic') return [credential];
  const pair = Buffer.from(credential, 'base64').toString('utf8');
  const colon = pair.indexOf(':');
  return colon < 0 ? [credential, pair] : [credential, pair, pair.slice(colon + 1)].filter((s) => s !== '');
}

function scrubEntry(entry: DistributionError, secrets: readonly string[]): DistributionError {
  const message = scrubSecrets(entry.message, secrets);
  if (entry.detail === undefined) return { code: entry.code, message };
  let detail: unknown = entry.detail;
  try {
    detail = JSON.parse(scrubSecrets(JSON.stringify(entry.detail), secrets));
  } catch {
    detail = '***';
  }
  return { code: entry.code, message, detail };
}

/**
 * Builds the {@link RegistryError} for a non-success answer, given its (capped) body. `secrets` (the credentials
 * the request carried, see {@link authorizationSecrets}) are scrubbed from every text the registry chose, in any
 * encoding it might echo them in.
 */
export function errorFromResponse(res: ErrorResponse, body: Buffer | undefined, what?: string, secrets: readonly string[] = []): RegistryError {
  const errors = (body === undefined ? [] : parseErrorBody(body)).map((e) => scrubEntry(e, secrets));
  const code = codeForStatus(res.status, errors[0]?.code);
  const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
  // The registry's own words, with control characters escaped: whoever prints the message prints them on a terminal.
  const said = escapeControl(errors.map((e) => `${e.code}: ${e.message}`).join('; '));
  const message = `${what ?? `${res.method} ${redactUrl(res.url)}`}: HTTP ${res.status}${said === '' ? '' : ` (${said})`}`;
  const temporary = isTemporaryStatus(res.status) || errors.some((e) => e.code === 'TOOMANYREQUESTS' || e.code === 'UNAVAILABLE');
  return new RegistryError(code, message, { status: res.status, method: res.method, url: res.url, errors, temporary, retryAfterMs });
}

/** A RegistryError for a failure without an HTTP answer (connection refused, reset, DNS). Always temporary. */
export function networkError(method: string, url: URL, cause: unknown): RegistryError {
  const reason = (cause as { code?: string } | undefined)?.code ?? (cause as Error | undefined)?.message ?? String(cause);
  return new RegistryError('ERR_REGISTRY_UNAVAILABLE', `${method} ${redactUrl(url)}: ${reason}`, { method, url, temporary: true, cause });
}

/** Every code a RegistryError may carry, for documentation and tests. */
export const REGISTRY_ERROR_CODES: readonly ErrorCode[] = (Object.keys(ERROR_CODES) as ErrorCode[]).filter(
  (c) => c.startsWith('ERR_REGISTRY_') || c === 'ERR_STALL_TIMEOUT' || c === 'ERR_DEADLINE_EXCEEDED' || c === 'ERR_REDIRECT_LIMIT',
);
