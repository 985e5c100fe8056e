import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { format } from 'node:util';
import { expect } from 'chai';
import createDebug from 'debug';
import { Authenticator } from '../../../lib/registry/auth/authenticator.js';
import { basicAuthorization } from '../../../lib/registry/auth/basic.js';
import { StaticCredentials } from '../../../lib/registry/auth/credentials.js';
import { type AuthHttpRequest, type AuthHttpResponse, axiosTokenRequest, type TokenRequestFunction } from '../../../lib/registry/auth/request.js';
import { requestToken, tokenDeadline } from '../../../lib/registry/auth/token.js';
import { codedRejection } from '../../fixtures/assert.js';

const HOST = 'registry.test';
const REALM = 'https://auth.test/token';
const BEARER = `Bearer realm="${REALM}",service="registry.test",scope="repository:library/busybox:pull"`;
const PULL = ['repository:library/busybox:pull'];
const PASSWORD = 's3cret-Pa55word!';

interface Call {
  url: URL;
  req: AuthHttpRequest;
}

/** A fake token server: answers from `respond`, records every call. */
function fakeServer(respond: (call: Call, n: number) => AuthHttpResponse | Promise<AuthHttpResponse>): { request: TokenRequestFunction; calls: Call[] } {
  const calls: Call[] = [];
  const request: TokenRequestFunction = async (url, req) => {
    const call = { url: new URL(url), req };
    calls.push(call);
    req.signal?.throwIfAborted();
    return respond(call, calls.length);
  };
  return { request, calls };
}

const ok = (body: unknown): AuthHttpResponse => ({ status: 200, data: JSON.stringify(body), headers: {} });

