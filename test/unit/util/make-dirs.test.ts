import { spawnSync } from 'node:child_process';
import { stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { makeDirs } from '../../../lib/util/make-dirs.js';
import { codedRejection } from '../../fixtures/assert.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

describe('util: makeDirs', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir('make-dirs');
  });
  after(async () => {
    await removeTempDir(dir);
  });

  it('creates every missing level with the mode, and accepts what exists', async () => {
    const deep = join(dir, 'a', 'b', 'c');
    await makeDirs(deep, 0o700);
    expect((await stat(deep)).mode & 0o777).to.equal(0o700);
    await makeDirs(deep);
    await makeDirs(dir);
  });

  it('fails with a code when a level is a file', async () => {
    await writeFile(join(dir, 'file'), 'x');
    expect((await codedRejection(makeDirs(join(dir, 'file', 'sub')))).code).to.equal('ERR_IO');
  });

  it('fails under /proc instead of retrying forever (in a child: the old way never returns)', () => {
    const repo = resolve(import.meta.dirname, '..', '..', '..');
    const script = "import { makeDirs } from './lib/util/make-dirs.ts'; makeDirs('/proc/1/x/y').catch((e) => console.log(e.code));";
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repo, encoding: 'utf8', timeout: 30_000 });
    expect(child.stdout).to.equal('ERR_NOT_FOUND\n');
  });
});
