// Apply and diff through a snapshot's mounts alone: a snapshotter whose mounts are neither one overlay with an
// upper dir nor one bind is mounted on a temporary directory, and nothing stays mounted afterwards.

import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import type { Mount } from '../../../lib/oci/mount.js';
import { applyLayer, diffSnapshot, NativeSnapshotter, type Snapshotter, unpackLayers } from '../../../lib/unpack/index.js';
import { runTool } from '../../../lib/util/exec.js';
import { mount, unmount } from '../../../lib/util/mount.js';
import { mountsUsing, readMountInfo } from '../../../lib/util/mountinfo.js';
import { codedRejection } from '../../fixtures/assert.js';
import { buildLayeredImage } from '../../fixtures/images.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';
import { compareTrees, diffTrees, walkTree } from '../../fixtures/tree-compare.js';
import { readImageLayers, umociUnpack } from './helpers.js';

/**
 * A native snapshotter described differently: each snapshot is a tmpfs (labelled `label`) with the snapshot's
 * tree bind-mounted over it, two stacked mounts, so apply and diff cannot take a fast path.
 */
function stacked(inner: NativeSnapshotter, label: string): Snapshotter {
  const describe = (mounts: Mount[]): Mount[] => [{ type: 'tmpfs', source: label, options: ['size=1m'] }, ...mounts];
  return {
    name: 'stacked',
    prepare: async (...a) => describe(await inner.prepare(...a)),
    view: async (...a) => describe(await inner.view(...a)),
    mounts: async (...a) => describe(await inner.mounts(...a)),
    commit: (...a) => inner.commit(...a),
    remove: (...a) => inner.remove(...a),
    stat: (...a) => inner.stat(...a),
    usage: (...a) => inner.usage(...a),
    walk: (...a) => inner.walk(...a),
  };
}

describe('unpack: apply and diff through generic mounts', function () {
  this.timeout(120_000);
  let work: string;
  let imageRoot: string;
  let layers: Awaited<ReturnType<typeof readImageLayers>>;
  let root: string;
  let snap: Snapshotter;
  const label = `ck-stacked-${randomBytes(4).toString('hex')}`;

  const sources = () => layers.map((l) => ({ diffId: l.diffId, digest: l.digest, size: l.size, open: () => createReadStream(l.path) }));

  /** Nothing of ours is mounted: no tmpfs of the wrapper, no bind of a snapshot, no temporary mount point. */
  async function expectNothingMounted(): Promise<void> {
    const ours = (await readMountInfo()).filter((e) => e.source === label || e.mountPoint.includes('/ck-mount-'));
    expect(ours.map((e) => e.mountPoint)).to.deep.equal([]);
    expect(await mountsUsing(root)).to.deep.equal([]);
    expect((await readdir(tmpdir())).filter((n) => n.startsWith('ck-mount-'))).to.deep.equal([]);
    expect((await snap.walk()).filter((s) => s.kind !== 'committed').map((s) => s.name)).to.deep.equal([]);
  }

  before(async () => {
    work = await makeTempDir('unpack-generic');
    const image = await buildLayeredImage(join(work, 'layout'));
    imageRoot = join(work, 'umoci');
    await umociUnpack(image.layoutDir, image.tag, imageRoot);
    layers = await readImageLayers(image.layoutDir, image.manifestDigest);
    root = join(work, 'snapshots');
    snap = stacked(new NativeSnapshotter(root), label);
  });

  after(async () => {
    await removeTempDir(work);
  });

  it('unpacks, diffs and applies the diff again through temporary mounts, and leaves nothing mounted', async () => {
    const { chainId: top } = await unpackLayers(snap, sources());
    await expectNothingMounted();
    const target = join(work, 'ctr');
    await mkdir(target);
    let wanted;
    await snap.prepare('ctr', top);
    try {
      for (const m of await snap.mounts('ctr')) await mount(m, target);
      expect(await compareTrees(imageRoot, target, { ignoreDirMtimes: true })).to.deep.equal([]);
      await writeFile(join(target, 'data/new.txt'), 'new file\n');
      await rm(join(target, 'etc/group'));
      wanted = await walkTree(target);
    } finally {
      await unmount(target);
      await unmount(target);
    }

    const blob = join(work, 'ctr.tar.gz');
    const diff = await diffSnapshot(snap, 'ctr', blob);
    await snap.remove('ctr');
    await expectNothingMounted();
    const names = (await runTool('tar', ['-tzf', blob])).stdout.split('\n');
    expect(names).to.include.members(['etc/.wh.group', 'data/new.txt']);

    const plain = join(work, 'plain');
    await runTool('cp', ['-a', imageRoot, plain]);
    await applyLayer(plain, createReadStream(blob), { expectedDigest: diff.digest, expectedDiffId: diff.diffId });
    expect(diffTrees(wanted, await walkTree(plain))).to.deep.equal([]);

    const again = await unpackLayers(snap, [...sources(), { diffId: diff.diffId, digest: diff.digest, open: () => createReadStream(blob) }]);
    expect(again.layers.map((l) => l.applied)).to.deep.equal([false, false, false, true]);
    await snap.view('check', again.chainId);
    try {
      for (const m of await snap.mounts('check')) await mount(m, target);
      expect(diffTrees(wanted, await walkTree(target))).to.deep.equal([]);
    } finally {
      await unmount(target);
      await unmount(target);
    }
    await snap.remove('check');
    await expectNothingMounted();
  });

  it('unmounts after a failed apply and a failed diff', async () => {
    const bottom = layers[0]!;
    const err = await codedRejection(unpackLayers(snap, [{ diffId: `sha256:${'0'.repeat(64)}`, open: () => createReadStream(bottom.path) }]));
    expect(err.code).to.equal('ERR_DIGEST_MISMATCH');
    await expectNothingMounted();

    const { chainId: top } = await unpackLayers(snap, sources());
    await snap.prepare('failing', top);
    await codedRejection(diffSnapshot(snap, 'failing', join(work, 'no-such-dir', 'out.tar.gz')));
    await snap.remove('failing');
    await expectNothingMounted();
  });

  it('unmounts after an aborted apply and an aborted diff', async () => {
    const fresh = stacked(new NativeSnapshotter(join(work, 'abort-root')), label);
    const apply = new AbortController();
    const reason = new Error('stop applying');
    const layer = layers[0]!;
    const stream = () => {
      const s = createReadStream(layer.path, { highWaterMark: 1024 });
      s.once('data', () => apply.abort(reason));
      return s;
    };
    let caught: unknown;
    await unpackLayers(fresh, [{ diffId: layer.diffId, open: stream }], { signal: apply.signal }).catch((e: unknown) => {
      caught = e;
    });
    expect(caught).to.equal(reason);
    expect(await fresh.walk()).to.deep.equal([]);
    await expectNothingMounted();

    const { chainId: top } = await unpackLayers(snap, sources());
    await snap.prepare('aborted', top);
    const diff = new AbortController();
    const out = new Writable({
      write(_chunk, _enc, done) {
        diff.abort(reason);
        done();
      },
    });
    caught = undefined;
    await diffSnapshot(snap, 'aborted', out, { signal: diff.signal }).catch((e: unknown) => {
      caught = e;
    });
    expect(caught).to.equal(reason);
    await snap.remove('aborted');
    await expectNothingMounted();
  });
});
