import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Authenticator } from '../../../lib/registry/auth/authenticator.js';
import { StaticCredentials } from '../../../lib/registry/auth/credentials.js';
import { verifyCredentials } from '../../../lib/registry/auth/verify.js';
import { sleep } from '../../../lib/util/abort.js';
import { codedRejection } from '../../fixtures/assert.js';
import { type RegistryFixture, startRegistry } from '../../fixtures/registry.js';
import { authedRequest, startTokenServer, type TokenServerFixture } from '../../fixtures/token-server.js';

const USER = 'pusher';
const PASSWORD = 'token-flow-pa55';
const REPO = 'auth/token-test';

describe('registry auth: token server in front of the real registry', () => {
  let registry: RegistryFixture;
  let ts: TokenServerFixture;
  const blob = randomBytes(4096);
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
  const pull = [`repository:${REPO}:pull`];
  const push = [`repository:${REPO}:pull,push`];

  before(async () => {
    registry = await startRegistry();
    ts = await startTokenServer(registry, { users: { [USER]: PASSWORD }, identityTokens: { 'id-token-for-pusher': USER } });
  });

  after(async () => {
    await ts?.stop();
    await registry?.stop();
  });

  beforeEach(() => {
    ts.clearRecords();
    ts.useAccessToken = false;
    ts.alwaysUnauthorized = false;
    ts.expiresIn = 300;
  });

  it('pushes a blob with a credentialed token (push scope), then pulls it with an anonymous one', async () => {
    const pusher = new Authenticator({ credentials: new StaticCredentials({ [ts.host]: { username: USER, password: PASSWORD } }) });
    const start = await authedRequest(pusher, ts.host, 'POST', `/v2/${REPO}/blobs/uploads/`, push);
    expect(start.status).to.equal(202);
    const location = new URL(String(start.headers.location), `http://${ts.host}`);
    location.searchParams.set('digest', digest);
    const put = await authedRequest(pusher, ts.host, 'PUT', location.href, push, blob);
    expect(put.status).to.equal(201);
    // The request's scopes plus the one the challenge named.
    expect(ts.tokenRequests.map((r) => [r.kind, r.account, r.scopes])).to.deep.equal([
      ['basic', USER, [`repository:${REPO}:pull,push`, `repository:${REPO}:push`]],
    ]);
    expect(ts.tokenRequests[0]!.service).to.equal(ts.service);

    ts.clearRecords();
    const anon = new Authenticator();
    const got = await authedRequest(anon, ts.host, 'GET', `/v2/${REPO}/blobs/${digest}`, pull);
    expect(got.status).to.equal(200);
    expect(got.data.equals(blob)).to.equal(true);
    expect(ts.tokenRequests.map((r) => [r.kind, r.account, r.scopes])).to.deep.equal([['anonymous', undefined, pull]]);
    // Served by the real registry: its access log has the GET.
    expect(await registry.countRequests({ method: 'GET', path: `/v2/${REPO}/blobs/${digest}`, status: 200 })).to.be.greaterThan(0);
  });

  it('an anonymous token cannot push: the retry with a fresh token still fails, no loop', async () => {
    const anon = new Authenticator();
    const err = await codedRejection(authedRequest(anon, ts.host, 'POST', `/v2/${REPO}/blobs/uploads/`, push));
    expect(err.code).to.equal('ERR_REGISTRY_UNAUTHORIZED');
    expect(ts.proxyRequests.map((r) => r.status)).to.deep.equal([401, 401]);
    expect(ts.tokenRequests).to.have.length(1);
  });

  it('accepts access_token instead of token', async () => {
    ts.useAccessToken = true;
    const auth = new Authenticator();
    expect((await authedRequest(auth, ts.host, 'HEAD', `/v2/${REPO}/blobs/${digest}`, pull)).status).to.equal(200);
    expect(ts.tokenRequests).to.have.length(1);
  });

  it('exchanges an identity token by OAuth2 POST', async () => {
    const auth = new Authenticator({ credentials: new StaticCredentials({ [ts.host]: { identityToken: 'id-token-for-pusher' } }) });
    expect((await authedRequest(auth, ts.host, 'POST', `/v2/${REPO}/blobs/uploads/`, push)).status).to.equal(202);
    expect(ts.tokenRequests.map((r) => [r.method, r.kind, r.account])).to.deep.equal([['POST', 'refresh_token', USER]]);
  });

  it('reuses a token until it expires, then fetches a new one before the registry has to refuse it', async () => {
    ts.expiresIn = 2;
    const auth = new Authenticator();
    const path = `/v2/${REPO}/blobs/${digest}`;
    expect((await authedRequest(auth, ts.host, 'HEAD', path, pull)).status).to.equal(200);
    expect((await authedRequest(auth, ts.host, 'HEAD', path, pull)).status).to.equal(200);
    expect(ts.tokenRequests).to.have.length(1);
    await sleep(2100);
    expect((await authedRequest(auth, ts.host, 'HEAD', path, pull)).status).to.equal(200);
    expect(ts.tokenRequests).to.have.length(2);
    // Only the very first request met a 401: the expired token was never sent.
    expect(ts.proxyRequests.map((r) => r.status)).to.deep.equal([401, 200, 200, 200]);
  });

  it('a 401 that never ends gives up after one retry, on every request', async () => {
    ts.alwaysUnauthorized = true;
    const auth = new Authenticator({ credentials: new StaticCredentials({ [ts.host]: { username: USER, password: PASSWORD } }) });
    expect((await codedRejection(authedRequest(auth, ts.host, 'GET', `/v2/${REPO}/tags/list`, pull))).code).to.equal('ERR_REGISTRY_UNAUTHORIZED');
    expect(ts.proxyRequests).to.have.length(2);
    expect(ts.tokenRequests).to.have.length(1);
    expect((await codedRejection(authedRequest(auth, ts.host, 'GET', `/v2/${REPO}/tags/list`, pull))).code).to.equal('ERR_REGISTRY_UNAUTHORIZED');
    expect(ts.proxyRequests).to.have.length(4);
    expect(ts.tokenRequests).to.have.length(2);
  });

  it('login verification: right credentials pass, wrong ones are refused by the token server', async () => {
    await verifyCredentials(ts.host, { username: USER, password: PASSWORD });
    expect(ts.tokenRequests.map((r) => [r.kind, r.status])).to.deep.equal([['basic', 200]]);
    const err = await codedRejection(verifyCredentials(ts.host, { username: USER, password: 'wrong-one' }));
    expect(err.code).to.equal('ERR_REGISTRY_UNAUTHORIZED');
    expect(err.message).to.contain('token server').and.not.contain('wrong-one');
  });
});
