import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { NotFoundError, PermissionDeniedError, UnavailableError } from '../../../lib/errors/index.js';
import { loadHostTls } from '../../../lib/registry/certs.js';
import { codeForStatus, errorFromResponse, parseErrorBody, parseRetryAfter, RegistryError, redactUrl } from '../../../lib/registry/errors.js';
import { DEFAULT_PLAIN_HTTP_HOSTS, HostMatcher, isNoProxy } from '../../../lib/registry/host-match.js';
import { resolveClientOptions } from '../../../lib/registry/options.js';
import { parseLinkNext } from '../../../lib/registry/pagination.js';
import { backoffDelay, isRetryableRequest, resolveRetryPolicy, retryDelay } from '../../../lib/registry/retry.js';
import { KeyedLimiter } from '../../../lib/util/limiter.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

describe('registry: Link header parsing', () => {
  const cases: Array<[string | string[] | undefined, string | undefined]> = [
    ['</v2/r/tags/list?n=50&last=b>; rel="next"', '/v2/r/tags/list?n=50&last=b'],
    ['</v2/_catalog?last=x&n=2>; rel=next', '/v2/_catalog?last=x&n=2'],
    ['<https://a/prev>; rel="prev", <https://a/next>; rel="next"', 'https://a/next'],
    ['<https://a/x>; title="t"; rel="last next"', 'https://a/x'],
    ['<https://a/x>; rel="prev"', undefined],
    [['<https://a/p>; rel="prev"', '<https://a/n>; REL="Next"'], 'https://a/n'],
    ['garbage', undefined],
    [undefined, undefined],
  ];
  for (const [input, want] of cases) {
    it(`${JSON.stringify(input)} → ${String(want)}`, () => expect(parseLinkNext(input)).to.equal(want));
  }
});

describe('registry: retry policy', () => {
  const policy = resolveRetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000 });
  it('doubles the delay per retry, capped, with equal jitter', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy, () => 0))).to.deep.equal([50, 100, 200, 400, 500, 500]);
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy, () => 0.999999))).to.deep.equal([100, 200, 400, 800, 1000, 1000]);
  });
  it('honours Retry-After when longer, and gives up when it is too long', () => {
    expect(retryDelay(1, policy, 5000, () => 0)).to.equal(5000);
    expect(retryDelay(1, policy, 10, () => 0)).to.equal(50);
    expect(retryDelay(1, policy, policy.maxRetryAfterMs + 1, () => 0)).to.equal(undefined);
  });
  it('retries only idempotent requests with replayable bodies', () => {
    expect(isRetryableRequest('GET', true)).to.equal(true);
    expect(isRetryableRequest('PUT', true)).to.equal(true);
    expect(isRetryableRequest('PUT', false)).to.equal(false);
    expect(isRetryableRequest('POST', true)).to.equal(false);
    expect(isRetryableRequest('PATCH', true)).to.equal(false);
  });
  it('validates the policy', () => {
    expect(() => resolveRetryPolicy({ maxAttempts: 0 })).to.throw(/options\.retry\.maxAttempts/);
    expect(() => resolveRetryPolicy({ baseDelayMs: -1 })).to.throw(/baseDelayMs/);
    expect(resolveRetryPolicy({})).to.deep.equal({ maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 10000, maxRetryAfterMs: 60000 });
  });
  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).to.equal(7000);
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:30 GMT', now)).to.equal(30000);
    expect(parseRetryAfter('Sun, 31 Dec 2023 00:00:00 GMT', now)).to.equal(0);
    expect(parseRetryAfter('soon', now)).to.equal(undefined);
    expect(parseRetryAfter(undefined, now)).to.equal(undefined);
  });
});

