// Credentials go only where they belong: the registry's own origin, the token realm. Hostile registries and token
// servers are fakes (an https one too); the real docker-registry with htpasswd checks that honest pushes still work.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expect } from 'chai';
import type { Descriptor } from '../../../lib/oci/descriptor.js';
import type { Digest } from '../../../lib/oci/digest.js';
import { StaticCredentials } from '../../../lib/registry/auth/credentials.js';
import { RegistryClient } from '../../../lib/registry/registry-client.js';
import type { RegistryAuth } from '../../../lib/registry/types.js';
import { codedRejection } from '../../fixtures/assert.js';
import { type FakeRegistry, sendBody, sendError, sha256, startFakeRegistry } from '../../fixtures/fake-registry.js';
import { type RegistryFixture, startRegistry } from '../../fixtures/registry.js';
import { type SelfSignedCert, selfSignedCert } from '../../fixtures/tls.js';

const USER = 'alice';
const PASSWORD = 'pa55/w+rd=!';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const REFRESH = 'r3fresh/t0k+en=';

/** Answers once the request body has been read (a PUT or PATCH upload). */
function afterBody(req: IncomingMessage, answer: () => void): void {
  req.resume();
  req.once('end', answer);
}

/** Every encoded form a leak could take, for the assertions. */
function leakForms(...secrets: string[]): string[] {
  return secrets.flatMap((s) => [
    s,
    encodeURIComponent(s),
    new URLSearchParams({ s }).toString().slice(2),
    Buffer.from(s).toString('base64'),
    Buffer.from(s).toString('base64url'),
  ]);
}

function expectNoLeak(text: string, ...secrets: string[]): void {
  for (const form of leakForms(...secrets)) expect(text, `leaks ${form}`).to.not.contain(form);
}