describe('registry auth: token flow', () => {
  it('anonymous GET: one scope param per scope, service, no Authorization; caches per scope set', async () => {
    const srv = fakeServer((_c, n) => ok({ token: `tok${n}`, expires_in: 300 }));
    const auth = new Authenticator({ tokenRequest: srv.request });
    expect(await auth.authorization(HOST, PULL)).to.equal(undefined);
    const scopes = ['repository:x/y:pull,push', 'repository:library/busybox:pull'];
    expect(await auth.challenge(HOST, BEARER, scopes)).to.equal('Bearer tok1');
    expect(srv.calls).to.have.length(1);
    const { url, req } = srv.calls[0]!;
    expect(`${url.origin}${url.pathname}`).to.equal(REALM);
    expect(url.searchParams.get('service')).to.equal('registry.test');
    expect(url.searchParams.getAll('scope')).to.deep.equal(['repository:library/busybox:pull', 'repository:x/y:pull,push']);
    expect(req.method).to.equal('GET');
    expect(req.headers.Authorization).to.equal(undefined);
    // Same scope set in another order: from cache.
    expect(await auth.authorization(HOST, [...scopes].reverse())).to.equal('Bearer tok1');
    // A new scope set on a known bearer host: fetched right away, not after another 401.
    expect(await auth.authorization(HOST, ['registry:catalog:*'])).to.equal('Bearer tok2');
    expect(srv.calls[1]!.url.searchParams.getAll('scope')).to.deep.equal(['registry:catalog:*']);
    expect(srv.calls).to.have.length(2);
  });

  it('credentialed GET sends Basic auth and account; access_token is accepted', async () => {
    const srv = fakeServer(() => ok({ access_token: 'oauth-tok', expires_in: 120 }));
    const auth = new Authenticator({ tokenRequest: srv.request, credentials: new StaticCredentials({ [HOST]: { username: 'alice', password: PASSWORD } }) });
    expect(await auth.challenge(HOST, BEARER, PULL)).to.equal('Bearer oauth-tok');
    const { url, req } = srv.calls[0]!;
    expect(req.headers.Authorization).to.equal(basicAuthorization('alice', PASSWORD));
    expect(url.searchParams.get('account')).to.equal('alice');
  });

  it('an identity token is exchanged by an OAuth2 POST with grant_type=refresh_token', async () => {
    const srv = fakeServer(() => ok({ access_token: 'at', expires_in: 60 }));
    const auth = new Authenticator({ tokenRequest: srv.request, credentials: new StaticCredentials({ [HOST]: { identityToken: 'id-tok-123' } }) });
    expect(await auth.challenge(HOST, BEARER, ['repository:x:push'])).to.equal('Bearer at');
    const { req } = srv.calls[0]!;
    expect(req.method).to.equal('POST');
    expect(req.headers['Content-Type']).to.equal('application/x-www-form-urlencoded');
    const form = new URLSearchParams(req.body);
    expect(form.get('grant_type')).to.equal('refresh_token');
    expect(form.get('refresh_token')).to.equal('id-tok-123');
    expect(form.get('service')).to.equal('registry.test');
    expect(form.get('client_id')).to.equal('containerkit');
    expect(form.get('scope')).to.equal('repository:library/busybox:pull repository:x:push');
  });

  it('the OAuth2 POST falls back to GET on 404; the password grant asks for offline access', async () => {
    const srv = fakeServer((c) => (c.req.method === 'POST' ? { status: 404, data: '', headers: {} } : ok({ token: 'g' })));
    const issued = await requestToken(
      { realm: REALM, service: 's' },
      PULL,
      { username: 'u', password: PASSWORD },
      { request: srv.request, oauthPassword: true },
    );
    expect(issued).to.deep.equal({ token: 'g', expiresInSeconds: 60 });
    expect(srv.calls.map((c) => c.req.method)).to.deep.equal(['POST', 'GET']);
    const form = new URLSearchParams(srv.calls[0]!.req.body);
    expect(form.get('grant_type')).to.equal('password');
    expect(form.get('access_type')).to.equal('offline');
    expect(srv.calls[1]!.req.headers.Authorization).to.equal(basicAuthorization('u', PASSWORD));
  });

  it('honours expires_in with a safety margin, and defaults to 60 s', async () => {
    let now = 1_000_000;
    const lifetimes = [100, undefined];
    const srv = fakeServer((_c, n) => ok({ token: `t${n}`, expires_in: lifetimes[n - 1] }));
    const auth = new Authenticator({ tokenRequest: srv.request, now: () => now });
    expect(await auth.challenge(HOST, BEARER, PULL)).to.equal('Bearer t1');
    now += 89_000; // inside 100 s minus the 10 s margin
    expect(await auth.authorization(HOST, PULL)).to.equal('Bearer t1');
    now += 2_000; // past 90 s: refetched
    expect(await auth.authorization(HOST, PULL)).to.equal('Bearer t2');
    expect(srv.calls).to.have.length(2);
    now += 53_000; // t2 has no expires_in: 60 s minus 6 s
    expect(await auth.authorization(HOST, PULL)).to.equal('Bearer t2');
    now += 2_000;
    lifetimes.push(300);
    expect(await auth.authorization(HOST, PULL)).to.equal('Bearer t3');
    expect(tokenDeadline(0, 3600)).to.equal(3_570_000);
  });

  it('challenge always fetches a fresh token and answers undefined when the server reissues the refused one', async () => {
    const srv = fakeServer(() => ok({ token: 'same' }));
    const auth = new Authenticator({ tokenRequest: srv.request });
    const first = await auth.challenge(HOST, BEARER, PULL);
    expect(first).to.equal('Bearer same');
    expect(await auth.challenge(HOST, BEARER, PULL, { sent: first })).to.equal(undefined);
    expect(srv.calls).to.have.length(2);
  });

  it('concurrent requests for one scope set share one token fetch', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let holdOn = gate;
    const srv = fakeServer(async () => {
      await holdOn;
      return ok({ token: 'shared' });
    });
    const auth = new Authenticator({ tokenRequest: srv.request });
    release();
    await auth.challenge(HOST, BEARER, ['registry:catalog:*']);
    const gate2 = new Promise<void>((r) => (release = r));
    srv.calls.length = 0;
    holdOn = gate2;
    const waits = [auth.authorization(HOST, PULL), auth.authorization(HOST, PULL), auth.authorization(HOST, PULL)];
    release();
    expect(await Promise.all(waits)).to.deep.equal(['Bearer shared', 'Bearer shared', 'Bearer shared']);
    expect(srv.calls).to.have.length(1);
  });

  it('a token server 401 is ERR_REGISTRY_UNAUTHORIZED, after exactly one request', async () => {
    const srv = fakeServer(() => ({ status: 401, data: JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad creds' }] }), headers: {} }));
    const auth = new Authenticator({ tokenRequest: srv.request, credentials: new StaticCredentials({ [HOST]: { username: 'alice', password: PASSWORD } }) });
    const err = await codedRejection(auth.challenge(HOST, BEARER, PULL));
    expect(err.code).to.equal('ERR_REGISTRY_UNAUTHORIZED');
    expect(err.message).to.contain('refused the credentials').and.not.contain(PASSWORD);
    expect(srv.calls).to.have.length(1);
  });

  it('refuses unusable answers and insecure realms with ERR_REGISTRY_AUTH_FAILED', async () => {
    const bodies: AuthHttpResponse[] = [
      ok({ nothing: true }),
      { status: 200, data: 'not json', headers: {} },
      ok({ token: 'evil\r\nX-Injected: 1' }),
      { status: 500, data: '', headers: {} },
    ];
    for (const body of bodies) {
      const auth = new Authenticator({ tokenRequest: fakeServer(() => body).request });
      expect((await codedRejection(auth.challenge(HOST, BEARER, PULL))).code).to.equal('ERR_REGISTRY_AUTH_FAILED');
    }
    const srv = fakeServer(() => ok({ token: 't' }));
    const auth = new Authenticator({ tokenRequest: srv.request, credentials: new StaticCredentials({ [HOST]: { username: 'a', password: PASSWORD } }) });
    // Credentials must not travel to a plain-HTTP realm on another host, nor to a realm without a URL.
    expect((await codedRejection(auth.challenge(HOST, 'Bearer realm="http://auth.example/token"', PULL))).code).to.equal('ERR_REGISTRY_AUTH_FAILED');
    expect((await codedRejection(auth.challenge(HOST, 'Bearer service="s"', PULL))).code).to.equal('ERR_REGISTRY_AUTH_FAILED');
    expect((await codedRejection(auth.challenge(HOST, 'Bearer realm="file:///etc/passwd"', PULL))).code).to.equal('ERR_REGISTRY_AUTH_FAILED');
    expect(srv.calls).to.have.length(0);
    // Loopback realms, and hosts the caller listed, may be plain HTTP.
    expect(await auth.challenge(HOST, 'Bearer realm="http://127.0.0.1:9/token"', PULL)).to.equal('Bearer t');
    const listed = new Authenticator({ tokenRequest: srv.request, plainHttpHosts: ['auth.example'] });
    expect(await listed.challenge(HOST, 'Bearer realm="http://auth.example/token"', PULL)).to.equal('Bearer t');
  });

  it('follows token redirects hop by hop: same origin keeps the credentials, no downgrade, no realm policy escape, at most 3', async () => {
    const redirect = (status: number, location: string): AuthHttpResponse => ({ status, data: '', headers: { location } });
    const creds = new StaticCredentials({ [HOST]: { username: 'alice', password: PASSWORD } });
    // Same origin: the Basic GET follows a 302 with its Authorization.
    let srv = fakeServer((_c, n) => (n === 1 ? redirect(302, '/token2') : ok({ token: 'moved' })));
    expect(await new Authenticator({ tokenRequest: srv.request, credentials: creds }).challenge(HOST, BEARER, PULL)).to.equal('Bearer moved');
    expect(srv.calls.map((c) => [c.url.pathname, c.req.headers.Authorization])).to.deep.equal([
      ['/token', basicAuthorization('alice', PASSWORD)],
      ['/token2', basicAuthorization('alice', PASSWORD)],
    ]);
    // https → http on the same host: ERR_INSECURE_REDIRECT, not followed.
    srv = fakeServer(() => redirect(307, 'http://auth.test/token'));
    expect((await codedRejection(new Authenticator({ tokenRequest: srv.request }).challenge(HOST, BEARER, PULL))).code).to.equal('ERR_INSECURE_REDIRECT');
    expect(srv.calls).to.have.length(1);
    // An anonymous GET may move to another https host, but not to a plain-HTTP one the realm policy refuses.
    srv = fakeServer((_c, n) => (n === 1 ? redirect(302, 'https://cdn.test/t') : n === 2 ? redirect(302, 'http://cdn.test/t') : ok({ token: 'x' })));
    expect((await codedRejection(new Authenticator({ tokenRequest: srv.request }).challenge(HOST, BEARER, PULL))).code).to.equal('ERR_INSECURE_REDIRECT');
    srv = fakeServer((_c, n) => (n === 1 ? redirect(302, 'http://plain.test/t') : ok({ token: 'x' })));
    const plainRealm = 'Bearer realm="http://127.0.0.1:9/token"';
    expect((await codedRejection(new Authenticator({ tokenRequest: srv.request }).challenge(HOST, plainRealm, PULL))).code).to.equal(
      'ERR_REGISTRY_AUTH_FAILED',
    );
    expect(srv.calls).to.have.length(1);
    // A POST with a refresh token is re-sent only by a 307/308 on the realm's origin.
    const identity = new StaticCredentials({ [HOST]: { identityToken: 'refresh-me' } });
    srv = fakeServer((_c, n) => (n === 1 ? redirect(302, '/token2') : ok({ token: 'x' })));
    expect((await codedRejection(new Authenticator({ tokenRequest: srv.request, credentials: identity }).challenge(HOST, BEARER, PULL))).code).to.equal(
      'ERR_REGISTRY_AUTH_FAILED',
    );
    expect(srv.calls).to.have.length(1);
    srv = fakeServer((_c, n) => (n === 1 ? redirect(308, '/token2') : ok({ token: 'kept' })));
    expect(await new Authenticator({ tokenRequest: srv.request, credentials: identity }).challenge(HOST, BEARER, PULL)).to.equal('Bearer kept');
    expect(srv.calls.map((c) => [c.req.method, c.url.pathname, c.req.body?.includes('refresh_token=refresh-me')])).to.deep.equal([
      ['POST', '/token', true],
      ['POST', '/token2', true],
    ]);
    // A loop ends after 3 redirects.
    srv = fakeServer(() => redirect(302, '/again'));
    expect((await codedRejection(new Authenticator({ tokenRequest: srv.request }).challenge(HOST, BEARER, PULL))).message).to.contain('more than 3 redirects');
    expect(srv.calls).to.have.length(4);
  });

  it('basic challenge: sends the configured credentials; nothing new to try once they were refused', async () => {
    const srv = fakeServer(() => ok({ token: 'unused' }));
    const auth = new Authenticator({ tokenRequest: srv.request, credentials: new StaticCredentials({ [HOST]: { username: 'bob', password: PASSWORD } }) });
    const header = await auth.challenge(HOST, 'Basic realm="r"', []);
    expect(header).to.equal(basicAuthorization('bob', PASSWORD));
    expect(await auth.authorization(HOST, PULL)).to.equal(header);
    expect(await auth.challenge(HOST, 'Basic realm="r"', PULL, { sent: header })).to.equal(undefined);
    expect(srv.calls).to.have.length(0);
    const anonymous = new Authenticator({ tokenRequest: srv.request });
    expect(await anonymous.challenge(HOST, 'Basic realm="r"', [])).to.equal(undefined);
    expect(await anonymous.challenge(HOST, 'Digest realm="r", nonce="n"', [])).to.equal(undefined);
  });

  it('Bearer wins over Basic when both are offered', async () => {
    const srv = fakeServer(() => ok({ token: 'b' }));
    const auth = new Authenticator({ tokenRequest: srv.request, credentials: new StaticCredentials({ [HOST]: { username: 'bob', password: PASSWORD } }) });
    expect(await auth.challenge(HOST, ['Basic realm="r"', BEARER], PULL)).to.equal('Bearer b');
  });

  it('aborts: an aborted signal rejects with its reason; a waiter can leave a shared fetch', async () => {
    const srv = fakeServer(() => new Promise<AuthHttpResponse>(() => undefined));
    const auth = new Authenticator({ tokenRequest: srv.request });
    const already = AbortSignal.abort(new Error('gone'));
    try {
      await auth.challenge(HOST, BEARER, PULL, { signal: already });
      expect.fail('should reject');
    } catch (err) {
      expect((err as Error).message).to.equal('gone');
    }
    expect(srv.calls).to.have.length(0);
    const ac = new AbortController();
    const pending = auth.challenge(HOST, BEARER, PULL, { signal: ac.signal });
    while (srv.calls.length === 0) await new Promise((r) => setImmediate(r));
    ac.abort(new Error('stop'));
    try {
      await pending;
      expect.fail('should reject');
    } catch (err) {
      expect((err as Error).message).to.equal('stop');
    }
    expect(srv.calls[0]!.req.signal?.aborted).to.equal(true);
  });

  it('a token request past its timeout is ERR_DEADLINE_EXCEEDED (transport http)', async () => {
    const held: ServerResponse[] = [];
    const server = createServer((_req, res) => void held.push(res)); // never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
      const err = await codedRejection(axiosTokenRequest(undefined, { timeoutMs: 100 })(url, { method: 'GET', headers: {} }));
      expect(err.code).to.equal('ERR_DEADLINE_EXCEEDED');
      expect(err.category).to.equal('Unavailable');
      expect(err.details).to.include({ transport: 'http', timeoutMs: 100, method: 'GET', url });
    } finally {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('validates its options and arguments', async () => {
    expect(() => new Authenticator({ maxCachedTokens: 0 })).to.throw(/maxCachedTokens/);
    expect(() => new Authenticator({ userAgent: 'a\r\nb' })).to.throw(/userAgent/);
    expect(() => new Authenticator({ credentials: {} as never })).to.throw(/credentials/);
    const auth = new Authenticator({ tokenRequest: fakeServer(() => ok({})).request });
    expect((await codedRejection(auth.authorization('', PULL))).code).to.equal('ERR_INVALID_ARGUMENT');
    expect((await codedRejection(auth.authorization(HOST, ['has space']))).code).to.equal('ERR_INVALID_ARGUMENT');
  });

  describe('secrets stay out of logs and errors', () => {
    let lines: string[];
    let previousLog: typeof createDebug.log;
    let previousNamespaces: string;

    beforeEach(() => {
      lines = [];
      previousLog = createDebug.log;
      previousNamespaces = createDebug.disable();
      createDebug.log = (...args: unknown[]) => {
        lines.push(format(...(args as [unknown, ...unknown[]])));
      };
      createDebug.enable('containerkit:*');
    });

    afterEach(() => {
      createDebug.log = previousLog;
      createDebug.disable();
      if (previousNamespaces) createDebug.enable(previousNamespaces);
    });

    it('no password, identity token or bearer token in any debug line or error message', async () => {
      const TOKEN = 'tokentokentoken-SECRET-0123456789';
      const REFRESH = 'refresh-SECRET-abcdef';
      const srv = fakeServer((c) => {
        if (c.req.method === 'POST') return ok({ access_token: TOKEN, refresh_token: REFRESH, expires_in: 60 });
        return { status: 401, data: JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: `bad password ${PASSWORD}` }] }), headers: {} };
      });
      const withPassword = new Authenticator({
        tokenRequest: srv.request,
        credentials: new StaticCredentials({ [HOST]: { username: 'alice', password: PASSWORD } }),
      });
      const err = await codedRejection(withPassword.challenge(HOST, BEARER, PULL));
      const withToken = new Authenticator({ tokenRequest: srv.request, credentials: new StaticCredentials({ [HOST]: { identityToken: REFRESH } }) });
      expect(await withToken.challenge(HOST, BEARER, PULL)).to.equal(`Bearer ${TOKEN}`);
      await withToken.authorization(HOST, ['registry:catalog:*']);
      const failing: TokenRequestFunction = async () => {
        throw new Error(`connect ECONNREFUSED https://alice:${PASSWORD}@auth.test/token?password=${PASSWORD}`);
      };
      const err2 = await codedRejection(
        new Authenticator({ tokenRequest: failing, credentials: new StaticCredentials({ [HOST]: { username: 'alice', password: PASSWORD } }) }).challenge(
          HOST,
          BEARER,
          PULL,
        ),
      );
      expect(err2.code).to.equal('ERR_REGISTRY_AUTH_FAILED');

      expect(lines.length).to.be.greaterThan(3);
      const everything = [...lines, err.message, err2.message, JSON.stringify(err.details), JSON.stringify(err2.details)].join('\n');
      for (const secret of [PASSWORD, TOKEN, REFRESH, Buffer.from(`alice:${PASSWORD}`).toString('base64')]) {
        expect(everything).to.not.contain(secret);
      }
    });
  });
});
