import { newError } from '../errors/index.js';
import type { ClientContext } from './context.js';
import { guardStall, type HttpResponse } from './http.js';
import type { CallRequest, Endpoint } from './request.js';

/** The largest page body read (a tag list of 10,000 long tags stays well under it). */
const MAX_PAGE_BYTES = 8 * 1024 * 1024;

/**
 * The `rel="next"` target of an RFC 8288 `Link` header (`<url>; rel="next"`, possibly several links separated by
 * commas, `rel` quoted or not, among other parameters), or undefined.
 */
export function parseLinkNext(value: string | string[] | undefined): string | undefined {
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  for (const v of values) {
    const re = /<([^>]*)>((?:\s*;\s*[^;,]+)*)/g;
    for (let m = re.exec(v); m !== null; m = re.exec(v)) {
      const params = m[2]!
        .split(';')
        .map((p) => p.trim())
        .filter(Boolean);
      for (const param of params) {
        const eq = param.indexOf('=');
        if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'rel') continue;
        const rels = param
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, '')
          .toLowerCase()
          .split(/\s+/);
        if (rels.includes('next')) return m[1]!;
      }
    }
  }
  return undefined;
}

/** Reads a JSON page body (capped). */
export async function readJson(res: HttpResponse, stallMs: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of guardStall(res, stallMs)) {
    size += chunk.length;
    if (size > MAX_PAGE_BYTES) {
      res.body.destroy();
      throw newError('ERR_REGISTRY_PROTOCOL', `page from ${res.url.host} is larger than ${MAX_PAGE_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
  } catch (err) {
    throw newError('ERR_REGISTRY_PROTOCOL', `page from ${res.url.host} is not JSON`, { cause: err });
  }
}

/**
 * Follows `Link: <…>; rel="next"` from `first`, yielding the string array found under `key` in each page
 * (`tags` for tag lists, `repositories` for the catalog). A next link may be relative to the registry; it must
 * stay on the same host. Ends when a page has no next link, and quietly (after the pages already yielded) when
 * `signal` aborts: a listing is a stream the caller stops, not a result that fails (STYLE §16).
 * @throws RegistryErrors; ERR_REGISTRY_PROTOCOL for a malformed page or a next link to another host or a loop.
 */
export async function* paginate(
  ctx: ClientContext,
  endpoint: Endpoint,
  first: string,
  key: string,
  base: Pick<CallRequest, 'scopes' | 'what' | 'signal'>,
): AsyncGenerator<string[]> {
  let target: string | URL = first;
  const seen = new Set<string>();
  for (;;) {
    if (base.signal?.aborted) return;
    let res: HttpResponse;
    let doc: unknown;
    try {
      res = await ctx.session.call({ method: 'GET', endpoint, target, headers: { Accept: 'application/json' }, ...base });
      doc = await readJson(res, ctx.stallTimeoutMs);
    } catch (err) {
      if (base.signal?.aborted) return;
      throw err;
    }
    const list = (doc as Record<string, unknown> | null)?.[key];
    if (list !== null && list !== undefined && (!Array.isArray(list) || list.some((t) => typeof t !== 'string'))) {
      throw newError('ERR_REGISTRY_PROTOCOL', `page from ${res.url.host}: "${key}" is not a list of strings`);
    }
    yield (list ?? []) as string[];
    const next = parseLinkNext(res.headers['link']);
    if (next === undefined) return;
    const url = new URL(next, res.url);
    if (url.host !== res.url.host || seen.has(url.href)) throw newError('ERR_REGISTRY_PROTOCOL', `bad next page link ${JSON.stringify(next)}`);
    seen.add(url.href);
    target = url;
  }
}
