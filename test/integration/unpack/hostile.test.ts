// The hostile corpus: every case must be contained inside the root or refused with its exact code, and
// nothing outside the root (a canary beside it, a canary at an absolute path) may change.

import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { ContainerkitError } from '../../../lib/errors/index.js';
import { type ApplyLayerOptions, applyLayer } from '../../../lib/unpack/index.js';
import { fileBomb, hostileCorpus, rawTar, truncatedGzip, zeroBomb } from '../../fixtures/hostile-layers.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';
import { treeFingerprint } from '../../fixtures/tree-compare.js';

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    if (err instanceof ContainerkitError) return err.code;
    throw err;
  }
}

const apply = (root: string, blob: Buffer, options: ApplyLayerOptions = {}): Promise<unknown> => applyLayer(root, Readable.from([blob]), options);

describe('unpack: the hostile corpus', function () {
  this.timeout(60_000);
  let work: string;
  let absolute: string;
  const besideName = 'canary';

  before(async () => {
    work = await makeTempDir('unpack-hostile');
    absolute = `/tmp/ck-canary-${randomBytes(6).toString('hex')}`;
  });
  after(async () => {
    await removeTempDir(work);
    await rm(absolute, { recursive: true, force: true });
  });

  async function makeCanary(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'file'), 'canary\n');
    await writeFile(join(dir, 'passwd'), 'root:x:0:0\n');
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'x'), 'x\n');
  }

  let caseNo = 0;
  for (const hostile of hostileCorpus({ besideName, absolute: '/tmp/ck-canary-PLACEHOLDER' })) {
    it(`${hostile.code ? `refuses (${hostile.code})` : 'contains'}: ${hostile.name}`, async () => {
      // The corpus is built per test with the real canary path.
      const real = hostileCorpus({ besideName, absolute }).find((c) => c.name === hostile.name)!;
      const base = join(work, `case-${caseNo++}`);
      const root = join(base, 'root');
      await mkdir(root, { recursive: true });
      await makeCanary(join(base, besideName));
      await rm(absolute, { recursive: true, force: true });
      await makeCanary(absolute);
      const before = [await treeFingerprint(join(base, besideName)), await treeFingerprint(absolute)];
      let code: string | undefined;
      for (const tar of real.layers) {
        code = await codeOf(apply(root, gzipSync(tar)));
        if (code) break;
      }
      expect(code).to.equal(real.code);
      expect([await treeFingerprint(join(base, besideName)), await treeFingerprint(absolute)]).to.deep.equal(before);
      expect((await readdir(base)).sort()).to.deep.equal([besideName, 'root']);
      for (const path of real.inside ?? [])
        expect((await lstat(join(root, path))).isFile() || (await lstat(join(root, path))).isCharacterDevice(), path).to.equal(true);
      for (const [path, content] of Object.entries(real.contents ?? {})) expect(await readFile(join(root, path), 'utf8'), path).to.equal(content);
      // A refused layer applied to a fresh (empty) root leaves it empty.
      if (real.code && real.layers.length === 1) expect(await readdir(root)).to.deep.equal([]);
    });
  }

  it('keeps a directory entry over a symlink from changing the target directory', async () => {
    const root = join(work, 'dir-over-link');
    await rm(absolute, { recursive: true, force: true });
    await makeCanary(absolute);
    const before = await treeFingerprint(absolute);
    await apply(
      root,
      gzipSync(
        rawTar([
          { name: 'evil', type: '2', linkname: absolute },
          { name: 'evil', type: '5', mode: 0o777, uid: 4242, gid: 4242 },
        ]),
      ),
    );
    expect(await treeFingerprint(absolute)).to.equal(before);
    const st = await lstat(join(root, 'evil'));
    expect(st.isDirectory()).to.equal(true);
    expect(st.uid).to.equal(4242);
  });

  it('refuses a truncated gzip stream with ERR_LAYER_TRUNCATED and removes the partial root it created', async () => {
    const files = Array.from({ length: 200 }, (_, i) => ({ name: `f${i}`, data: randomBytes(2000) }));
    const root = join(work, 'truncated-gzip');
    expect(await codeOf(apply(root, truncatedGzip(rawTar(files), 0.6)))).to.equal('ERR_LAYER_TRUNCATED');
    expect(await lstat(root).catch(() => 'gone')).to.equal('gone');
    const existing = join(work, 'truncated-gzip-existing');
    await mkdir(existing);
    expect(await codeOf(apply(existing, truncatedGzip(rawTar(files), 0.6)))).to.equal('ERR_LAYER_TRUNCATED');
    expect(await readdir(existing)).to.deep.equal([]);
  });

  it('refuses corrupt gzip with ERR_LAYER_CORRUPT and a wrong digest or diff_id with ERR_DIGEST_MISMATCH', async () => {
    const tar = rawTar([{ name: 'a', data: 'a\n' }]);
    const gz = gzipSync(tar);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x55, 10, 30);
    expect(await codeOf(apply(join(work, 'corrupt'), corrupt, { compression: 'gzip' }))).to.equal('ERR_LAYER_CORRUPT');
    const wrong = `sha256:${'0'.repeat(64)}`;
    expect(await codeOf(apply(join(work, 'bad-digest'), gz, { expectedDigest: wrong }))).to.equal('ERR_DIGEST_MISMATCH');
    expect(await codeOf(apply(join(work, 'bad-diffid'), gz, { expectedDiffId: wrong }))).to.equal('ERR_DIGEST_MISMATCH');
    expect(await lstat(join(work, 'bad-diffid')).catch(() => 'gone')).to.equal('gone');
    // Uncompressed data named as gzip is corrupt gzip, not a tar.
    expect(await codeOf(apply(join(work, 'not-gzip'), tar, { compression: 'gzip' }))).to.equal('ERR_LAYER_CORRUPT');
  });

  it('stops a decompression bomb at maxUncompressedSize with ERR_LAYER_TOO_LARGE and cleans up', async () => {
    const bomb = fileBomb(4 * 1024 * 1024 * 1024);
    expect(bomb.length).to.be.below(5 * 1024 * 1024);
    const root = join(work, 'bomb-limited');
    expect(await codeOf(apply(root, bomb, { maxUncompressedSize: 32 * 1024 * 1024 }))).to.equal('ERR_LAYER_TOO_LARGE');
    expect(await lstat(root).catch(() => 'gone')).to.equal('gone');
  });

  it('keeps memory bounded through a 2 GiB bomb without a limit', async () => {
    const bomb = zeroBomb(2);
    const root = join(work, 'bomb-unlimited');
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    try {
      const result = (await apply(root, bomb)) as { uncompressedSize: number };
      expect(result.uncompressedSize).to.be.above(2 * 1024 * 1024 * 1024);
    } finally {
      clearInterval(timer);
    }
    expect(peak - before, 'RSS growth').to.be.below(100 * 1024 * 1024);
    expect(await readFile(join(root, 'small'), 'utf8')).to.equal('ok\n');
  });

  it('rejects with signal.reason on abort, before and during the apply, and cleans up', async () => {
    const reason = new Error('stop');
    const aborted = AbortSignal.abort(reason);
    const root = join(work, 'aborted');
    await applyLayer(root, Readable.from([gzipSync(rawTar([{ name: 'a' }]))]), { signal: aborted }).then(
      () => expect.fail('resolved'),
      (err: unknown) => expect(err).to.equal(reason),
    );
    const controller = new AbortController();
    const files = Array.from({ length: 3000 }, (_, i) => ({ name: `f${i}`, data: 'x' }));
    const pending = applyLayer(root, Readable.from([gzipSync(rawTar(files))]), { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 20);
    await pending.then(
      () => expect.fail('resolved'),
      (err: unknown) => expect(err).to.equal(reason),
    );
    expect(await lstat(root).catch(() => 'gone')).to.equal('gone');
  });

  it('ignores trusted.overlay.* xattrs a layer carries', async () => {
    const root = join(work, 'forged-overlay-xattr');
    await apply(root, gzipSync(rawTar([{ name: 'd', type: '5', mode: 0o755, pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y' } }])));
    const { runTool } = await import('../../../lib/util/exec.js');
    const { stdout } = await runTool('getfattr', ['-h', '-d', '-m', '-', join(root, 'd')]);
    expect(stdout).to.not.include('trusted.overlay');
  });
});
