// `containerkit apply-layer`: good layers apply in every compression; refused layers exit 1 with one line and the code.

import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { runTool } from '../../../lib/util/exec.js';
import { captureCli } from '../../fixtures/cli.js';
import { hostileCorpus, type RawEntry, rawTar } from '../../fixtures/hostile-layers.js';
import { sha256Digest } from '../../fixtures/image-layer.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';
import { treeFingerprint } from '../../fixtures/tree-compare.js';

const cli = (args: string[]) => captureCli(args);

const GOOD: RawEntry[] = [
  { name: 'etc/', type: '5', mode: 0o755 },
  { name: 'etc/hello', data: 'hello\n', mode: 0o644 },
  { name: 'bin/', type: '5', mode: 0o755 },
  { name: 'bin/sh', type: '2', linkname: '/bin/busybox', mode: 0o777 },
  { name: 'old', data: 'old\n' },
];
const WHITEOUT: RawEntry[] = [{ name: '.wh.old', data: '' }];

describe('cli: apply-layer', function () {
  this.timeout(60_000);
  let work: string;

  before(async () => {
    work = await makeTempDir('unpack-cli');
  });
  after(async () => {
    await removeTempDir(work);
  });

  it('applies a gzip, a zstd and a plain tar layer, whiteouts included, and prints the diff_id', async () => {
    const dest = join(work, 'good');
    const tar = rawTar(GOOD);
    await writeFile(join(work, 'good.tar.gz'), gzipSync(tar));
    const first = await cli(['apply-layer', '--diff-id', sha256Digest(tar), join(work, 'good.tar.gz'), dest]);
    expect(first).to.deep.equal({ code: 0, out: `${sha256Digest(tar)} gzip ${tar.length}\n`, err: '' });
    expect(await readFile(join(dest, 'etc/hello'), 'utf8')).to.equal('hello\n');

    const wh = rawTar(WHITEOUT);
    await writeFile(join(work, 'wh.tar'), wh);
    await runTool('zstd', ['-q', '-o', join(work, 'wh.tar.zst'), join(work, 'wh.tar')]);
    const second = await cli(['apply-layer', join(work, 'wh.tar.zst'), dest]);
    expect(second.code).to.equal(0);
    expect(second.out).to.equal(`${sha256Digest(wh)} zstd ${wh.length}\n`);
    expect((await readdir(dest)).sort()).to.deep.equal(['bin', 'etc']);

    const plain = await cli(['apply-layer', join(work, 'wh.tar'), dest]);
    expect(plain.out).to.equal(`${sha256Digest(wh)} none ${wh.length}\n`);
  });

  it('refuses hostile layers with exit 1 and one line naming the code, touching nothing outside DEST', async () => {
    const canary = join(work, 'canary');
    await mkdir(canary);
    await writeFile(join(canary, 'file'), 'precious\n');
    const before = await treeFingerprint(canary);
    const corpus = hostileCorpus({ besideName: 'canary', absolute: canary });
    const refused = corpus.filter((c) => c.code !== undefined && c.layers.length === 1);
    expect(refused.length).to.be.greaterThan(5);
    for (const [i, c] of refused.entries()) {
      // DEST sits in a subdirectory so that `../canary` from it reaches the canary.
      const dest = join(work, `dest-${i}`);
      const layer = join(work, `hostile-${i}.tar.gz`);
      await writeFile(layer, gzipSync(c.layers[0]!));
      const result = await cli(['apply-layer', layer, dest]);
      expect(result.code, c.name).to.equal(1);
      expect(result.out, c.name).to.equal('');
      expect(result.err, c.name).to.match(new RegExp(`^containerkit: [^\\n]+ \\(${c.code}\\)\\n$`));
      expect(await treeFingerprint(canary), c.name).to.equal(before);
    }
  });

  it('refuses a layer whose diff_id does not match, and a missing file', async () => {
    const tar = rawTar(GOOD);
    await writeFile(join(work, 'mismatch.tar.gz'), gzipSync(tar));
    const wrong = sha256Digest('something else');
    const mismatch = await cli(['apply-layer', '--diff-id', wrong, join(work, 'mismatch.tar.gz'), join(work, 'mismatch')]);
    expect(mismatch.code).to.equal(1);
    expect(mismatch.err).to.match(/^containerkit: [^\n]+ \(ERR_DIGEST_MISMATCH\)\n$/);
    const missing = await cli(['apply-layer', join(work, 'nope.tar.gz'), join(work, 'missing')]);
    expect(missing.code).to.equal(1);
    expect(missing.err).to.match(/\(ERR_NOT_FOUND\)\n$/);
    const usage = await cli(['apply-layer', join(work, 'nope.tar.gz')]);
    expect(usage.code).to.equal(2);
  });
});
