import { chmod, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { expect } from 'chai';
import {
  convertToHostname,
  DOCKER_HUB_CONFIG_KEY,
  DockerConfigCredentials,
  dockerConfigDir,
  dockerConfigKey,
  StaticCredentials,
} from '../../../lib/registry/auth/credentials.js';
import { eraseDockerCredential, storeDockerCredential } from '../../../lib/registry/auth/docker-config.js';
import { isLoopbackHost } from '../../../lib/registry/auth/hosts.js';
import { codedRejection } from '../../fixtures/assert.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

// A real credential helper speaking the docker-credential-helpers protocol, backed by a JSON file next to it.
const HELPER = `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
const dir = path.dirname(process.argv[1]);
const store = path.join(dir, 'helper-store.json');
const verb = process.argv[2];
const input = fs.readFileSync(0, 'utf8');
fs.appendFileSync(path.join(dir, 'helper-log.jsonl'), JSON.stringify({ verb, input }) + '\\n');
const data = fs.existsSync(store) ? JSON.parse(fs.readFileSync(store, 'utf8')) : {};
if (verb === 'get') {
  const server = input.trim();
  if (server === 'broken.example') { process.stdout.write('not json at all'); process.exit(0); }
  if (server === 'failing.example') { process.stdout.write('keychain is locked\\n'); process.exit(1); }
  const entry = data[server];
  if (!entry) { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); }
  process.stdout.write(JSON.stringify({ ServerURL: server, Username: entry.Username, Secret: entry.Secret }));
} else if (verb === 'store') {
  const c = JSON.parse(input);
  data[c.ServerURL] = { Username: c.Username, Secret: c.Secret };
  fs.writeFileSync(store, JSON.stringify(data));
} else if (verb === 'erase') {
  delete data[input.trim()];
  fs.writeFileSync(store, JSON.stringify(data));
} else { process.exit(3); }
`;

describe('registry auth: docker credentials', () => {
  let dir: string;
  let binDir: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    dir = await makeTempDir('auth-creds');
    binDir = join(dir, 'bin');
    await mkdir(binDir);
    await writeFile(join(binDir, 'docker-credential-test'), HELPER, { mode: 0o755 });
    env = { ...process.env, PATH: `${binDir}${delimiter}${process.env.PATH ?? ''}`, DOCKER_CONFIG: join(dir, 'docker') };
    await mkdir(join(dir, 'docker'));
  });

  afterEach(async () => {
    await removeTempDir(dir);
  });

  const writeConfig = (cfg: unknown): Promise<void> => writeFile(join(dir, 'docker', 'config.json'), JSON.stringify(cfg));
  const readConfig = async (): Promise<Record<string, unknown>> =>
    JSON.parse(await readFile(join(dir, 'docker', 'config.json'), 'utf8')) as Record<string, unknown>;
  const helperLog = async (): Promise<Array<{ verb: string; input: string }>> =>
    (await readFile(join(binDir, 'helper-log.jsonl'), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { verb: string; input: string });

  it('normalises keys like the docker CLI', () => {
    expect(dockerConfigKey('docker.io')).to.equal(DOCKER_HUB_CONFIG_KEY);
    expect(dockerConfigKey('index.docker.io')).to.equal(DOCKER_HUB_CONFIG_KEY);
    expect(dockerConfigKey('registry-1.docker.io')).to.equal(DOCKER_HUB_CONFIG_KEY);
    expect(dockerConfigKey('https://index.docker.io/v1/')).to.equal(DOCKER_HUB_CONFIG_KEY);
    expect(dockerConfigKey('https://ghcr.io/v2/')).to.equal('ghcr.io');
    expect(dockerConfigKey('http://127.0.0.1:5000')).to.equal('127.0.0.1:5000');
    expect(dockerConfigKey('quay.io')).to.equal('quay.io');
    expect(convertToHostname('https://r.example:8443/some/path')).to.equal('r.example:8443');
    expect(dockerConfigDir({ DOCKER_CONFIG: '/x/y' })).to.equal('/x/y');
    expect(dockerConfigDir({ HOME: '/home/u' })).to.equal('/home/u/.docker');
  });

  it('knows the loopback hosts', () => {
    for (const h of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000', '::1']) expect(isLoopbackHost(h), h).to.equal(true);
    for (const h of ['example.com', '10.0.0.1:5000', '128.0.0.1', '[::2]:5000', 'localhost.evil.com']) expect(isLoopbackHost(h), h).to.equal(false);
  });

  it('reads auths: base64 auth, username/password fields, identitytoken, legacy keys with scheme', async () => {
    await writeConfig({
      auths: {
        'r1.example': { auth: b64('alice:pa:ss') },
        'r2.example': { username: 'bob', password: 'pw2' },
        'r3.example': { auth: b64('carol:'), identitytoken: 'idt-3' },
        'https://r4.example/v1/': { auth: b64('dave:pw4') },
        [DOCKER_HUB_CONFIG_KEY]: { auth: b64('hubuser:hubpw') },
        'empty.example': {},
      },
    });
    const src = new DockerConfigCredentials({ env });
    expect(await src.get('r1.example')).to.deep.equal({ username: 'alice', password: 'pa:ss' });
    expect(await src.get('r2.example')).to.deep.equal({ username: 'bob', password: 'pw2' });
    expect(await src.get('r3.example')).to.deep.equal({ identityToken: 'idt-3', username: 'carol' });
    expect(await src.get('r4.example')).to.deep.equal({ username: 'dave', password: 'pw4' });
    expect(await src.get('docker.io')).to.deep.equal({ username: 'hubuser', password: 'hubpw' });
    expect(await src.get('empty.example')).to.equal(undefined);
    expect(await src.get('unknown.example')).to.equal(undefined);
  });

  it('no config file means no credentials; a malformed one is ERR_CORRUPT_FILE', async () => {
    const src = new DockerConfigCredentials({ env });
    expect(await src.get('r1.example')).to.equal(undefined);
    await writeFile(join(dir, 'docker', 'config.json'), '{ not json');
    expect((await codedRejection(src.get('r1.example'))).code).to.equal('ERR_CORRUPT_FILE');
    await writeConfig({ auths: [] });
    expect((await codedRejection(src.get('r1.example'))).code).to.equal('ERR_CORRUPT_FILE');
    await writeConfig({ credsStore: '../../bin/sh' });
    expect((await codedRejection(src.get('r1.example'))).code).to.equal('ERR_CORRUPT_FILE');
  });

  it('credsStore and credHelpers run docker-credential-<name> get (host on stdin)', async () => {
    await writeFile(
      join(binDir, 'helper-store.json'),
      JSON.stringify({
        'helped.example': { Username: 'hu', Secret: 'hs' },
        'token.example': { Username: '<token>', Secret: 'identity-xyz' },
        [DOCKER_HUB_CONFIG_KEY]: { Username: 'hub', Secret: 'hubsecret' },
      }),
    );
    await writeConfig({ credsStore: 'test', auths: { 'helped.example': {} } });
    const src = new DockerConfigCredentials({ env });
    expect(await src.get('helped.example')).to.deep.equal({ username: 'hu', password: 'hs' });
    expect(await src.get('token.example')).to.deep.equal({ identityToken: 'identity-xyz' });
    expect(await src.get('docker.io')).to.deep.equal({ username: 'hub', password: 'hubsecret' });
    expect(await src.get('missing.example')).to.equal(undefined);
    expect((await helperLog()).map((l) => [l.verb, l.input])).to.deep.equal([
      ['get', 'helped.example'],
      ['get', 'token.example'],
      ['get', DOCKER_HUB_CONFIG_KEY],
      ['get', 'missing.example'],
    ]);
    const failing = await codedRejection(src.get('failing.example'));
    expect(failing.code).to.equal('ERR_CREDENTIAL_HELPER_FAILED');
    expect(failing.message).to.contain('keychain is locked');
    expect((await codedRejection(src.get('broken.example'))).code).to.equal('ERR_CREDENTIAL_HELPER_FAILED');

    // credHelpers wins for its host; other hosts use the file.
    await writeConfig({ credHelpers: { 'helped.example': 'test' }, auths: { 'file.example': { auth: b64('f:p') } } });
    expect(await src.get('helped.example')).to.deep.equal({ username: 'hu', password: 'hs' });
    expect(await src.get('file.example')).to.deep.equal({ username: 'f', password: 'p' });
    await writeConfig({ credsStore: 'absent' });
    expect((await codedRejection(src.get('x.example'))).code).to.equal('ERR_TOOL_MISSING');
  });

  it('StaticCredentials matches normalised hosts', async () => {
    const src = new StaticCredentials({ 'docker.io': { username: 'u', password: 'p' }, 'r.example': { identityToken: 't' } });
    expect(await src.get('index.docker.io')).to.deep.equal({ username: 'u', password: 'p' });
    expect(await src.get('https://r.example/v2/')).to.deep.equal({ identityToken: 't' });
    expect(await src.get('other')).to.equal(undefined);
  });

  it('store writes base64 auth with mode 0600, keeps every other key, and reads back', async () => {
    await writeConfig({
      auths: { 'keep.example': { auth: b64('k:v') } },
      psFormat: 'table {{.ID}}',
      proxies: { default: { httpProxy: 'http://p:3128' } },
      HttpHeaders: { 'X-A': 'b' },
    });
    await chmod(join(dir, 'docker', 'config.json'), 0o644);
    const saved = await storeDockerCredential('http://127.0.0.1:5000', { username: 'alice', password: 'pw' }, { env });
    expect(saved).to.deep.equal({ key: '127.0.0.1:5000', path: join(dir, 'docker', 'config.json'), helper: undefined });
    const cfg = await readConfig();
    expect(cfg).to.deep.equal({
      auths: { 'keep.example': { auth: b64('k:v') }, '127.0.0.1:5000': { auth: b64('alice:pw') } },
      psFormat: 'table {{.ID}}',
      proxies: { default: { httpProxy: 'http://p:3128' } },
      HttpHeaders: { 'X-A': 'b' },
    });
    expect((await stat(join(dir, 'docker', 'config.json'))).mode & 0o777).to.equal(0o600);
    expect(await new DockerConfigCredentials({ env }).get('127.0.0.1:5000')).to.deep.equal({ username: 'alice', password: 'pw' });
    // The identity-token form docker writes: auth of "user:" plus identitytoken.
    await storeDockerCredential('tok.example', { identityToken: 'it', username: 'u' }, { env });
    expect((await readConfig()).auths)
      .to.have.property('tok.example')
      .that.deep.equals({ auth: b64('u:'), identitytoken: 'it' });
  });

  it('store creates a missing config dir (0700) and file; writes through a symlinked config.json', async () => {
    const fresh = join(dir, 'fresh', 'docker');
    await storeDockerCredential('r.example', { username: 'a', password: 'b' }, { configDir: fresh });
    expect((await stat(fresh)).mode & 0o777).to.equal(0o700);
    expect((await stat(join(fresh, 'config.json'))).mode & 0o777).to.equal(0o600);
    const target = join(dir, 'real-config.json');
    await writeFile(target, JSON.stringify({ auths: {} }));
    await symlink(target, join(dir, 'docker', 'config.json'));
    await storeDockerCredential('r.example', { username: 'a', password: 'b' }, { env });
    expect(JSON.parse(await readFile(target, 'utf8'))).to.deep.equal({ auths: { 'r.example': { auth: b64('a:b') } } });
  });

  it('store and erase go through the credential helper, leaving an empty auths entry like docker', async () => {
    await writeConfig({ credsStore: 'test', currentContext: 'default' });
    const saved = await storeDockerCredential('r.example', { username: 'alice', password: 'pw' }, { env });
    expect(saved.helper).to.equal('test');
    expect(await readConfig()).to.deep.equal({ credsStore: 'test', currentContext: 'default', auths: { 'r.example': {} } });
    expect(JSON.parse(await readFile(join(binDir, 'helper-store.json'), 'utf8'))).to.deep.equal({ 'r.example': { Username: 'alice', Secret: 'pw' } });
    expect(await new DockerConfigCredentials({ env }).get('r.example')).to.deep.equal({ username: 'alice', password: 'pw' });
    await storeDockerCredential('t.example', { identityToken: 'idt' }, { env });
    expect(JSON.parse(await readFile(join(binDir, 'helper-store.json'), 'utf8'))['t.example']).to.deep.equal({ Username: '<token>', Secret: 'idt' });

    const erased = await eraseDockerCredential('r.example', { env });
    expect(erased).to.deep.equal({ keys: ['r.example'], warnings: [] });
    expect((await readConfig()).auths).to.deep.equal({ 't.example': {} });
    expect(JSON.parse(await readFile(join(binDir, 'helper-store.json'), 'utf8'))).to.not.have.property('r.example');
    expect((await helperLog()).filter((l) => l.verb === 'erase').map((l) => l.input)).to.deep.equal(['r.example']);
  });

  it('erase removes the host and its http(s):// forms from the file; not logged in writes nothing', async () => {
    await writeConfig({ auths: { 'r.example': { auth: b64('a:b') }, 'https://r.example': { auth: b64('a:b') }, 'o.example': { auth: b64('c:d') } }, other: 1 });
    const erased = await eraseDockerCredential('r.example', { env });
    expect(erased.keys).to.deep.equal(['r.example', 'https://r.example']);
    expect(await readConfig()).to.deep.equal({ auths: { 'o.example': { auth: b64('c:d') } }, other: 1 });
    const before = await stat(join(dir, 'docker', 'config.json'));
    expect(await eraseDockerCredential('r.example', { env })).to.deep.equal({ keys: [], warnings: [] });
    expect((await stat(join(dir, 'docker', 'config.json'))).mtimeMs).to.equal(before.mtimeMs);
  });
});
