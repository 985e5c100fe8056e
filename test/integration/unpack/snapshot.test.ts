// Snapshotters against the three-layer fixture image: the assembled root filesystem must equal umoci's unpack,
// writes must stay in the container's snapshot, and removal must leave no mounts and no directories.

import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { AlreadyExistsError, ContainerkitError, FailedPreconditionError, NotFoundError, newError } from '../../../lib/errors/index.js';
import type { Mount } from '../../../lib/oci/mount.js';
import { type LayerSource, NativeSnapshotter, OverlaySnapshotter, type SnapshotStore, type Snapshotter, unpackLayers } from '../../../lib/unpack/index.js';
import { runTool } from '../../../lib/util/exec.js';
import { mount, mountsUnder, unmount } from '../../../lib/util/mount.js';
import { codedRejection } from '../../fixtures/assert.js';
import { type BuiltImage, buildLayeredImage } from '../../fixtures/images.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';
import { compareTrees, treeFingerprint } from '../../fixtures/tree-compare.js';
import { readImageLayers, umociUnpack } from './helpers.js';

/** Mounts `mounts` in order at `target` (one mount per snapshot here). */
async function mountAll(mounts: Mount[], target: string): Promise<void> {
  for (const m of mounts) await mount(m, target);
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(ContainerkitError);
    expect((err as ContainerkitError).code).to.equal(code);
    return;
  }
  expect.fail(`expected a rejection with ${code}`);
}

