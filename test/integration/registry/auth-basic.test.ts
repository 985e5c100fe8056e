import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { runCli } from '../../../lib/cli/main.js';
import { Authenticator } from '../../../lib/registry/auth/authenticator.js';
import { StaticCredentials } from '../../../lib/registry/auth/credentials.js';
import { verifyCredentials } from '../../../lib/registry/auth/verify.js';
import { codedRejection } from '../../fixtures/assert.js';
import { type RegistryFixture, startRegistry } from '../../fixtures/registry.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';
import { authedRequest } from '../../fixtures/token-server.js';

const USER = 'tester';
const PASSWORD = 'c0rrect-horse-battery';

async function cli(args: string[], env: NodeJS.ProcessEnv, stdinText?: string): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  stdin.end(stdinText ?? '');
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await runCli(args, { stdout, stderr, stdin, env });
  return { code, out, err };
}

describe('registry auth: htpasswd basic auth against the real registry', () => {
  let registry: RegistryFixture;

  before(async () => {
    registry = await startRegistry({ auth: { username: USER, password: PASSWORD } });
  });

  after(async () => {
    await registry?.stop();
  });

  beforeEach(async () => {
    await registry.accessLog();
    registry.clearAccessLog();
  });

  it('the right password gives access: one 401, then 200, then straight 200 from cache', async () => {
    const auth = new Authenticator({ credentials: new StaticCredentials({ [registry.host]: { username: USER, password: PASSWORD } }) });
    expect((await authedRequest(auth, registry.host, 'GET', '/v2/', [])).status).to.equal(200);
    expect((await authedRequest(auth, registry.host, 'GET', '/v2/_catalog', ['registry:catalog:*'])).status).to.equal(200);
    const log = await registry.accessLog();
    expect(log.map((e) => [e.path, e.status])).to.deep.equal([
      ['/v2/', 401],
      ['/v2/', 200],
      ['/v2/_catalog', 200],
    ]);
  });

  it('a wrong password fails with ERR_REGISTRY_UNAUTHORIZED after one retry', async () => {
    const auth = new Authenticator({ credentials: new StaticCredentials({ [registry.host]: { username: USER, password: 'wrong' } }) });
    const err = await codedRejection(authedRequest(auth, registry.host, 'GET', '/v2/', []));
    expect(err.code).to.equal('ERR_REGISTRY_UNAUTHORIZED');
    expect(err.message).to.not.contain('wrong');
    expect(await registry.countRequests({ path: '/v2/' })).to.equal(2);
    // The next request sends the refused credentials once; challenge() then has nothing new: still no loop.
    await codedRejection(authedRequest(auth, registry.host, 'GET', '/v2/', []));
    expect(await registry.countRequests({ path: '/v2/' })).to.equal(3);
  });

  it('no credentials fails with ERR_REGISTRY_UNAUTHORIZED after one request', async () => {
    const auth = new Authenticator();
    expect((await codedRejection(authedRequest(auth, registry.host, 'GET', '/v2/', []))).code).to.equal('ERR_REGISTRY_UNAUTHORIZED');
    expect(await registry.countRequests({})).to.equal(1);
  });

  it('verifyCredentials accepts the right password and refuses a wrong one', async () => {
    await verifyCredentials(registry.host, { username: USER, password: PASSWORD });
    const err = await codedRejection(verifyCredentials(registry.host, { username: USER, password: 'nope-nope' }));
    expect(err.code).to.equal('ERR_REGISTRY_UNAUTHORIZED');
    expect(err.message).to.not.contain('nope-nope');
  });

  describe('containerkit login / logout', () => {
    let dir: string;
    let env: NodeJS.ProcessEnv;

    beforeEach(async () => {
      dir = await makeTempDir('auth-login');
      env = { ...process.env, DOCKER_CONFIG: join(dir, 'docker') };
    });

    afterEach(async () => {
      await removeTempDir(dir);
    });

    it('logs in with --password-stdin, writing config.json (0600) like docker, then logs out', async () => {
      const login = await cli(['login', '-u', USER, '--password-stdin', registry.host], env, `${PASSWORD}\n`);
      expect(login.err).to.not.contain(PASSWORD);
      expect(login).to.include({ code: 0, out: 'Login Succeeded\n' });
      const path = join(dir, 'docker', 'config.json');
      expect(JSON.parse(await readFile(path, 'utf8'))).to.deep.equal({
        auths: { [registry.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } },
      });
      expect((await stat(path)).mode & 0o777).to.equal(0o600);
      expect((await registry.accessLog()).map((e) => [e.path, e.status])).to.deep.equal([
        ['/v2/', 401],
        ['/v2/', 200],
      ]);

      // Without -u the stored credentials are checked again.
      expect(await cli(['login', registry.host], env)).to.include({ code: 0, out: 'Login Succeeded\n' });

      const logout = await cli(['logout', registry.host], env);
      expect(logout).to.deep.equal({ code: 0, out: `Removing login credentials for ${registry.host}\n`, err: '' });
      expect(JSON.parse(await readFile(path, 'utf8'))).to.deep.equal({ auths: {} });
      expect(await cli(['logout', registry.host], env)).to.include({ code: 0, out: `Not logged in to ${registry.host}\n` });
    });

    it('-p works but warns', async () => {
      const login = await cli(['login', '-u', USER, '-p', PASSWORD, registry.host], env);
      expect(login.code).to.equal(0);
      expect(login.err).to.contain('WARNING! Using --password via the CLI is insecure. Use --password-stdin.');
    });

    it('a wrong password writes nothing and exits 1 with ERR_REGISTRY_UNAUTHORIZED', async () => {
      const login = await cli(['login', '-u', USER, '--password-stdin', registry.host], env, 'bad-password-123\n');
      expect(login.code).to.equal(1);
      expect(login.out).to.equal('');
      expect(login.err).to.contain('ERR_REGISTRY_UNAUTHORIZED').and.not.contain('bad-password-123');
      const exists = await stat(join(dir, 'docker', 'config.json')).then(
        () => true,
        () => false,
      );
      expect(exists).to.equal(false);
    });

    it('usage errors: --password-stdin without -u, both -p and --password-stdin', async () => {
      expect((await cli(['login', '--password-stdin', registry.host], env, 'x\n')).code).to.equal(2);
      expect((await cli(['login', '-u', USER, '-p', 'x', '--password-stdin', registry.host], env, 'x\n')).code).to.equal(2);
      expect((await cli(['login', registry.host], env)).code).to.equal(2);
    });
  });
});
