// RegistryClient against a fault-injecting fake registry: what the real docker-registry cannot be made to do.

import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { buffer } from 'node:stream/consumers';
import { expect } from 'chai';
import type { Descriptor } from '../../../lib/oci/descriptor.js';
import type { Digest } from '../../../lib/oci/digest.js';
import { RegistryError } from '../../../lib/registry/errors.js';
import { RegistryClient } from '../../../lib/registry/registry-client.js';
import type { RegistryAuth } from '../../../lib/registry/types.js';
import { rejection } from '../../fixtures/assert.js';
import { type FakeRegistry, sendBody, sendError, sha256, startFakeRegistry } from '../../fixtures/fake-registry.js';

const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';

function manifestBytes(tag: string): Buffer {
  const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('{}'), size: 2 };
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST_TYPE, config, layers: [], annotations: { tag } }));
}

function descOf(bytes: Buffer, mediaType = 'application/octet-stream'): Descriptor {
  return { mediaType, digest: sha256(bytes) as Digest, size: bytes.length };
}

/** Writes `total` bytes in 64 KiB pieces honouring backpressure; resolves with the bytes the socket accepted. */
async function writeSlowly(res: ServerResponse, total: number): Promise<number> {
  const piece = Buffer.alloc(64 * 1024, 0x20);
  let written = 0;
  while (written < total && !res.destroyed) {
    const ok = res.write(piece);
    written += piece.length;
    if (!ok) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  if (!res.destroyed) res.end();
  return written;
}

describe('registry: faults from a fake registry', function () {
  this.timeout(20_000);
  let fake: FakeRegistry;
  let other: FakeRegistry;
  let client: RegistryClient;
  let challenges = 0;
  const auth: RegistryAuth = {
    authorization: async () => 'Bearer secret-token',
    challenge: async () => {
      challenges++;
      return 'Bearer fresh-token';
    },
  };
  const blob = randomBytes(3 * 1024 * 1024 + 17);
  const blobDesc = descOf(blob);
  let repo: string;

  before(async () => {
    fake = await startFakeRegistry();
    other = await startFakeRegistry();
    repo = `${fake.host}/test/repo`;
  });
  after(async () => {
    client?.close();
    await fake?.stop();
    await other?.stop();
  });
  beforeEach(() => {
    fake.reset();
    other.reset();
    challenges = 0;
    client?.close();
    client = new RegistryClient({ auth, retry: { baseDelayMs: 1, maxDelayMs: 5 }, stallTimeoutMs: 300, maxResumes: 2 });
  });

  it('rejects blob bytes that do not match the digest, and the stream never ends cleanly', async () => {
    const wrong = Buffer.from(blob);
    wrong[wrong.length - 1]! ^= 1;
    fake.route('GET', `/v2/test/repo/blobs/${blobDesc.digest}`, (_req, res) => sendBody(res, 200, wrong));
    const stream = await client.fetchBlob(repo, blobDesc);
    const err = await rejection<RegistryError>(buffer(stream));
    expect(err.code).to.equal('ERR_DIGEST_MISMATCH');
    expect(stream.readableEnded).to.equal(false);
  });

  it('hands on bytes as they arrive on a slow link, so a crash loses little', async () => {
    const body = randomBytes(40 * 1024);
    const desc = descOf(body);
    fake.route('GET', `/v2/test/repo/blobs/${desc.digest}`, async (_req, res) => {
      res.writeHead(200, { 'Content-Length': body.length });
      // 4 KiB every 20 ms: 200 KiB/s, far below what fills a 1 MiB chunk within the flush delay.
      for (let at = 0; at < body.length && !res.destroyed; at += 4096) {
        res.write(body.subarray(at, at + 4096));
        await new Promise((r) => setTimeout(r, 20));
      }
      res.end();
    });
    const started = Date.now();
    const arrivals: Array<{ ms: number; bytes: number }> = [];
    for await (const chunk of await client.fetchBlob(repo, desc)) arrivals.push({ ms: Date.now() - started, bytes: (chunk as Buffer).length });
    expect(arrivals.reduce((n, a) => n + a.bytes, 0)).to.equal(body.length);
    // Gathered into one chunk, the whole 40 KiB would come at the end (~200 ms); as they arrive, several come earlier.
    expect(arrivals.length, JSON.stringify(arrivals)).to.be.at.least(2);
    expect(arrivals[0]!.bytes).to.be.lessThan(body.length);
    expect(arrivals[0]!.ms).to.be.lessThan(arrivals.at(-1)!.ms);
  });

  it('rejects a manifest whose digest differs from the one asked for, and a lying Docker-Content-Digest', async () => {
    const asked = manifestBytes('asked');
    const served = manifestBytes('served');
    fake.route('GET', `/v2/test/repo/manifests/${sha256(asked)}`, (_req, res) => sendBody(res, 200, served, { 'Content-Type': MANIFEST_TYPE }));
    fake.route('GET', '/v2/test/repo/manifests/v1', (_req, res) =>
      sendBody(res, 200, served, { 'Content-Type': MANIFEST_TYPE, 'Docker-Content-Digest': sha256(asked) }),
    );
    expect((await rejection<RegistryError>(client.fetchManifest(`${repo}@${sha256(asked)}`))).code).to.equal('ERR_DIGEST_MISMATCH');
    expect((await rejection<RegistryError>(client.fetchManifest(`${repo}:v1`))).code).to.equal('ERR_DIGEST_MISMATCH');
  });

  it('never hands on more bytes than the descriptor size, whatever Content-Length says', async () => {
    // Content-Length below the descriptor's size: refused before the body is read.
    fake.route('GET', `/v2/test/repo/blobs/${blobDesc.digest}`, (_req, res) => sendBody(res, 200, blob, { 'Content-Length': 10 }));
    expect((await rejection<RegistryError>(client.fetchBlob(repo, blobDesc))).code).to.equal('ERR_SIZE_MISMATCH');
    // A body longer than its Content-Length: the extra bytes are never part of the blob.
    fake.reset();
    const extra = Buffer.from('garbage after the declared length');
    fake.route('GET', `/v2/test/repo/blobs/${blobDesc.digest}`, (_req, res) => {
      const socket = res.socket!;
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${blob.length}\r\nContent-Type: application/octet-stream\r\n\r\n`);
      socket.write(blob);
      socket.end(extra);
    });
    const got = await buffer(await client.fetchBlob(repo, blobDesc));
    expect(got.equals(blob)).to.equal(true);
    // A descriptor smaller than what the registry holds: more bytes than expected is a size mismatch.
    const small = { ...blobDesc, size: blob.length - 1 };
    fake.reset();
    fake.route('GET', `/v2/test/repo/blobs/${blobDesc.digest}`, (_req, res) => {
      res.writeHead(200, { 'Transfer-Encoding': 'chunked' });
      res.end(blob);
    });
    expect((await rejection<RegistryError>(buffer(await client.fetchBlob(repo, small)))).code).to.equal('ERR_SIZE_MISMATCH');
  });

  it('retries a 500 and succeeds', async () => {
    const body = manifestBytes('retry');
    fake.route('GET', '/v2/test/repo/manifests/v1', (_req, res, n) =>
      n === 1 ? sendError(res, 500, 'UNKNOWN', 'try again') : sendBody(res, 200, body, { 'Content-Type': MANIFEST_TYPE }),
    );
    const fetched = await client.fetchManifest(`${repo}:v1`);
    expect(fetched.bytes.equals(body)).to.equal(true);
    expect(fake.matching('GET', '/v2/test/repo/manifests/v1')).to.have.length(2);
  });

  it('gives up on 500 forever with the last error, after maxAttempts', async () => {
    fake.route('GET', '/v2/test/repo/manifests/v1', (_req, res, n) => sendError(res, 500, 'UNKNOWN', `failure number ${n}`));
    const err = await rejection<RegistryError>(client.fetchManifest(`${repo}:v1`));
    expect(err).to.be.instanceOf(RegistryError);
    expect(err.code).to.equal('ERR_REGISTRY_UNAVAILABLE');
    expect(err.status).to.equal(500);
    expect(err.temporary).to.equal(true);
    expect(err.message).to.contain('failure number 4');
    expect(fake.matching('GET', '/v2/test/repo/manifests/v1')).to.have.length(4);
  });

  it('fires the stall timeout when a body stops mid-way', async () => {
    fake.route('GET', `/v2/test/repo/blobs/${blobDesc.digest}`, (_req, res) => {
      res.writeHead(200, { 'Content-Length': blob.length });
      res.write(blob.subarray(0, 1024 * 1024));
      // …and nothing more, never ending.
    });
    const started = Date.now();
    const err = await rejection<RegistryError>(client.fetchBlob(repo, blobDesc).then(buffer));
    expect(err.code).to.equal('ERR_STALL_TIMEOUT');
    // One stall per attempt: the first response and each of the 2 resumes.
    expect(Date.now() - started).to.be.within(850, 5000);
    expect(fake.matching('GET', `/v2/test/repo/blobs/${blobDesc.digest}`)).to.have.length(3);
  });

  it('fails a request whose response headers do not come within connectTimeoutMs with ERR_DEADLINE_EXCEEDED', async () => {
    const slow = new RegistryClient({ auth, connectTimeoutMs: 200, retry: { maxAttempts: 1 } });
    try {
      fake.route('GET', '/v2/test/repo/manifests/v1', () => undefined); // never answers
      const started = Date.now();
      const err = await rejection<RegistryError>(slow.fetchManifest(`${repo}:v1`));
      expect(err).to.be.instanceOf(RegistryError);
      expect(err.code).to.equal('ERR_DEADLINE_EXCEEDED');
      expect(err.category).to.equal('Unavailable');
      expect(err.temporary).to.equal(true);
      expect(err.details).to.include({ transport: 'http', timeoutMs: 200, method: 'GET' });
      expect(Date.now() - started).to.be.within(150, 3000);
    } finally {
      slow.close();
    }
  });

  it('stops a redirect loop and a redirect chain longer than 5 with ERR_REDIRECT_LIMIT', async () => {
    fake.route('GET', `/v2/test/repo/blobs/${blobDesc.digest}`, (_req, res) => sendBody(res, 307, '', { Location: '/loop/a' }));
    fake.route('GET', '/loop/a', (_req, res) => sendBody(res, 307, '', { Location: '/loop/b' }));
    fake.route('GET', '/loop/b', (_req, res) => sendBody(res, 307, '', { Location: '/loop/a' }));
    expect((await rejection<RegistryError>(client.fetchBlob(repo, blobDesc))).code).to.equal('ERR_REDIRECT_LIMIT');
    fake.reset();
    fake.route('GET', `/v2/test/repo/blobs/${blobDesc.digest}`, (_req, res) => sendBody(res, 307, '', { Location: '/chain/1' }));
    fake.route('GET', /^\/chain\/\d+$/, (req, res) => sendBody(res, 302, '', { Location: `/chain/${Number(req.url!.split('/')[2]) + 1}` }));
    expect((await rejection<RegistryError>(client.fetchBlob(repo, blobDesc))).code).to.equal('ERR_REDIRECT_LIMIT');
    expect(fake.matching('GET', /^\/chain\//)).to.have.length(5);
  });

  it('follows a redirect to another host without sending it the Authorization header', async () => {
    fake.route('GET', `/v2/test/repo/blobs/${blobDesc.digest}`, (_req, res) =>
      sendBody(res, 307, '', { Location: `http://${other.host}/storage/blob?X-Amz-Signature=s3cr3t` }),
    );
    other.route('GET', '/storage/blob', (_req, res) => sendBody(res, 200, blob));
    const got = await buffer(await client.fetchBlob(repo, blobDesc));
    expect(got.equals(blob)).to.equal(true);
    expect(fake.requests[0]!.headers.authorization).to.equal('Bearer secret-token');
    expect(other.requests).to.have.length(1);
    expect(other.requests[0]!.headers).to.not.have.property('authorization');
  });

  it('refuses a 4 MiB+ manifest without reading it all (Content-Length, and chunked)', async () => {
    const total = 64 * 1024 * 1024;
    const written: number[] = [];
    fake.route('GET', '/v2/test/repo/manifests/big', async (_req, res) => {
      res.writeHead(200, { 'Content-Type': MANIFEST_TYPE, 'Content-Length': total });
      written.push(await writeSlowly(res, total));
    });
    fake.route('GET', '/v2/test/repo/manifests/chunked', async (_req, res) => {
      res.writeHead(200, { 'Content-Type': MANIFEST_TYPE });
      written.push(await writeSlowly(res, total));
    });
    expect((await rejection<RegistryError>(client.fetchManifest(`${repo}:big`))).code).to.equal('ERR_MANIFEST_TOO_LARGE');
    expect((await rejection<RegistryError>(client.fetchManifest(`${repo}:chunked`))).code).to.equal('ERR_MANIFEST_TOO_LARGE');
    for (let i = 0; i < 100 && written.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(written).to.have.length(2);
    // The server saw the connection close long before it had written everything.
    for (const n of written) expect(n).to.be.below(total / 2);
  });

  it('resumes with Range after the connection drops mid-blob (206), and restarts on a 200', async () => {
    const cut = 1_500_000;
    fake.route('GET', `/v2/test/repo/blobs/${blobDesc.digest}`, (req, res, n) => {
      if (n === 1) {
        res.writeHead(200, { 'Content-Length': blob.length, ETag: '"blob-etag"' });
        res.write(blob.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 50));
        return;
      }
      const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 'NaN');
      res.writeHead(206, { 'Content-Length': blob.length - start, 'Content-Range': `bytes ${start}-${blob.length - 1}/${blob.length}` });
      res.end(blob.subarray(start));
    });
    const got = await buffer(await client.fetchBlob(repo, blobDesc));
    expect(got.equals(blob)).to.equal(true);
    const gets = fake.matching('GET', `/v2/test/repo/blobs/${blobDesc.digest}`);
    expect(gets).to.have.length(2);
    expect(gets[0]!.headers.range).to.equal(undefined);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(gets[1]!.headers.range ?? '')?.[1]);
    expect(resumedAt).to.be.above(0).and.at.most(cut);
    expect(gets[1]!.headers['if-range']).to.equal('"blob-etag"');

    fake.reset();
    fake.route('GET', `/v2/test/repo/blobs/${blobDesc.digest}`, (_req, res, n) => {
      res.writeHead(200, { 'Content-Length': blob.length });
      if (n === 1) res.write(blob.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 50));
      else res.end(blob);
    });
    expect((await buffer(await client.fetchBlob(repo, blobDesc))).equals(blob)).to.equal(true);
    expect(fake.matching('GET', `/v2/test/repo/blobs/${blobDesc.digest}`)[1]!.headers.range).to.match(/^bytes=\d+-$/);
  });

  it('lists referrers through the OCI 1.1 API, filtered by artifactType', async () => {
    const subject = sha256('subject');
    const sig = { mediaType: MANIFEST_TYPE, digest: sha256('sig'), size: 3, artifactType: 'application/vnd.example.sig' };
    const sbom = { mediaType: MANIFEST_TYPE, digest: sha256('sbom'), size: 4, artifactType: 'application/vnd.example.sbom' };
    fake.route('GET', `/v2/test/repo/referrers/${subject}`, (_req, res) =>
      sendBody(res, 200, JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPE, manifests: [sig, sbom] }), { 'Content-Type': INDEX_TYPE }),
    );
    expect((await client.referrers(repo, subject)).map((d) => d.digest)).to.deep.equal([sig.digest, sbom.digest]);
    expect((await client.referrers(repo, subject, { artifactType: sbom.artifactType })).map((d) => d.digest)).to.deep.equal([sbom.digest]);
    expect(fake.matching('GET', `/v2/test/repo/referrers/${subject}`).at(-1)!.url).to.contain('artifactType=application%2Fvnd.example.sbom');
  });

  it('falls back to the referrers tag schema when the API answers 404, and finds none when neither exists', async () => {
    const subject = sha256('subject');
    const sig = { mediaType: MANIFEST_TYPE, digest: sha256('sig'), size: 3, artifactType: 'application/vnd.example.sig' };
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPE, manifests: [sig] }));
    const tag = `sha256-${subject.slice('sha256:'.length)}`;
    fake.route('GET', `/v2/test/repo/manifests/${tag}`, (_req, res) => sendBody(res, 200, index, { 'Content-Type': INDEX_TYPE }));
    expect((await client.referrers(repo, subject)).map((d) => d.digest)).to.deep.equal([sig.digest]);
    expect(fake.matching('GET', `/v2/test/repo/referrers/${subject}`)).to.have.length(1);
    fake.reset();
    expect(await client.referrers(repo, subject)).to.deep.equal([]);
  });

  it('waits for Retry-After on 429, and fails at once when it asks for too long', async () => {
    const body = manifestBytes('429');
    fake.route('GET', '/v2/test/repo/manifests/v1', (_req, res, n) =>
      n === 1 ? sendError(res, 429, 'TOOMANYREQUESTS', 'slow down', { 'Retry-After': '1' }) : sendBody(res, 200, body, { 'Content-Type': MANIFEST_TYPE }),
    );
    const started = Date.now();
    await client.fetchManifest(`${repo}:v1`);
    expect(Date.now() - started).to.be.at.least(950);
    fake.reset();
    fake.route('GET', '/v2/test/repo/manifests/v1', (_req, res) => sendError(res, 429, 'TOOMANYREQUESTS', 'come back in an hour', { 'Retry-After': '3600' }));
    const err = await rejection<RegistryError>(client.fetchManifest(`${repo}:v1`));
    expect(err.code).to.equal('ERR_REGISTRY_TOO_MANY_REQUESTS');
    expect(err.registryCode).to.equal('TOOMANYREQUESTS');
    expect(err.retryAfterMs).to.equal(3_600_000);
    expect(err.message).to.contain('come back in an hour');
    expect(fake.requests).to.have.length(1);
  });

  it('gives up on a 401 that never ends after one fresh try', async () => {
    fake.route('GET', '/v2/test/repo/manifests/v1', (_req, res) => sendError(res, 401, 'UNAUTHORIZED', 'nope', { 'WWW-Authenticate': 'Bearer realm="x"' }));
    const err = await rejection<RegistryError>(client.fetchManifest(`${repo}:v1`));
    expect(err.code).to.equal('ERR_REGISTRY_UNAUTHORIZED');
    expect(err.message).to.not.contain('secret-token').and.not.contain('fresh-token');
    expect(challenges).to.equal(1);
    const seen = fake.requests.map((r) => r.headers.authorization);
    expect(seen).to.deep.equal(['Bearer secret-token', 'Bearer fresh-token']);
  });

  it('fetches a foreign layer from its urls only when the host is allowed', async () => {
    const foreign = { ...blobDesc, mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', urls: [`http://${other.host}/layer`] };
    other.route('GET', '/layer', (_req, res) => sendBody(res, 200, blob));
    expect((await rejection<RegistryError>(client.fetchBlob(repo, foreign))).code).to.equal('ERR_FOREIGN_LAYER_DENIED');
    expect(other.requests).to.have.length(0);
    const allowing = new RegistryClient({ auth, allowedForeignHosts: [other.host] });
    try {
      expect((await buffer(await allowing.fetchBlob(repo, foreign))).equals(blob)).to.equal(true);
      expect(other.requests).to.have.length(1);
      expect(other.requests[0]!.headers).to.not.have.property('authorization');
    } finally {
      allowing.close();
    }
  });

  it('paginates tags by the Link header', async () => {
    const all = Array.from({ length: 7 }, (_, i) => `t${i}`);
    fake.route('GET', '/v2/test/repo/tags/list', (req, res) => {
      const url = new URL(req.url!, 'http://x');
      const n = Number(url.searchParams.get('n'));
      const last = url.searchParams.get('last');
      const start = last === null ? 0 : all.indexOf(last) + 1;
      const page = all.slice(start, start + n);
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (start + n < all.length) headers['Link'] = `</v2/test/repo/tags/list?n=${n}&last=${page.at(-1)}>; rel="next"`;
      sendBody(res, 200, JSON.stringify({ name: 'test/repo', tags: page }), headers);
    });
    const got: string[] = [];
    for await (const tag of client.tags(repo, { pageSize: 3 })) got.push(tag);
    expect(got).to.deep.equal(all);
    expect(fake.matching('GET', '/v2/test/repo/tags/list')).to.have.length(3);
  });

  it('ends a tag listing quietly on abort: between pages, and with an already-aborted signal before any request', async () => {
    const all = Array.from({ length: 7 }, (_, i) => `t${i}`);
    fake.route('GET', '/v2/test/repo/tags/list', (req, res) => {
      const last = new URL(req.url!, 'http://x').searchParams.get('last');
      const start = last === null ? 0 : all.indexOf(last) + 1;
      const page = all.slice(start, start + 3);
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (start + 3 < all.length) headers['Link'] = `</v2/test/repo/tags/list?n=3&last=${page.at(-1)}>; rel="next"`;
      sendBody(res, 200, JSON.stringify({ name: 'test/repo', tags: page }), headers);
    });
    const controller = new AbortController();
    const got: string[] = [];
    for await (const tag of client.tags(repo, { pageSize: 3, signal: controller.signal })) {
      got.push(tag);
      if (got.length === 4) controller.abort(new Error('enough'));
    }
    // The second page was already read when the abort came: its names are yielded, no third page is asked for.
    expect(got).to.deep.equal(['t0', 't1', 't2', 't3', 't4', 't5']);
    expect(fake.matching('GET', '/v2/test/repo/tags/list')).to.have.length(2);

    fake.reset();
    const none: string[] = [];
    for await (const name of client.catalog(fake.host, { signal: AbortSignal.abort(new Error('before')) })) none.push(name);
    for await (const tag of client.tags(repo, { signal: AbortSignal.abort(new Error('before')) })) none.push(tag);
    expect(none).to.deep.equal([]);
    expect(fake.requests).to.have.length(0);
  });

  it('rejects with the reason of an already-aborted signal without sending anything', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const err = await rejection<RegistryError>(client.resolve(`${repo}:v1`, { signal: controller.signal }));
    expect((err as Error).message).to.equal('stop');
    expect(fake.requests).to.have.length(0);
  });
});
