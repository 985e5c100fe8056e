import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import { generateSpec } from '../../../lib/runtime/spec/generate.js';
import { withRootPath } from '../../../lib/runtime/spec/opts-mounts.js';
import { withAdditionalGids, withUser } from '../../../lib/runtime/spec/opts-process.js';
import { lookupSupplementaryGids, parseGroup, parsePasswd, readRootfsFile, resolveUser } from '../../../lib/runtime/spec/user.js';
import { rejection } from '../../fixtures/assert.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  '# a comment',
  '',
  'app:x:1234:2345:App:/home/app:/bin/sh',
  'broken:x:notanumber:1::/:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
].join('\n');
const GROUP = ['root:x:0:', 'appgroup:x:2345:', 'wheel:x:10:app,other', 'audio:x:29:other, app', 'staff:x:50:'].join('\n');

describe('runtime/spec users', () => {
  let base: string;
  let rootfs: string;
  let outside: string;

  beforeEach(async () => {
    base = await makeTempDir('spec-user');
    rootfs = join(base, 'rootfs');
    outside = join(base, 'outside');
    mkdirSync(join(rootfs, 'etc'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(rootfs, 'etc', 'passwd'), PASSWD);
    writeFileSync(join(rootfs, 'etc', 'group'), GROUP);
  });

  afterEach(async () => {
    await removeTempDir(base);
  });

  it('parses passwd and group files, skipping junk', () => {
    expect(parsePasswd(PASSWD).map((p) => p.name)).to.deep.equal(['root', 'app', 'nobody']);
    expect(parsePasswd(PASSWD)[1]).to.deep.equal({ name: 'app', uid: 1234, gid: 2345, home: '/home/app', shell: '/bin/sh' });
    expect(parseGroup(GROUP)[3]).to.deep.equal({ name: 'audio', gid: 29, members: ['other', 'app'] });
  });

  it('resolves name, uid, uid:gid, name:group and mixes', async () => {
    expect(await resolveUser(rootfs, 'app')).to.deep.equal({ uid: 1234, gid: 2345 });
    expect(await resolveUser(rootfs, '1234')).to.deep.equal({ uid: 1234, gid: 2345 });
    expect(await resolveUser(rootfs, '4321')).to.deep.equal({ uid: 4321, gid: 0 }); // no passwd line: gid 0
    expect(await resolveUser(undefined, '7:8')).to.deep.equal({ uid: 7, gid: 8 }); // no lookup needed
    expect(await resolveUser(rootfs, 'app:wheel')).to.deep.equal({ uid: 1234, gid: 10 });
    expect(await resolveUser(rootfs, 'app:99')).to.deep.equal({ uid: 1234, gid: 99 });
    expect(await resolveUser(rootfs, '1234:staff')).to.deep.equal({ uid: 1234, gid: 50 });
  });

  it('fails with ERR_USER_NOT_FOUND for an unknown user or group', async () => {
    const noUser = await rejection(resolveUser(rootfs, 'ghost'));
    expect(hasCode(noUser, 'ERR_USER_NOT_FOUND')).to.equal(true);
    expect((noUser as Error).message).to.include('ghost');
    expect(hasCode(await rejection(resolveUser(rootfs, 'app:ghosts')), 'ERR_USER_NOT_FOUND')).to.equal(true);
    expect(hasCode(await rejection(resolveUser(rootfs, 'broken')), 'ERR_USER_NOT_FOUND')).to.equal(true);
  });

  it('refuses malformed users and lookups without a rootfs', async () => {
    for (const bad of ['', 'a:b:c', ':1', '1:', '99999999999']) {
      expect(hasCode(await rejection(resolveUser(rootfs, bad)), 'ERR_INVALID_ARGUMENT'), bad).to.equal(true);
    }
    expect(hasCode(await rejection(resolveUser(undefined, 'app')), 'ERR_FAILED_PRECONDITION')).to.equal(true);
  });

  it('resolves a symlinked /etc/passwd pointing outside the rootfs inside it', async () => {
    // The host file the link names holds a different "app"; the same path inside the rootfs holds the real one.
    writeFileSync(join(outside, 'passwd'), 'app:x:4242:4242::/:/bin/sh\n');
    mkdirSync(join(rootfs, outside), { recursive: true });
    writeFileSync(join(rootfs, outside, 'passwd'), 'app:x:1111:2222::/:/bin/sh\n');
    unlinkSync(join(rootfs, 'etc', 'passwd'));
    symlinkSync(join(outside, 'passwd'), join(rootfs, 'etc', 'passwd'));
    expect(await resolveUser(rootfs, 'app')).to.deep.equal({ uid: 1111, gid: 2222 });
  });

  it('does not read the host file when the link target is missing inside the rootfs', async () => {
    writeFileSync(join(outside, 'passwd'), 'app:x:4242:4242::/:/bin/sh\n');
    unlinkSync(join(rootfs, 'etc', 'passwd'));
    symlinkSync(join(outside, 'passwd'), join(rootfs, 'etc', 'passwd'));
    expect(hasCode(await rejection(resolveUser(rootfs, 'app')), 'ERR_USER_NOT_FOUND')).to.equal(true);
    symlinkSync('../../outside/passwd', join(rootfs, 'etc', 'relative-link'));
    expect(await readRootfsFile(rootfs, '/etc/relative-link')).to.equal(undefined);
  });

  it('never reads the host file while /etc is swapped for a symlink to it, thousands of times', async function () {
    this.timeout(120_000);
    // The canary: a host directory with its own passwd, which an escaped lookup would read.
    writeFileSync(join(outside, 'passwd'), 'app:x:4242:4242::/:/bin/sh\n');
    symlinkSync(outside, join(rootfs, 'etc-link'));
    // Swaps rootfs/etc (the real directory) and rootfs/etc-link (the symlink to the canary) as fast as it can.
    const swap = `const fs = require('fs'); const r = process.argv[1]; process.stdout.write('ready\\n');
      for (;;) { fs.renameSync(r + '/etc', r + '/etc-dir'); fs.renameSync(r + '/etc-link', r + '/etc');
                 fs.renameSync(r + '/etc', r + '/etc-link'); fs.renameSync(r + '/etc-dir', r + '/etc'); }`;
    const swapper = spawn(process.execPath, ['-e', swap, rootfs], { stdio: ['ignore', 'pipe', 'inherit'] });
    const outcomes = { inside: 0, missing: 0, canary: 0 };
    try {
      await once(swapper.stdout, 'data');
      // At least 3000 lookups, and on until both outcomes of the race were seen (the swapper really interleaved).
      for (let i = 0; i < 50_000 && (i < 3000 || outcomes.inside === 0 || outcomes.missing === 0); i++) {
        try {
          const { uid } = await resolveUser(rootfs, 'app');
          if (uid === 4242) outcomes.canary++;
          else if (uid === 1234) outcomes.inside++;
          else expect.fail(`unexpected uid ${uid}`);
        } catch (err) {
          if (!hasCode(err, 'ERR_USER_NOT_FOUND')) throw err;
          outcomes.missing++;
        }
      }
    } finally {
      swapper.kill('SIGKILL');
      await once(swapper, 'exit');
    }
    expect(outcomes.canary, JSON.stringify(outcomes)).to.equal(0);
    expect(outcomes.inside).to.be.greaterThan(0);
    expect(outcomes.missing).to.be.greaterThan(0);
  });

  it('refuses a user database that is not a regular file', async () => {
    unlinkSync(join(rootfs, 'etc', 'passwd'));
    execFileSync('mkfifo', [join(rootfs, 'etc', 'passwd')]);
    expect(hasCode(await rejection(resolveUser(rootfs, 'app')), 'ERR_FAILED_PRECONDITION')).to.equal(true);
  });

  it('finds supplementary groups by name or uid', async () => {
    expect(await lookupSupplementaryGids(rootfs, 'app')).to.deep.equal([10, 29]);
    expect(await lookupSupplementaryGids(rootfs, '1234')).to.deep.equal([10, 29]);
    expect(await lookupSupplementaryGids(rootfs, '9999')).to.deep.equal([]);
  });

  it('withUser sets the ids and resets the groups to the primary one', async () => {
    const spec = await generateSpec([withUser('app')], { rootfs, hostRlimits: {} });
    expect(spec.process!.user).to.deep.equal({ uid: 1234, gid: 2345, additionalGids: [2345] });
    const withGroups = await generateSpec([withUser('app'), withAdditionalGids()], { rootfs, hostRlimits: {} });
    expect(withGroups.process!.user).to.deep.equal({ uid: 1234, gid: 2345, additionalGids: [2345, 10, 29] });
  });

  it('withUser uses an absolute root path when no rootfs is given', async () => {
    const spec = await generateSpec([withRootPath(rootfs), withUser('nobody')], { hostRlimits: {} });
    expect(spec.process!.user.uid).to.equal(65534);
    const err = await rejection(generateSpec([withUser('nobody')], { hostRlimits: {} }));
    expect(hasCode(err, 'ERR_FAILED_PRECONDITION')).to.equal(true);
  });

  it('withUser rejects an unknown user', async () => {
    const err = await rejection(generateSpec([withUser('ghost')], { rootfs, hostRlimits: {} }));
    expect(hasCode(err, 'ERR_USER_NOT_FOUND')).to.equal(true);
  });
});