describe('registry: error mapping', () => {
  const table: Array<[number, string | undefined, string]> = [
    [404, 'MANIFEST_UNKNOWN', 'ERR_REGISTRY_NOT_FOUND'],
    [404, 'BLOB_UNKNOWN', 'ERR_REGISTRY_NOT_FOUND'],
    [404, 'NAME_UNKNOWN', 'ERR_REGISTRY_NOT_FOUND'],
    [404, undefined, 'ERR_REGISTRY_NOT_FOUND'],
    [403, 'DENIED', 'ERR_REGISTRY_DENIED'],
    [401, 'UNAUTHORIZED', 'ERR_REGISTRY_UNAUTHORIZED'],
    [429, 'TOOMANYREQUESTS', 'ERR_REGISTRY_TOO_MANY_REQUESTS'],
    [405, 'UNSUPPORTED', 'ERR_REGISTRY_UNSUPPORTED'],
    [400, 'MANIFEST_INVALID', 'ERR_REGISTRY_INVALID'],
    [400, 'MANIFEST_BLOB_UNKNOWN', 'ERR_REGISTRY_INVALID'],
    [503, undefined, 'ERR_REGISTRY_UNAVAILABLE'],
    [418, undefined, 'ERR_REGISTRY_PROTOCOL'],
  ];
  for (const [status, registryCode, code] of table) {
    it(`${status} ${registryCode ?? '-'} → ${code}`, () => expect(codeForStatus(status, registryCode)).to.equal(code));
  }
  it('keeps the registry message, the temporary flag, categories, and redacts the URL', () => {
    const url = new URL('https://user:pw@r.example/v2/a/blobs/sha256:x?X-Amz-Signature=abc&n=5');
    const body = Buffer.from(JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down', detail: { x: 1 } }] }));
    const err = errorFromResponse({ status: 429, headers: { 'retry-after': '3' }, url, method: 'GET' }, body);
    expect(err).to.be.instanceOf(RegistryError).and.instanceOf(UnavailableError);
    expect(err).to.include({ code: 'ERR_REGISTRY_TOO_MANY_REQUESTS', status: 429, registryCode: 'TOOMANYREQUESTS', temporary: true, retryAfterMs: 3000 });
    expect(err.message).to.contain('slow down').and.not.contain('abc').and.not.contain('pw');
    expect(err.url).to.equal('https://r.example/v2/a/blobs/sha256:x?X-Amz-Signature=***&n=5');
    const nf = errorFromResponse({ status: 404, headers: {}, url, method: 'HEAD' }, undefined);
    expect(nf).to.be.instanceOf(NotFoundError);
    expect(nf.temporary).to.equal(false);
    expect(errorFromResponse({ status: 401, headers: {}, url, method: 'GET' }, undefined)).to.be.instanceOf(PermissionDeniedError);
    expect(new Error('x')).to.not.be.instanceOf(RegistryError);
  });
  it('parses error bodies defensively', () => {
    expect(parseErrorBody('not json')).to.deep.equal([]);
    expect(parseErrorBody('{"errors":[{"code":"DENIED","message":"no"},{"nocode":1},"x"]}')).to.deep.equal([{ code: 'DENIED', message: 'no' }]);
    expect(redactUrl('not a url?token=abc')).to.not.contain('abc');
  });
});

describe('registry: plain-HTTP and NO_PROXY host matching', () => {
  const plain = new HostMatcher(DEFAULT_PLAIN_HTTP_HOSTS);
  const cases: Array<[string, boolean]> = [
    ['localhost', true],
    ['localhost:5000', true],
    ['127.0.0.1:5000', true],
    ['127.8.9.10', true],
    ['[::1]:5000', true],
    ['::1', true],
    ['128.0.0.1:5000', false],
    ['registry.example.com', false],
    ['localhost.example.com', false],
  ];
  for (const [host, want] of cases) it(`default: ${host} → ${want}`, () => expect(plain.matches(host)).to.equal(want));
  it('matches configured names, name:port, IPs and CIDRs', () => {
    const m = new HostMatcher(['reg.local', 'other:5000', '10.0.0.0/8', '192.168.1.5']);
    expect(m.matches('reg.local:443')).to.equal(true);
    expect(m.matches('other:5000')).to.equal(true);
    expect(m.matches('other:5001')).to.equal(false);
    expect(m.matches('10.1.2.3:80')).to.equal(true);
    expect(m.matches('192.168.1.5:5000')).to.equal(true);
    expect(m.matches('192.168.1.6')).to.equal(false);
    expect(() => new HostMatcher(['10.0.0.0/33'])).to.throw(/invalid CIDR/);
    expect(() => new HostMatcher(['a b'])).to.throw(/invalid host/);
  });
  it('applies NO_PROXY like curl', () => {
    expect(isNoProxy('reg.example.com', 'example.com')).to.equal(true);
    expect(isNoProxy('reg.example.com', '.example.com')).to.equal(true);
    expect(isNoProxy('example.com:5000', 'example.com:5000')).to.equal(true);
    expect(isNoProxy('example.com:5001', 'example.com:5000')).to.equal(false);
    expect(isNoProxy('badexample.com', 'example.com')).to.equal(false);
    expect(isNoProxy('10.1.1.1:5000', 'localhost, 10.0.0.0/8')).to.equal(true);
    expect(isNoProxy('anything', '*')).to.equal(true);
    expect(isNoProxy('anything', undefined)).to.equal(false);
  });
});

describe('registry: certs.d loading', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir('certsd');
  });
  after(async () => removeTempDir(dir));
  it('reads every *.crt as a CA and a client.cert/client.key pair, per host[:port]', async () => {
    const host = join(dir, 'reg.example:5000');
    await mkdir(host, { recursive: true });
    await writeFile(join(host, 'ca.crt'), 'CA1');
    await writeFile(join(host, 'extra.crt'), 'CA2');
    await writeFile(join(host, 'client.cert'), 'CERT');
    await writeFile(join(host, 'client.key'), 'KEY');
    const tls = await loadHostTls(dir, 'reg.example:5000');
    expect(tls?.ca?.map(String)).to.deep.equal(['CA1', 'CA2']);
    expect(String(tls?.cert)).to.equal('CERT');
    expect(String(tls?.key)).to.equal('KEY');
    expect(await loadHostTls(dir, 'absent.example')).to.equal(undefined);
    expect(await loadHostTls(dir, '../etc')).to.equal(undefined);
  });
  it('refuses a client certificate without its key', async () => {
    const host = join(dir, 'half.example');
    await mkdir(host, { recursive: true });
    await writeFile(join(host, 'client.cert'), 'CERT');
    const err = await loadHostTls(dir, 'half.example').catch((e: unknown) => e as { code: string; message: string });
    expect(err).to.include({ code: 'ERR_INVALID_ARGUMENT' });
  });
});

