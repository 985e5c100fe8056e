import { existsSync } from 'node:fs';
import { mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import { mkdirAllInRoot } from '../../../lib/util/mkdir-in-root.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

describe('util/mkdirAllInRoot', () => {
  let dir: string;
  let root: string;
  let outside: string;

  beforeEach(async () => {
    dir = await makeTempDir('mkdir-in-root');
    root = join(dir, 'root');
    outside = join(dir, 'outside');
    await mkdir(root);
    await mkdir(outside);
  });

  afterEach(async () => {
    await removeTempDir(dir);
  });

  async function failure(p: Promise<unknown>): Promise<unknown> {
    return p.then(
      () => 'resolved',
      (e: unknown) => e,
    );
  }

  it('creates missing levels with the mode, and says whether it created any', async () => {
    expect(await mkdirAllInRoot(root, '/a/b/c', { mode: 0o750 })).to.equal(true);
    expect((await stat(join(root, 'a/b/c'))).mode & 0o777).to.equal(0o750 & ~process.umask());
    expect(await mkdirAllInRoot(root, 'a/./b/../b/c/')).to.equal(false);
    expect(await mkdirAllInRoot(root, '/')).to.equal(false);
  });

  it('keeps every level inside the root: absolute and relative symlinks, dangling ones, and ..', async () => {
    await symlink(outside, join(root, 'abs'));
    await symlink('../../outside', join(root, 'rel'));
    await mkdirAllInRoot(root, '/abs/x');
    await mkdirAllInRoot(root, '/rel/y');
    await mkdirAllInRoot(root, '/../../z');
    expect(existsSync(join(outside, 'x')) || existsSync(join(outside, 'y')) || existsSync(join(dir, 'z'))).to.equal(false);
    expect(existsSync(join(root, outside, 'x'))).to.equal(true);
    expect(existsSync(join(root, 'outside', 'y'))).to.equal(true);
    expect(existsSync(join(root, 'z'))).to.equal(true);
  });

  it('fails on a file in the way, a symlink loop and a missing root', async () => {
    await writeFile(join(root, 'file'), '');
    expect(hasCode(await failure(mkdirAllInRoot(root, '/file')), 'ERR_FAILED_PRECONDITION')).to.equal(true);
    expect(hasCode(await failure(mkdirAllInRoot(root, '/file/sub')), 'ERR_FAILED_PRECONDITION')).to.equal(true);
    await symlink('loop', join(root, 'loop'));
    expect(hasCode(await failure(mkdirAllInRoot(root, '/loop/x')), 'ERR_SYMLINK_LOOP')).to.equal(true);
    expect(hasCode(await failure(mkdirAllInRoot(join(dir, 'nope'), '/x')), 'ERR_NOT_FOUND')).to.equal(true);
    expect(hasCode(await failure(mkdirAllInRoot(root, 'a\0b')), 'ERR_INVALID_ARGUMENT')).to.equal(true);
  });

  it('rejects with the signal’s reason when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await failure(mkdirAllInRoot(root, '/a', { signal: controller.signal }))).to.equal(controller.signal.reason);
    expect(existsSync(join(root, 'a'))).to.equal(false);
  });
});
