// Every CLI failure is one line, `containerkit: <message> (<code>)`, and leaves nothing behind.

import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { type CliRun, captureCli } from '../../fixtures/cli.js';
import { seedCliStore } from '../../fixtures/cli-store.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const cli = (root: string, ...argv: string[]) => captureCli(['--root', root, ...argv], { DOCKER_CONFIG: root });

/** Asserts `run` failed with exactly one stderr line carrying `code`. */
function failedWith(run: CliRun, code: string, exit = 1): void {
  expect(run.code, run.err).to.equal(exit);
  expect(run.err).to.match(new RegExp(`^containerkit: [^\\n]+ \\(${code}\\)\\n$`));
}

describe('cli: failures are one coded line', function () {
  this.timeout(60_000);
  let dir: string;
  let root: string;
  let image: string;

  before(async () => {
    dir = await makeTempDir('cli-errors');
    root = join(dir, 'root');
    [image] = await seedCliStore(root, 1);
  });
  after(async () => {
    await removeTempDir(dir);
  });

  it('save -o into a missing directory: ERR_NOT_FOUND, no stray file', async () => {
    const run = await cli(root, 'save', '-o', join(dir, 'no', 'such', 'x.tar'), image!);
    failedWith(run, 'ERR_NOT_FOUND');
    expect(run.err).to.include(join(dir, 'no', 'such', 'x.tar'));
    const ok = await cli(root, 'save', '-o', join(dir, 'ok.tar'), image!);
    expect(ok.code, ok.err).to.equal(0);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).to.deep.equal([]);
  });

  it('load of a cut or garbage archive: ERR_INVALID_TAR, and no ingest left behind, every time', async () => {
    const good = join(dir, 'good.tar');
    expect((await cli(root, 'save', '-o', good, image!)).code).to.equal(0);
    const bytes = await readFile(good);
    const cut = join(dir, 'cut.tar');
    // Cut inside the layer blob, so a blob was being ingested when the archive ended.
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const garbage = join(dir, 'garbage.tar');
    await writeFile(garbage, Buffer.alloc(4096, 0x41));
    for (const file of [cut, cut, garbage]) {
      failedWith(await cli(root, 'load', '-i', file), 'ERR_INVALID_TAR');
      expect(await readdir(join(root, 'content', 'ingest'))).to.deep.equal([]);
    }
    failedWith(await cli(root, 'load', '-i', join(dir, 'missing.tar')), 'ERR_NOT_FOUND');
  });

  it('an unknown option or a missing value: ERR_INVALID_ARGUMENT with a hint, exit 2', async () => {
    expect(await cli(root, 'version', '--nope')).to.deep.equal({
      code: 2,
      out: '',
      err: `containerkit: unknown option --nope for "version"; see 'containerkit help version' (ERR_INVALID_ARGUMENT)\n`,
    });
    const missing = await cli(root, 'save', image!, '-o');
    failedWith(missing, 'ERR_INVALID_ARGUMENT', 2);
    expect(missing.err).to.include('option --output for "save" needs a value');
    // containerd parses its own options: the same one line.
    failedWith(await cli(root, 'containerd', '--bogus', 'version'), 'ERR_INVALID_ARGUMENT', 2);
  });

  it('read-only verbs on a missing root create nothing: an empty listing, or image not found', async () => {
    const missing = join(dir, 'never-created');
    const images = await cli(missing, 'images');
    expect(images).to.deep.equal({ code: 0, out: 'REPOSITORY   TAG   IMAGE ID   CREATED   SIZE\n', err: '' });
    expect((await cli(missing, 'images', '-q')).out).to.equal('');
    failedWith(await cli(missing, 'image', 'inspect', 'busybox'), 'ERR_IMAGE_NOT_FOUND');
    failedWith(await cli(missing, 'save', '-o', join(dir, 'none.tar'), 'busybox'), 'ERR_IMAGE_NOT_FOUND');
    failedWith(await cli(missing, 'tag', 'busybox', 'example.com/b:1'), 'ERR_IMAGE_NOT_FOUND');
    failedWith(await cli(missing, 'rmi', 'busybox'), 'ERR_IMAGE_NOT_FOUND');
    failedWith(await cli(missing, 'unpack', 'busybox', join(dir, 'unpacked')), 'ERR_IMAGE_NOT_FOUND');
    expect(await cli(missing, 'verify')).to.include({ code: 0, out: 'checked 0 blobs: 0 corrupt, 0 missing\n' });
    expect(await cli(missing, 'gc')).to.include({ code: 0, out: '0 blobs, 0 bytes; 0 ingests\n' });
    expect(existsSync(missing)).to.equal(false);
    expect(existsSync(join(dir, 'none.tar'))).to.equal(false);
  });
});