describe('registry: options and the per-host limiter', () => {
  it('validates options before any work', () => {
    expect(() => resolveClientOptions({ connectTimeoutMs: 0 })).to.throw(/options\.connectTimeoutMs/);
    expect(() => resolveClientOptions({ plainHttpHosts: [''] })).to.throw(/options\.plainHttpHosts/);
    expect(() => resolveClientOptions({ proxy: { httpsProxy: 'http://[bad' } })).to.throw(/options\.proxy\.httpsProxy/);
    expect(() => resolveClientOptions({ auth: {} as never })).to.throw(/options\.auth/);
    const resolved = resolveClientOptions({ proxy: false });
    expect(resolved.transport).to.include({ connectTimeoutMs: 30000, stallTimeoutMs: 30000, maxConcurrencyPerHost: 8, certsDir: '/etc/docker/certs.d' });
  });
  it('holds at most max per key and hands slots over in order', async () => {
    const limiter = new KeyedLimiter(2);
    const a = await limiter.acquire('h');
    const b = await limiter.acquire('h');
    const order: string[] = [];
    const c = limiter.acquire('h').then((r) => (order.push('c'), r));
    const d = limiter.acquire('h').then((r) => (order.push('d'), r));
    const other = await limiter.acquire('other');
    expect(limiter.active('h')).to.equal(2);
    a();
    a();
    (await c)();
    b();
    (await d)();
    other();
    expect(order).to.deep.equal(['c', 'd']);
    expect(limiter.active('h')).to.equal(0);
    const controller = new AbortController();
    const x = await limiter.acquire('k');
    const y = await limiter.acquire('k');
    const waiting = limiter.acquire('k', controller.signal);
    controller.abort(new Error('gone'));
    expect(await waiting.catch((e: Error) => e.message)).to.equal('gone');
    x();
    y();
    expect(limiter.active('k')).to.equal(0);
  });
});
