// diff: the layer of a container's changes, applied again onto the image, must reproduce the container's tree.

import { createReadStream } from 'node:fs';
import { chmod, link, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { applyLayer, diffSnapshot, NativeSnapshotter, OverlaySnapshotter, type Snapshotter, unpackLayers } from '../../../lib/unpack/index.js';
import { runTool } from '../../../lib/util/exec.js';
import { mount, mountsUnder, unmount } from '../../../lib/util/mount.js';
import { buildLayeredImage } from '../../fixtures/images.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';
import { diffTrees, walkTree } from '../../fixtures/tree-compare.js';
import { readImageLayers, umociUnpack } from './helpers.js';

// VFS_CAP_REVISION_2 | effective, permitted = CAP_NET_BIND_SERVICE, as `setcap cap_net_bind_service+ep` writes it.
const CAPABILITY = '0x0100000200040000000000000000000000000000';

/** What a container does to the image: add, change, delete, replace a directory, links, setuid, a capability. */
async function change(rootfs: string): Promise<void> {
  await writeFile(join(rootfs, 'data/new.txt'), 'new file\n');
  await writeFile(join(rootfs, 'data/keep.txt'), 'changed content\n');
  await rm(join(rootfs, 'etc/group'));
  await rm(join(rootfs, 'cache'), { recursive: true });
  await mkdir(join(rootfs, 'cache'), { mode: 0o750 });
  await writeFile(join(rootfs, 'cache/fresh'), 'fresh\n');
  await mkdir(join(rootfs, 'srv/deep/er'), { recursive: true });
  await writeFile(join(rootfs, 'srv/deep/er/file'), 'x'.repeat(70_000));
  await link(join(rootfs, 'srv/deep/er/file'), join(rootfs, 'srv/hard'));
  await symlink('/bin/busybox', join(rootfs, 'srv/sh'));
  await writeFile(join(rootfs, 'srv/suid'), '#!/bin/sh\n');
  await chmod(join(rootfs, 'srv/suid'), 0o4755);
  await runTool('setfattr', ['-n', 'security.capability', '-v', CAPABILITY, join(rootfs, 'srv/suid')]);
  await rm(join(rootfs, 'bin/ls'));
  // Names and link targets past ustar's 100 bytes go into PAX records.
  await writeFile(join(rootfs, 'srv', `long-${'n'.repeat(150)}`), 'long name\n');
  await symlink(`/${'t'.repeat(180)}`, join(rootfs, 'srv/long-link'));
  await writeFile(join(rootfs, 'srv/ünïcødé'), 'utf-8\n');
}

describe('unpack: diff round trips', function () {
  this.timeout(120_000);
  let work: string;
  let imageRoot: string;
  let layers: Awaited<ReturnType<typeof readImageLayers>>;

  before(async () => {
    work = await makeTempDir('unpack-diff');
    const image = await buildLayeredImage(join(work, 'layout'));
    imageRoot = join(work, 'umoci');
    await umociUnpack(image.layoutDir, image.tag, imageRoot);
    layers = await readImageLayers(image.layoutDir, image.manifestDigest);
  });

  after(async () => {
    await removeTempDir(work);
  });

  const kinds: Array<{ name: string; make: (root: string) => Promise<Snapshotter> }> = [
    { name: 'overlay', make: (root) => OverlaySnapshotter.open(root) },
    { name: 'native', make: async (root) => new NativeSnapshotter(root) },
  ];

  for (const kind of kinds) {
    it(`${kind.name}: a diff applied onto the image reproduces the container's tree, and is deterministic`, async () => {
      const snap = await kind.make(join(work, `${kind.name}-root`));
      const { chainId: top } = await unpackLayers(
        snap,
        layers.map((l) => ({ diffId: l.diffId, digest: l.digest, size: l.size, open: () => createReadStream(l.path) })),
      );
      const target = join(work, `${kind.name}-ctr`);
      await mkdir(target);
      for (const m of await snap.prepare('ctr', top)) await mount(m, target);
      let wanted;
      try {
        await change(target);
        wanted = await walkTree(target);
      } finally {
        await unmount(target);
      }

      const blob1 = join(work, `${kind.name}-1.tar.gz`);
      const blob2 = join(work, `${kind.name}-2.tar.gz`);
      const first = await diffSnapshot(snap, 'ctr', blob1);
      const second = await diffSnapshot(snap, 'ctr', blob2);
      expect(second).to.deep.equal(first);
      expect(first.mediaType).to.equal('application/vnd.oci.image.layer.v1.tar+gzip');
      // GNU tar reads it too, and sees whiteouts for the deletions.
      const names = (await runTool('tar', ['-tzf', blob1])).stdout.split('\n');
      expect(names).to.include.members(['etc/.wh.group', 'bin/.wh.ls', 'data/new.txt', 'srv/hard', 'srv/sh']);
      expect(names).to.not.include('data/gone.txt');
      if (kind.name === 'overlay') expect(names).to.include('cache/.wh..wh..opq');
      else expect(names).to.include('cache/.wh.c');

      // Applied as an ordinary layer onto umoci's unpack of the image.
      const plain = join(work, `${kind.name}-plain`);
      await runTool('cp', ['-a', imageRoot, plain]);
      const applied = await applyLayer(plain, createReadStream(blob1), { expectedDigest: first.digest, expectedDiffId: first.diffId });
      expect(applied.skipped).to.deep.equal([]);
      expect(diffTrees(wanted, await walkTree(plain))).to.deep.equal([]);

      // Applied as a new snapshot on the image's top layer, in the snapshotter's own whiteout form.
      const again = await unpackLayers(snap, [
        ...layers.map((l) => ({ diffId: l.diffId, open: () => createReadStream(l.path) })),
        { diffId: first.diffId, digest: first.digest, open: () => createReadStream(blob1) },
      ]);
      expect(again.layers.map((l) => l.applied)).to.deep.equal([false, false, false, true]);
      await snap.view('check', again.chainId);
      const view = join(work, `${kind.name}-view`);
      await mkdir(view);
      for (const m of await snap.mounts('check')) await mount(m, view);
      try {
        expect(diffTrees(wanted, await walkTree(view))).to.deep.equal([]);
      } finally {
        await unmount(view);
      }
      expect(await mountsUnder(work)).to.deep.equal([]);
    });
  }
});
