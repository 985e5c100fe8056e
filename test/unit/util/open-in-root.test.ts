import { execFileSync } from 'node:child_process';
import { constants, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { MAX_IN_ROOT_SYMLINKS, openInRoot, readFileInRoot, writeFileInRoot } from '../../../lib/util/open-in-root.js';
import { codedRejection } from '../../fixtures/assert.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_DIRECTORY, O_NOFOLLOW } = constants;

describe('util/open-in-root', () => {
  let base: string; // holds the root and an "outside" sibling with the same layout
  let root: string;

  beforeEach(() => {
    base = realpathSync(mkdtempSync(join(tmpdir(), 'ck-open-in-root-')));
    root = join(base, 'root');
    for (const dir of [root, join(base, 'outside')]) {
      mkdirSync(join(dir, 'etc', 'sub'), { recursive: true });
      writeFileSync(join(dir, 'etc', 'passwd'), dir === root ? 'inside' : 'outside');
      writeFileSync(join(dir, 'etc', 'sub', 'file'), dir === root ? 'inside-sub' : 'outside-sub');
    }
  });

  afterEach(() => rmSync(base, { recursive: true, force: true }));

  async function read(path: string): Promise<string> {
    return (await readFileInRoot(root, path)).toString('utf8');
  }

  it('reads plain paths, absolute or relative, with . and trailing /', async () => {
    expect(await read('/etc/passwd')).to.equal('inside');
    expect(await read('etc/./sub/file')).to.equal('inside-sub');
    expect(await read('etc/sub/../passwd')).to.equal('inside');
    expect(await read('etc/passwd/')).to.equal('inside');
  });

  it('clamps .. at the root', async () => {
    expect(await read('../../../etc/passwd')).to.equal('inside');
    // The host path of the sibling, taken inside the root, is not the sibling.
    expect((await codedRejection(readFileInRoot(root, `/../..${root}/../outside/etc/passwd`))).code).to.equal('ERR_NOT_FOUND');
    const dir = await openInRoot(root, '../..', O_RDONLY | O_DIRECTORY);
    try {
      expect((await dir.stat()).ino).to.equal(statSync(root).ino);
    } finally {
      await dir.close();
    }
  });

  it('resolves absolute and relative symlinks in intermediate directories inside the root', async () => {
    symlinkSync(join(base, 'outside', 'etc'), join(root, 'abs')); // absolute: from the root, not the host's /
    mkdirSync(join(root, base, 'outside', 'etc'), { recursive: true });
    writeFileSync(join(root, base, 'outside', 'etc', 'passwd'), 'shadow-in-root');
    expect(await read('abs/passwd')).to.equal('shadow-in-root');
    symlinkSync('../../../../etc', join(root, 'etc', 'sub', 'rel')); // climbs above the root: clamped there
    expect(await read('etc/sub/rel/passwd')).to.equal('inside');
    symlinkSync('sub', join(root, 'etc', 'hop'));
    symlinkSync('/etc/hop/../hop', join(root, 'chain'));
    expect(await read('chain/file')).to.equal('inside-sub');
  });

  it('never reads outside through a relative symlink that climbs out of the root', async () => {
    symlinkSync('../outside/etc', join(root, 'up'));
    const err = await codedRejection(readFileInRoot(root, 'up/passwd'));
    expect(err.code).to.equal('ERR_NOT_FOUND');
    mkdirSync(join(root, 'outside', 'etc'), { recursive: true });
    writeFileSync(join(root, 'outside', 'etc', 'passwd'), 'clamped');
    expect(await read('up/passwd')).to.equal('clamped');
  });

  it('follows a final symlink inside the root, or refuses it with O_NOFOLLOW', async () => {
    symlinkSync(join(base, 'outside', 'etc', 'passwd'), join(root, 'etc', 'link'));
    expect((await codedRejection(readFileInRoot(root, 'etc/link'))).code).to.equal('ERR_NOT_FOUND');
    symlinkSync('passwd', join(root, 'etc', 'near'));
    expect(await read('etc/near')).to.equal('inside');
    const err = await codedRejection(openInRoot(root, 'etc/near', O_RDONLY | O_NOFOLLOW));
    expect(err.code).to.equal('ERR_FAILED_PRECONDITION');
    expect(err.details.errno).to.equal('ELOOP');
    symlinkSync('sub', join(root, 'etc', 'subdir-link'));
    expect((await codedRejection(openInRoot(root, 'etc/subdir-link', O_RDONLY | O_DIRECTORY | O_NOFOLLOW))).code).to.equal('ERR_FAILED_PRECONDITION');
    const followed = await openInRoot(root, 'etc/subdir-link', O_RDONLY | O_DIRECTORY);
    expect((await followed.stat()).ino).to.equal(statSync(join(root, 'etc', 'sub')).ino);
    await followed.close();
  });

  it('creates through a dangling final symlink inside the root with O_CREAT', async () => {
    symlinkSync(join(base, 'outside', 'etc', 'created'), join(root, 'etc', 'dangling'));
    mkdirSync(join(root, base, 'outside', 'etc'), { recursive: true });
    const fh = await openInRoot(root, 'etc/dangling', O_WRONLY | O_CREAT, { mode: 0o600 });
    await fh.writeFile('new');
    await fh.close();
    expect(readFileSync(join(root, base, 'outside', 'etc', 'created'), 'utf8')).to.equal('new');
    expect(() => lstatSync(join(base, 'outside', 'etc', 'created'))).to.throw(/ENOENT/);
  });

  it('fails on symlink loops with ERR_SYMLINK_LOOP', async () => {
    symlinkSync('b', join(root, 'a'));
    symlinkSync('a', join(root, 'b'));
    expect((await codedRejection(readFileInRoot(root, 'a/x'))).code).to.equal('ERR_SYMLINK_LOOP');
    expect((await codedRejection(readFileInRoot(root, 'a'))).code).to.equal('ERR_SYMLINK_LOOP');
    symlinkSync('/self/self', join(root, 'self'));
    expect((await codedRejection(readFileInRoot(root, 'self'))).code).to.equal('ERR_SYMLINK_LOOP');
    // A long but finite chain within the limit is fine.
    for (let i = 0; i < MAX_IN_ROOT_SYMLINKS - 1; i++) symlinkSync(`l${i + 1}`, join(root, `l${i}`));
    symlinkSync('etc/passwd', join(root, `l${MAX_IN_ROOT_SYMLINKS - 1}`));
    expect(await read('l0')).to.equal('inside');
  });

  it('reports missing components, non-directories and bad roots with typed errors', async () => {
    expect((await codedRejection(readFileInRoot(root, 'nope/passwd'))).code).to.equal('ERR_NOT_FOUND');
    expect((await codedRejection(readFileInRoot(root, 'etc/passwd/x'))).code).to.equal('ERR_NOT_FOUND');
    expect((await codedRejection(readFileInRoot(join(base, 'missing'), 'etc/passwd'))).code).to.equal('ERR_NOT_FOUND');
    expect((await codedRejection(readFileInRoot(join(root, 'etc', 'passwd'), 'x'))).code).to.equal('ERR_INVALID_ARGUMENT');
    expect((await codedRejection(readFileInRoot(root, 'etc'))).code).to.equal('ERR_FAILED_PRECONDITION');
    expect((await codedRejection(readFileInRoot(root, 'a\0b'))).code).to.equal('ERR_INVALID_ARGUMENT');
  });

  it('readFileInRoot refuses FIFOs without blocking and files over the cap', async () => {
    execFileSync('mkfifo', [join(root, 'etc', 'fifo')]);
    expect((await codedRejection(readFileInRoot(root, 'etc/fifo'))).code).to.equal('ERR_FAILED_PRECONDITION');
    expect((await readFileInRoot(root, 'etc/passwd', { maxBytes: 6 })).toString()).to.equal('inside');
    const err = await codedRejection(readFileInRoot(root, 'etc/passwd', { maxBytes: 5 }));
    expect(err.code).to.equal('ERR_FAILED_PRECONDITION');
    expect(err.details.maxBytes).to.equal(5);
  });

  it('honours an aborted signal', async () => {
    const reason = new Error('stop');
    const err = await readFileInRoot(root, 'etc/passwd', { signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
    expect(err).to.equal(reason);
  });

  it('writeFileInRoot creates and replaces files in the resolved directory', async () => {
    symlinkSync(join(base, 'outside', 'etc'), join(root, 'etclink'));
    mkdirSync(join(root, base, 'outside', 'etc'), { recursive: true });
    await writeFileInRoot(root, 'etclink/hosts', '127.0.0.1 localhost\n', { mode: 0o640 });
    const inRoot = join(root, base, 'outside', 'etc', 'hosts');
    expect(readFileSync(inRoot, 'utf8')).to.equal('127.0.0.1 localhost\n');
    expect(statSync(inRoot).mode & 0o7777).to.equal(0o640);
    expect(() => lstatSync(join(base, 'outside', 'etc', 'hosts'))).to.throw(/ENOENT/);
    await writeFileInRoot(root, '/etc/passwd', Buffer.from('replaced'), { uid: 1234, gid: 2345 });
    expect(readFileSync(join(root, 'etc', 'passwd'), 'utf8')).to.equal('replaced');
    expect(statSync(join(root, 'etc', 'passwd'))).to.include({ uid: 1234, gid: 2345 });
  });

  it('writeFileInRoot replaces a final symlink instead of following it', async () => {
    symlinkSync(join(base, 'outside', 'etc', 'passwd'), join(root, 'etc', 'hosts'));
    await writeFileInRoot(root, 'etc/hosts', 'mine');
    expect(lstatSync(join(root, 'etc', 'hosts')).isFile()).to.equal(true);
    expect(readFileSync(join(root, 'etc', 'hosts'), 'utf8')).to.equal('mine');
    expect(readFileSync(join(base, 'outside', 'etc', 'passwd'), 'utf8')).to.equal('outside');
  });

  it('writeFileInRoot refuses directories, paths naming no file and missing parents', async () => {
    expect((await codedRejection(writeFileInRoot(root, 'etc/sub', 'x'))).code).to.equal('ERR_FAILED_PRECONDITION');
    for (const bad of ['', '/', 'etc/..', 'etc/.', 'etc/']) {
      expect((await codedRejection(writeFileInRoot(root, bad, 'x'))).code, bad).to.equal('ERR_INVALID_ARGUMENT');
    }
    expect((await codedRejection(writeFileInRoot(root, 'none/file', 'x'))).code).to.equal('ERR_NOT_FOUND');
    // No temporary file is left behind.
    expect(readdirSync(join(root, 'etc')).sort()).to.deep.equal(['passwd', 'sub']);
  });
});
