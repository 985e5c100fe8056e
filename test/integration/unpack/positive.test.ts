// Positive controls: ordinary images must unpack exactly as umoci unpacks them. A refusal fails the test.

import { createReadStream } from 'node:fs';
import { lstat, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { expect } from 'chai';
import { pack } from 'tar-stream';
import { applyLayer, Unpacker } from '../../../lib/unpack/index.js';
import { runTool } from '../../../lib/util/exec.js';
import { buildBusyboxImage, buildLayeredImage } from '../../fixtures/images.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';
import { compareTrees, walkTree } from '../../fixtures/tree-compare.js';
import { gzipLayer, type LayerBlob, readImageLayers, umociUnpack, writeImage } from './helpers.js';

// VFS_CAP_REVISION_2 | effective, permitted = CAP_NET_BIND_SERVICE (bit 10), as `setcap cap_net_bind_service+ep` writes it.
const CAPABILITY = Buffer.from('0100000200040000000000000000000000000000', 'hex');
const MTIME = new Date('2023-05-06T07:08:09Z');

type PackEntry = Parameters<ReturnType<typeof pack>['entry']>[0];

/** A tar built by tar-stream (an independent writer), owners and times explicit. */
async function tarOf(entries: Array<PackEntry & { content?: string }>): Promise<Buffer> {
  const tarball = pack();
  const done = buffer(tarball);
  for (const { content, ...header } of entries) {
    const full = { uid: 0, gid: 0, mtime: MTIME, ...header };
    if (content !== undefined) tarball.entry({ ...full, size: Buffer.byteLength(content) }, content);
    else tarball.entry(full);
  }
  tarball.finalize();
  return done;
}

describe('unpack: positive controls against umoci', function () {
  this.timeout(120_000);
  let work: string;

  before(async () => {
    work = await makeTempDir('unpack-positive');
  });
  after(async () => {
    await removeTempDir(work);
  });

  /** Applies `layers` with applyLayer into a fresh dir and with umoci, and returns the differences. */
  async function againstUmoci(name: string, layers: LayerBlob[], compare = true): Promise<{ ours: string; diff: string[] }> {
    const layout = join(work, `${name}-layout`);
    await writeImage(layout, 'latest', layers);
    const theirs = join(work, `${name}-umoci`);
    await umociUnpack(layout, 'latest', theirs);
    const ours = join(work, `${name}-ours`);
    for (const layer of layers) {
      await applyLayer(ours, Readable.from([layer.blob]), { expectedDigest: layer.digest, expectedSize: layer.size, expectedDiffId: layer.diffId });
    }
    return { ours, diff: compare ? await compareTrees(theirs, ours) : [] };
  }

  it('unpacks the busybox fixture image like umoci, layer files verified by descriptor', async () => {
    const image = await buildBusyboxImage(join(work, 'busybox'));
    const layers = await readImageLayers(image.layoutDir, image.manifestDigest);
    const ours = join(work, 'busybox-ours');
    const unpacker = new Unpacker();
    for (const layer of layers) {
      const result = await unpacker.applyLayerFile(ours, layer.path, layer, layer.diffId);
      expect(result).to.include({ digest: layer.digest, diffId: layer.diffId, size: layer.size, compression: 'gzip' });
    }
    const theirs = join(work, 'busybox-umoci');
    await umociUnpack(image.layoutDir, image.tag, theirs);
    expect(await compareTrees(theirs, ours)).to.deep.equal([]);
    expect(await readlink(join(ours, 'bin/sh'))).to.equal('busybox');
  });

  it('unpacks the three-layer fixture image with its whiteouts like umoci', async () => {
    const image = await buildLayeredImage(join(work, 'layered'));
    const layers = await readImageLayers(image.layoutDir, image.manifestDigest);
    const { ours, diff } = await againstUmoci('layered', layers);
    expect(diff).to.deep.equal([]);
    const tree = await walkTree(ours);
    expect(tree.has('data/keep.txt')).to.equal(true);
    expect(tree.has('data/gone.txt')).to.equal(false);
    expect([...tree.keys()].filter((p) => p.startsWith('cache/'))).to.deep.equal(['cache/c']);
  });

  it('applies absolute symlinks, symlinked dirs, hardlinks, special modes, xattrs, devices and fifos like umoci', async () => {
    const base = await tarOf([
      { name: 'bin', type: 'directory', mode: 0o755 },
      { name: 'bin/busybox', mode: 0o755, content: '#!busybox\n' },
      { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' },
      { name: 'bin/hardlinked', type: 'link', linkname: 'bin/busybox' },
      { name: 'bin/su', mode: 0o4755, content: 'setuid\n' },
      { name: 'bin/wall', mode: 0o2755, gid: 5, content: 'setgid\n' },
      { name: 'bin/ping', mode: 0o755, content: 'cap\n', pax: { 'SCHILY.xattr.security.capability': CAPABILITY.toString('latin1') } },
      { name: 'usr', type: 'directory', mode: 0o755 },
      { name: 'usr/lib', type: 'directory', mode: 0o755 },
      { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
      // Through the symlinked dir, inside the root: lands in usr/lib.
      { name: 'lib/libc.so', mode: 0o644, content: 'libc\n' },
      { name: 'tmp', type: 'directory', mode: 0o1777 },
      { name: 'shared', type: 'directory', mode: 0o3775, uid: 1000, gid: 1000 },
      { name: 'home', type: 'directory', mode: 0o755 },
      { name: 'home/user', type: 'directory', mode: 0o700, uid: 1000, gid: 1000 },
      { name: 'home/user/notes', mode: 0o600, uid: 1000, gid: 1000, content: 'mine\n' },
      { name: 'dev', type: 'directory', mode: 0o755 },
      { name: 'dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3 },
      { name: 'dev/loop0', type: 'block-device', mode: 0o660, gid: 6, devmajor: 7, devminor: 0 },
      { name: 'run', type: 'directory', mode: 0o755 },
      { name: 'run/initctl', type: 'fifo', mode: 0o600 },
      { name: 'swap', type: 'symlink', linkname: '/usr' },
      { name: 'todir', type: 'directory', mode: 0o755 },
      { name: 'todir/old', content: 'old\n' },
      { name: 'gone', content: 'gone\n' },
      { name: 'opq', type: 'directory', mode: 0o755 },
      { name: 'opq/lower', content: 'lower\n' },
      { name: 'opq/sub', type: 'directory', mode: 0o755 },
      { name: 'opq/sub/lower', content: 'lower\n' },
    ]);
    const top = await tarOf([
      // A directory replaces a symlink, a symlink replaces a directory.
      { name: 'swap', type: 'directory', mode: 0o750 },
      { name: 'swap/f', content: 'in the new dir\n' },
      { name: 'todir', type: 'symlink', linkname: '/etc' },
      { name: '.wh.gone', content: '' },
      { name: 'opq', type: 'directory', mode: 0o755 },
      { name: 'opq/.wh..wh..opq', content: '' },
      { name: 'opq/new', content: 'new\n' },
      { name: 'bin/su', mode: 0o4711, content: 'setuid again\n' },
    ]);
    const { ours, diff } = await againstUmoci('special', [gzipLayer(base), gzipLayer(top)]);
    expect(diff).to.deep.equal([]);
    const tree = await walkTree(ours);
    expect(tree.get('bin/su')).to.include({ mode: 0o4711 });
    expect(tree.get('bin/wall')).to.include({ mode: 0o2755, gid: 5 });
    expect(tree.get('shared')).to.include({ mode: 0o3775, uid: 1000 });
    expect(tree.get('bin/ping')!.xattrs).to.deep.equal({ 'security.capability': CAPABILITY.toString('hex') });
    expect(tree.get('dev/null')).to.include({ type: 'char', rdev: '1:3' });
    expect(tree.get('run/initctl')).to.include({ type: 'fifo' });
    expect(tree.get('bin/hardlinked')).to.include({ nlink: 2 });
    expect(tree.get('usr/lib/libc.so')).to.include({ type: 'file' });
    expect(tree.get('swap')).to.include({ type: 'dir', mode: 0o750 });
    expect(tree.get('todir')).to.include({ type: 'symlink', target: '/etc' });
    expect(tree.has('gone')).to.equal(false);
    expect([...tree.keys()].filter((p) => p.startsWith('opq/'))).to.deep.equal(['opq/new']);
  });

  it('applies a tar written by GNU tar (long names, xattrs, hardlinks, sparse-free) like umoci and like the source tree', async () => {
    const src = join(work, 'gnu-src');
    await runTool('mkdir', ['-p', join(src, 'a'.repeat(120), 'b'.repeat(120))]);
    const longFile = join(src, 'a'.repeat(120), 'b'.repeat(120), 'c'.repeat(150));
    await writeFile(longFile, 'long\n');
    await writeFile(join(src, 'plain'), 'plain\n');
    await runTool('ln', [join(src, 'plain'), join(src, 'plain-link')]);
    await runTool('ln', ['-s', '../../plain', join(src, 'a'.repeat(120), 'up')]);
    await runTool('setfattr', ['-n', 'user.note', '-v', 'hello', join(src, 'plain')]);
    await runTool('chmod', ['4755', join(src, 'plain')]);
    await runTool('touch', ['-h', '-d', '2022-02-02T02:02:02Z', join(src, 'a'.repeat(120), 'up')]);
    for (const format of ['posix', 'gnu']) {
      const tarPath = join(work, `gnu-${format}.tar`);
      const xattrs = format === 'posix' ? ['--xattrs', '--xattrs-include=*'] : [];
      await runTool('tar', [...xattrs, `--format=${format}`, '-C', src, '-cf', tarPath, '.']);
      const tar = await readFile(tarPath);
      const { ours, diff } = await againstUmoci(`gnu-${format}`, [gzipLayer(tar)]);
      expect(diff, format).to.deep.equal([]);
      // The root entry `./` is the caller's: ignored, like containerd. Everything below matches the source.
      const fromSource = await compareTrees(src, ours, { ignoreDirMtimes: true });
      // GNU-format tars carry no xattrs.
      expect(
        fromSource.filter((d) => format === 'posix' || !d.includes('xattrs')),
        format,
      ).to.deep.equal([]);
    }
  });

  it('applies a zstd layer made by the zstd program, named or sniffed, like the gzip one', async () => {
    const image = await buildBusyboxImage(join(work, 'zstd-src'));
    const [layer] = await readImageLayers(image.layoutDir, image.manifestDigest);
    const tarPath = join(work, 'busybox.tar');
    await runTool('sh', ['-c', 'gzip -dc "$1" > "$2" && zstd -q -f -19 "$2" -o "$2.zst"', 'sh', layer!.path, tarPath]);
    const viaGzip = join(work, 'zstd-gzip');
    await applyLayer(viaGzip, Readable.from([layer!.blob]));
    for (const compression of ['zstd', 'auto'] as const) {
      const viaZstd = join(work, `zstd-${compression}`);
      const result = await applyLayer(viaZstd, createReadStream(`${tarPath}.zst`), { compression, expectedDiffId: layer!.diffId });
      expect(result.compression).to.equal('zstd');
      expect(result.diffId).to.equal(layer!.diffId);
      expect(await compareTrees(viaGzip, viaZstd)).to.deep.equal([]);
    }
    // And an uncompressed tar, sniffed.
    const viaTar = join(work, 'zstd-none');
    const result = await applyLayer(viaTar, createReadStream(tarPath));
    expect(result).to.include({ compression: 'none', diffId: layer!.diffId, digest: layer!.diffId });
    expect(await compareTrees(viaGzip, viaTar)).to.deep.equal([]);
    expect((await lstat(join(viaTar, 'bin/busybox'))).isFile()).to.equal(true);
  });

  it('writes whiteouts in overlayfs form into an upper dir with whiteoutFormat overlay', async () => {
    const image = await buildLayeredImage(join(work, 'overlay-src'));
    const layers = await readImageLayers(image.layoutDir, image.manifestDigest);
    const upper = join(work, 'overlay-upper');
    const unpacker = new Unpacker({ whiteoutFormat: 'overlay' });
    await unpacker.applyLayerFile(upper, layers[2]!.path, layers[2]!, layers[2]!.diffId);
    const tree = await walkTree(upper);
    expect(tree.get('data/gone.txt')).to.include({ type: 'char', rdev: '0:0' });
    expect(tree.get('cache')!.xattrs).to.deep.equal({ 'trusted.overlay.opaque': '79' });
    expect(tree.get('cache/c')).to.include({ type: 'file' });
    expect([...tree.keys()].sort()).to.deep.equal(['cache', 'cache/c', 'data', 'data/gone.txt']);
  });
});