describe('unpack: snapshotters on the three-layer image', function () {
  this.timeout(120_000);
  let work: string;
  let image: BuiltImage;
  let expected: string;
  let layers: Array<{ path: string; digest: string; size: number; diffId: string }>;

  before(async () => {
    work = await makeTempDir('unpack-snapshot');
    image = await buildLayeredImage(join(work, 'layout'));
    expected = join(work, 'umoci');
    await umociUnpack(image.layoutDir, image.tag, expected);
    layers = await readImageLayers(image.layoutDir, image.manifestDigest);
  });

  after(async () => {
    await removeTempDir(work);
  });

  function sources(opened: number[]): LayerSource[] {
    return layers.map((l, i) => ({
      diffId: l.diffId,
      digest: l.digest,
      size: l.size,
      open: () => {
        opened.push(i);
        return createReadStream(l.path, { highWaterMark: 1 << 20 });
      },
    }));
  }

  it('overlay mounts work on this machine', async () => {
    // A hard requirement of the overlay tests below: if this fails, the reason is the kernel's.
    const snap = await OverlaySnapshotter.open(join(work, 'probe-root'));
    expect(snap.name).to.equal('overlay');
  });

  it('overlay probes a root once per boot, recorded in overlay-supported.json', async () => {
    const root = join(work, 'probe-once');
    const markerPath = join(root, 'overlay-supported.json');
    await OverlaySnapshotter.open(root);
    const marker = JSON.parse(await readFile(markerPath, 'utf8')) as { bootId: string; device: string };
    expect(marker.bootId).to.equal((await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim());
    expect(marker.device).to.equal(String((await stat(root, { bigint: true })).dev));
    // A file where the probe makes its directory (`<root>/probe-<pid>`) makes any probe fail, so an open that
    // succeeds now did not probe.
    const blocker = join(root, `probe-${process.pid}`);
    await writeFile(blocker, 'in the way');
    await OverlaySnapshotter.open(root);
    // A record of another boot is not honoured: the probe runs again (and trips on the blocker)…
    await writeFile(markerPath, JSON.stringify({ ...marker, bootId: 'another-boot' }));
    expect((await codedRejection(OverlaySnapshotter.open(root))).code).to.equal('ERR_IO');
    // …and once it can run, it records this boot again.
    await rm(blocker);
    await OverlaySnapshotter.open(root);
    expect(JSON.parse(await readFile(markerPath, 'utf8'))).to.deep.equal(marker);
  });

  const kinds: Array<{ name: string; make: (root: string) => Promise<SnapshotStore> }> = [
    { name: 'overlay', make: (root) => OverlaySnapshotter.open(root) },
    { name: 'native', make: async (root) => new NativeSnapshotter(root) },
  ];

  it("unpackLayers reads a snapshotter's errors by category, not by one part's code (a containerd-style NotFound)", async () => {
    const native = new NativeSnapshotter(join(work, 'foreign-codes'));
    // The same snapshotter, reporting a missing snapshot and a commit race under containerd's codes.
    const foreign = new Proxy(native, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } catch (err) {
            if (err instanceof NotFoundError) throw newError('ERR_CONTAINERD_NOT_FOUND', (err as Error).message);
            if (err instanceof AlreadyExistsError) throw newError('ERR_CONTAINERD_ALREADY_EXISTS', (err as Error).message);
            throw err;
          }
        };
      },
    }) as Snapshotter;
    const opened: number[] = [];
    const result = await unpackLayers(foreign, sources(opened));
    expect(result.layers.map((l) => l.applied)).to.deep.equal([true, true, true]);
    expect(opened).to.deep.equal([0, 1, 2]);
  });

  for (const kind of kinds) {
    describe(kind.name, () => {
      let root: string;
      let snap: SnapshotStore;
      let top: string;
      let chains: string[];

      before(async () => {
        root = join(work, `${kind.name}-root`);
        snap = await kind.make(root);
      });

      it('unpacks the image as committed layers keyed by chain ID, and reuses them the second time', async () => {
        const opened: number[] = [];
        const first = await unpackLayers(snap, sources(opened));
        expect(first.layers.map((l) => l.applied)).to.deep.equal([true, true, true]);
        expect(opened).to.deep.equal([0, 1, 2]);
        expect(first.layers[0]!.chainId).to.equal(layers[0]!.diffId);
        top = first.chainId;
        chains = first.layers.map((l) => l.chainId);
        const again: number[] = [];
        const second = await unpackLayers(snap, sources(again));
        expect(second.layers.map((l) => l.applied)).to.deep.equal([false, false, false]);
        expect(again).to.deep.equal([]);
        expect(second.chainId).to.equal(top);
        const all = await snap.walk();
        expect(all.map((s) => [s.name, s.kind])).to.have.deep.members(chains.map((c) => [c, 'committed']));
        expect((await snap.stat(chains[2]!)).parent).to.equal(chains[1]);
        if (kind.name === 'overlay') {
          // The top layer holds its whiteouts in overlayfs form: a 0/0 char device and an opaque xattr.
          const layer3 = await snap.directory(chains[2]!);
          const wh = await lstat(join(layer3, 'data/gone.txt'));
          expect(wh.isCharacterDevice() && wh.rdev === 0).to.equal(true);
          const opaque = await runTool('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', join(layer3, 'cache')]);
          expect(opaque.stdout).to.equal('y');
          // Short numeric directory names, one per layer.
          expect((await readdir(join(root, 'snapshots'))).sort()).to.deep.equal(['1', '2', '3']);
        }
      });

      it("an active snapshot's mounts show the image as umoci unpacks it, whiteouts applied", async () => {
        const mounts = await snap.prepare('ctr-1', top);
        if (kind.name === 'overlay') {
          expect(mounts).to.have.length(1);
          expect(mounts[0]!.type).to.equal('overlay');
          const lower = mounts[0]!.options.find((o) => o.startsWith('lowerdir='))!;
          // Top to bottom: the newest layer first.
          expect(lower.slice('lowerdir='.length).split(':')).to.deep.equal([
            await snap.directory(chains[2]!),
            await snap.directory(chains[1]!),
            await snap.directory(chains[0]!),
          ]);
        } else {
          expect(mounts).to.deep.equal([{ type: 'bind', source: await snap.directory('ctr-1'), options: ['rbind', 'rw'] }]);
        }
        const target = join(work, `${kind.name}-mnt`);
        await mkdir(target);
        await mountAll(mounts, target);
        try {
          expect(await compareTrees(expected, target, { ignoreDirMtimes: true })).to.deep.equal([]);
          await stat(join(target, 'data/gone.txt')).then(
            () => expect.fail('data/gone.txt must be deleted by the whiteout'),
            (err: NodeJS.ErrnoException) => expect(err.code).to.equal('ENOENT'),
          );
          expect((await readdir(join(target, 'cache'))).sort()).to.deep.equal(['c']);
          expect(await readFile(join(target, 'data/keep.txt'), 'utf8')).to.be.a('string');

          // A container's writes stay in its own snapshot.
          const before = await Promise.all(chains.map(async (c) => treeFingerprint(await snap.directory(c))));
          await writeFile(join(target, 'data/new.txt'), 'written by the container\n');
          await rm(join(target, 'data/keep.txt'));
          await rm(join(target, 'bin'), { recursive: true });
          const after = await Promise.all(chains.map(async (c) => treeFingerprint(await snap.directory(c))));
          expect(after).to.deep.equal(before);
          expect((await snap.usage('ctr-1')).inodes).to.be.greaterThan(0);
        } finally {
          await unmount(target);
        }
        // A second container on the same image sees the image unchanged.
        const other = await snap.prepare('ctr-2', top);
        await mountAll(other, target);
        try {
          expect(await compareTrees(expected, target, { ignoreDirMtimes: true })).to.deep.equal([]);
        } finally {
          await unmount(target);
        }
        await snap.remove('ctr-2');
      });

      it('a view is read-only', async () => {
        const mounts = await snap.view('view-1', top);
        expect(await snap.mounts('view-1')).to.deep.equal(mounts);
        const target = join(work, `${kind.name}-view`);
        await mkdir(target);
        await mountAll(mounts, target);
        try {
          expect(await compareTrees(expected, target, { ignoreDirMtimes: true })).to.deep.equal([]);
          await writeFile(join(target, 'x'), 'x').then(
            () => expect.fail('a view must not be writable'),
            (err: NodeJS.ErrnoException) => expect(err.code).to.equal('EROFS'),
          );
        } finally {
          await unmount(target);
        }
        await snap.remove('view-1');
      });

      it('enforces the key and parent rules with typed errors', async () => {
        await expectCode(snap.prepare('ctr-1', top), 'ERR_ALREADY_EXISTS');
        await expectCode(snap.prepare('x', 'sha256:' + '0'.repeat(64)), 'ERR_NOT_FOUND');
        await expectCode(snap.prepare('x', 'ctr-1'), 'ERR_FAILED_PRECONDITION');
        await expectCode(snap.commit(top, 'ctr-1'), 'ERR_ALREADY_EXISTS');
        await expectCode(snap.remove(chains[1]!), 'ERR_FAILED_PRECONDITION');
        await expectCode(snap.mounts(top), 'ERR_FAILED_PRECONDITION');
        await expectCode(snap.prepare('', top), 'ERR_INVALID_ARGUMENT');
      });

      it('commit makes an active snapshot a parent for the next', async () => {
        await snap.commit('ctr-1-image', 'ctr-1', { labels: { note: 'x' } });
        const info = await snap.stat('ctr-1-image');
        expect(info).to.include({ kind: 'committed', parent: top });
        expect(info.labels).to.deep.equal({ note: 'x' });
        await expectCode(snap.stat('ctr-1'), 'ERR_NOT_FOUND');
        const target = join(work, `${kind.name}-next`);
        await mkdir(target);
        await mountAll(await snap.prepare('ctr-3', 'ctr-1-image'), target);
        try {
          expect(await readFile(join(target, 'data/new.txt'), 'utf8')).to.equal('written by the container\n');
          await stat(join(target, 'bin')).then(
            () => expect.fail('/bin was removed in the committed snapshot'),
            (err: NodeJS.ErrnoException) => expect(err.code).to.equal('ENOENT'),
          );
        } finally {
          await unmount(target);
        }
      });

      it('refuses to remove a mounted snapshot or view with ERR_SNAPSHOT_MOUNTED, and removes it once unmounted', async () => {
        const target = join(work, `${kind.name}-busy`);
        const viewTarget = join(work, `${kind.name}-busy-view`);
        await mkdir(target);
        await mkdir(viewTarget);
        await mountAll(await snap.prepare('busy', top), target);
        await mountAll(await snap.view('busy-view', chains[0]), viewTarget);
        try {
          await writeFile(join(target, 'data/running.txt'), 'a running container wrote this\n');
          for (const [key, where] of [
            ['busy', target],
            ['busy-view', viewTarget],
          ] as const) {
            const err = await codedRejection(snap.remove(key));
            expect(err.code).to.equal('ERR_SNAPSHOT_MOUNTED');
            expect(err).to.be.instanceOf(FailedPreconditionError);
            expect(err.details.mountPoints).to.deep.equal([where]);
            expect((await snap.stat(key)).name).to.equal(key);
          }
          // Intact: the record, the tree under the mount, and the container's write in its own directory.
          expect(await readFile(join(target, 'data/running.txt'), 'utf8')).to.equal('a running container wrote this\n');
          expect(await readFile(join(await snap.directory('busy'), 'data/running.txt'), 'utf8')).to.equal('a running container wrote this\n');
          // A view of the first layer alone shows that layer's tree.
          expect(await compareTrees(await snap.directory(chains[0]!), viewTarget, { ignoreDirMtimes: true })).to.deep.equal([]);
        } finally {
          await unmount(target);
          await unmount(viewTarget);
        }
        const dir = await snap.directory('busy');
        await snap.remove('busy');
        await snap.remove('busy-view');
        await expectCode(snap.stat('busy'), 'ERR_NOT_FOUND');
        await stat(dir).then(
          () => expect.fail(`${dir} must be gone`),
          (err: NodeJS.ErrnoException) => expect(err.code).to.equal('ENOENT'),
        );
      });

      it('removing everything leaves no mounts and no snapshot directories', async () => {
        for (const key of ['ctr-3', 'ctr-1-image', ...[...chains].reverse()]) await snap.remove(key);
        expect(await snap.walk()).to.deep.equal([]);
        expect(await mountsUnder(work)).to.deep.equal([]);
        expect(await readdir(join(root, 'snapshots'))).to.deep.equal([]);
      });
    });
  }
});