describe('registry: credentials go only where they belong', function () {
  this.timeout(30_000);
  let fake: FakeRegistry;
  let other: FakeRegistry;
  let thief: FakeRegistry;
  let cert: SelfSignedCert;
  let secure: FakeRegistry;
  const blob = randomBytes(64 * 1024 + 3);
  const desc: Descriptor = { mediaType: 'application/octet-stream', digest: sha256(blob) as Digest, size: blob.length };
  const auth: RegistryAuth = { authorization: async () => BASIC, challenge: async () => undefined };
  const clients: RegistryClient[] = [];
  const newClient = (...args: ConstructorParameters<typeof RegistryClient>): RegistryClient => {
    const client = new RegistryClient(...args);
    clients.push(client);
    return client;
  };

  before(async () => {
    fake = await startFakeRegistry();
    other = await startFakeRegistry();
    thief = await startFakeRegistry();
    cert = await selfSignedCert();
    secure = await startFakeRegistry({ tls: cert });
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const f of [fake, other, thief, secure]) await f?.stop();
  });
  beforeEach(() => {
    for (const f of [fake, other, thief, secure]) f.reset();
  });

  it('an upload Location on another port gets no Authorization, monolithic or chunked; the registry itself does', async () => {
    const client = newClient({ auth, retry: { baseDelayMs: 1 } });
    fake.route('POST', '/v2/test/repo/blobs/uploads/', (_req, res) => sendBody(res, 202, '', { Location: `http://${other.host}/upload/1` }));
    other.route('PATCH', /^\/upload\/\d+$/, (req, res, n) => afterBody(req, () => sendBody(res, 202, '', { Location: `/upload/${n + 1}` })));
    other.route('PUT', /^\/upload\/\d+$/, (req, res) => afterBody(req, () => sendBody(res, 201, '', { 'Docker-Content-Digest': desc.digest })));
    expect(await client.pushBlob(`${fake.host}/test/repo`, desc, blob)).to.equal('uploaded');
    expect(await client.pushBlob(`${fake.host}/test/repo`, desc, blob, { chunkSize: 16 * 1024 })).to.equal('uploaded');
    // The registry's own requests carried the credentials; the listener on the other port never saw them.
    expect(fake.matching('POST', '/v2/test/repo/blobs/uploads/').map((r) => r.headers.authorization)).to.deep.equal([BASIC, BASIC]);
    expect(other.requests.map((r) => r.method)).to.deep.equal(['PUT', 'PATCH', 'PATCH', 'PATCH', 'PATCH', 'PATCH', 'PUT']);
    expect(other.requests.map((r) => r.headers.authorization)).to.deep.equal(other.requests.map(() => undefined));

    // A Location on the registry's own origin (absolute, as docker-registry sends it) keeps them.
    fake.reset();
    fake.route('POST', '/v2/test/repo/blobs/uploads/', (_req, res) =>
      sendBody(res, 202, '', { Location: `http://${fake.host}/v2/test/repo/blobs/uploads/u1` }),
    );
    fake.route('PUT', '/v2/test/repo/blobs/uploads/u1', (req, res) => afterBody(req, () => sendBody(res, 201, '')));
    expect(await client.pushBlob(`${fake.host}/test/repo`, desc, blob)).to.equal('uploaded');
    expect(fake.matching('PUT', '/v2/test/repo/blobs/uploads/u1')[0]!.headers.authorization).to.equal(BASIC);
  });

  it('an https registry cannot send an upload, or a redirect, to plain http: ERR_INSECURE_REDIRECT, nothing sent there', async () => {
    const client = newClient({ auth, plainHttpHosts: [], certsDir: false, tls: { [secure.host]: { ca: [cert.cert] } }, retry: { baseDelayMs: 1 } });
    // The TLS set-up works: an honest answer comes through.
    secure.route('GET', '/v2/test/repo/tags/list', (_req, res) => sendBody(res, 200, JSON.stringify({ name: 'test/repo', tags: ['a'] })));
    const tags: string[] = [];
    for await (const t of client.tags(`${secure.host}/test/repo`)) tags.push(t);
    expect(tags).to.deep.equal(['a']);

    secure.route('POST', '/v2/test/repo/blobs/uploads/', (_req, res) => sendBody(res, 202, '', { Location: `http://${other.host}/upload/1` }));
    other.route('PUT', '/upload/1', (req, res) => afterBody(req, () => sendBody(res, 201, '')));
    const err = await codedRejection(client.pushBlob(`${secure.host}/test/repo`, desc, blob));
    expect(err.code).to.equal('ERR_INSECURE_REDIRECT');
    secure.route('GET', `/v2/test/repo/blobs/${desc.digest}`, (_req, res) => sendBody(res, 307, '', { Location: `http://${other.host}/storage/blob` }));
    other.route('GET', '/storage/blob', (_req, res) => sendBody(res, 200, blob));
    expect((await codedRejection(client.fetchBlob(`${secure.host}/test/repo`, desc))).code).to.equal('ERR_INSECURE_REDIRECT');
    expect(other.requests).to.deep.equal([]);
  });

  describe('a token realm that redirects to another host', () => {
    let realm: FakeRegistry;
    before(async () => {
      realm = await startFakeRegistry();
    });
    after(async () => {
      await realm?.stop();
    });
    beforeEach(() => {
      realm.reset();
      fake.route('GET', '/v2/test/repo/tags/list', (req, res) =>
        req.headers.authorization === 'Bearer good'
          ? sendBody(res, 200, JSON.stringify({ name: 'test/repo', tags: ['t'] }))
          : sendError(res, 401, 'UNAUTHORIZED', 'token needed', { 'WWW-Authenticate': `Bearer realm="http://${realm.host}/token",service="fake"` }),
      );
      // Whatever the thief is sent, it would answer with a token: following it would "work".
      thief.route('GET', '/steal', (_req, res) => sendBody(res, 200, JSON.stringify({ token: 'good' })));
      thief.route('POST', '/steal', (req, res) => afterBody(req, () => sendBody(res, 200, JSON.stringify({ token: 'good' }))));
    });

    const list = async (client: RegistryClient): Promise<string[]> => {
      const tags: string[] = [];
      for await (const t of client.tags(`${fake.host}/test/repo`)) tags.push(t);
      return tags;
    };

    it('the OAuth2 POST (refresh token, password) is not re-sent there: ERR_REGISTRY_AUTH_FAILED, the host saw nothing', async () => {
      realm.route('POST', '/token', (req, res) => afterBody(req, () => sendBody(res, 307, '', { Location: `http://${thief.host}/steal` })));
      for (const credential of [{ identityToken: REFRESH }, { username: USER, password: PASSWORD }]) {
        const client = new RegistryClient({ credentials: new StaticCredentials({ [fake.host]: credential }), retry: { baseDelayMs: 1 } });
        clients.push(client);
        if ('username' in credential) {
          // The password grant goes by POST only with oauthPassword; a GET with Basic is redirected the same way.
          realm.route('GET', '/token', (_req, res) => sendBody(res, 302, '', { Location: `http://${thief.host}/steal` }));
        }
        const err = await codedRejection(list(client));
        expect(err.code, JSON.stringify(credential)).to.equal('ERR_REGISTRY_AUTH_FAILED');
        expect(err.message).to.contain('not following a redirect');
        expectNoLeak(`${err.message} ${JSON.stringify(err.details)}`, REFRESH, PASSWORD);
      }
      expect(realm.requests.map((r) => r.method)).to.deep.equal(['POST', 'GET']);
      expect(thief.requests).to.deep.equal([]);
    });

    it('an anonymous token GET may follow it (nothing secret travels), and a same-origin 307 keeps the POST', async () => {
      realm.route('GET', '/token', (_req, res) => sendBody(res, 302, '', { Location: `http://${thief.host}/steal` }));
      const anonymous = new RegistryClient({ credentials: new StaticCredentials({}), retry: { baseDelayMs: 1 } });
      clients.push(anonymous);
      expect(await list(anonymous)).to.deep.equal(['t']);
      expect(thief.requests.map((r) => [r.method, r.headers.authorization])).to.deep.equal([['GET', undefined]]);

      realm.reset();
      realm.route('POST', '/token', (req, res) =>
        afterBody(req, () =>
          req.url === '/token' ? sendBody(res, 308, '', { Location: '/token/v2' }) : sendBody(res, 200, JSON.stringify({ token: 'good' })),
        ),
      );
      realm.route('POST', '/token/v2', (req, res) => afterBody(req, () => sendBody(res, 200, JSON.stringify({ token: 'good' }))));
      const client = new RegistryClient({ credentials: new StaticCredentials({ [fake.host]: { identityToken: REFRESH } }), retry: { baseDelayMs: 1 } });
      clients.push(client);
      expect(await list(client)).to.deep.equal(['t']);
      expect(realm.requests.map((r) => [r.method, r.path])).to.deep.equal([
        ['POST', '/token'],
        ['POST', '/token/v2'],
      ]);
    });
  });

  it('a registry or token server that echoes the credentials, encoded, does not get them into the error', async () => {
    // The registry answers the Basic credentials with an error quoting them: as Base64, decoded, URL-encoded.
    fake.route('GET', '/v2/test/repo/manifests/v1', (req, res: ServerResponse) => {
      const sent = req.headers.authorization;
      if (sent === undefined) return sendError(res, 401, 'UNAUTHORIZED', 'login', { 'WWW-Authenticate': 'Basic realm="fake"' });
      const b64 = sent.slice('Basic '.length);
      const pair = Buffer.from(b64, 'base64').toString();
      const body = JSON.stringify({
        errors: [
          { code: 'DENIED', message: `refused ${b64} (${encodeURIComponent(pair)})`, detail: { got: b64, pw: Buffer.from(PASSWORD).toString('base64url') } },
        ],
      });
      sendBody(res, 403, body, { 'Content-Type': 'application/json' });
    });
    const basic = new RegistryClient({
      credentials: new StaticCredentials({ [fake.host]: { username: USER, password: PASSWORD } }),
      retry: { baseDelayMs: 1 },
    });
    clients.push(basic);
    const denied = await codedRejection(basic.fetchManifest(`${fake.host}/test/repo:v1`));
    expect(denied.code).to.equal('ERR_REGISTRY_DENIED');
    expect(denied.message).to.contain('refused ***');
    expectNoLeak(
      `${denied.message} ${JSON.stringify(denied.details)} ${JSON.stringify((denied as unknown as { errors: unknown }).errors)}`,
      PASSWORD,
      `${USER}:${PASSWORD}`,
    );

    // A token server that refuses the refresh token and quotes the form body it got (URL-encoded).
    const realm = await startFakeRegistry();
    try {
      fake.route('GET', '/v2/test/repo/manifests/v2', (_req, res) =>
        sendError(res, 401, 'UNAUTHORIZED', 'token needed', { 'WWW-Authenticate': `Bearer realm="http://${realm.host}/token",service="fake"` }),
      );
      let form = '';
      realm.route('POST', '/token', (req, res) => {
        req.setEncoding('utf8');
        req.on('data', (c: string) => (form += c));
        req.on('end', () => sendBody(res, 401, JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: `bad grant: ${form}` }] })));
      });
      realm.route('GET', '/token', (req, res) => sendBody(res, 401, JSON.stringify({ details: `bad login ${req.headers.authorization!.slice(6)}` })));
      for (const credential of [{ identityToken: REFRESH }, { username: USER, password: PASSWORD }]) {
        const client = new RegistryClient({ credentials: new StaticCredentials({ [fake.host]: credential }), retry: { baseDelayMs: 1 } });
        clients.push(client);
        const err = await codedRejection(client.fetchManifest(`${fake.host}/test/repo:v2`));
        expect(err.code).to.equal('ERR_REGISTRY_UNAUTHORIZED');
        expect(err.message).to.match(/bad (grant|login)/);
        expectNoLeak(`${err.message} ${JSON.stringify(err.details)}`, REFRESH, PASSWORD, `${USER}:${PASSWORD}`);
      }
      expect(form).to.contain(encodeURIComponent(REFRESH));
    } finally {
      await realm.stop();
    }
  });

  describe('the real docker-registry with htpasswd', () => {
    let registry: RegistryFixture;
    before(async () => {
      registry = await startRegistry({ auth: { username: USER, password: PASSWORD } });
    });
    after(async () => {
      await registry?.stop();
    });

    it('still gets the credentials on its own upload Locations (monolithic and chunked pushes succeed)', async () => {
      const client = new RegistryClient({
        credentials: new StaticCredentials({ [registry.host]: { username: USER, password: PASSWORD } }),
        retry: { baseDelayMs: 1 },
      });
      clients.push(client);
      expect(await client.pushBlob(`${registry.host}/creds/monolithic`, desc, blob)).to.equal('uploaded');
      expect(await client.pushBlob(`${registry.host}/creds/chunked`, desc, blob, { chunkSize: 16 * 1024 })).to.equal('uploaded');
      const log = await registry.accessLog();
      expect(log.filter((e) => e.method === 'PATCH').map((e) => e.status)).to.deep.equal([202, 202, 202, 202, 202]);
      expect(log.filter((e) => e.method === 'PUT').map((e) => e.status)).to.deep.equal([201, 201]);
    });
  });
});
