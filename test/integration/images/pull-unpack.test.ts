// ImageStore.pull with `unpack` (fetch and unpack pipelined) and ImageStore.unpack, against the real docker-registry
// fixture and real overlay / native snapshotters: the mounted result must equal umoci's unpack of the same image.

import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { ImageStore, type PullProgress } from '../../../lib/images/index.js';
import { chainIds } from '../../../lib/oci/chain-id.js';
import type { Mount } from '../../../lib/oci/mount.js';
import { type Fetcher, RegistryClient } from '../../../lib/registry/index.js';
import { NativeSnapshotter, OverlaySnapshotter, type Snapshotter } from '../../../lib/unpack/index.js';
import { runTool } from '../../../lib/util/exec.js';
import { mount, unmount } from '../../../lib/util/mount.js';
import { codedRejection } from '../../fixtures/assert.js';
import { initLayout, tagManifest, writeBlob } from '../../fixtures/image-layout.js';
import { type PushedImages, pushImage, withPushedImages } from '../../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../fixtures/registry.js';
import { makeTempDir } from '../../fixtures/tmp.js';
import { compareTrees } from '../../fixtures/tree-compare.js';

/** Mounts a snapshot's mounts (one per snapshot here) at `target`, runs `fn`, unmounts. */
async function withMounted<T>(mounts: Mount[], target: string, fn: () => Promise<T>): Promise<T> {
  for (const m of mounts) await mount(m, target);
  try {
    return await fn();
  } finally {
    await unmount(target);
  }
}

const blobGets = { method: /GET/, path: /\/blobs\// };

describe('images: pull with unpack (fetch and unpack pipelined)', function () {
  this.timeout(180_000);
  let registry: RegistryFixture;
  let pushed: PushedImages;
  let client: RegistryClient;
  let work: string;
  let expectedTree: string;
  let diffIds: string[];

  before(async () => {
    registry = await startRegistry();
    pushed = await withPushedImages(registry);
    client = new RegistryClient({ retry: { baseDelayMs: 1 } });
    work = await makeTempDir('pull-unpack');
    expectedTree = join(work, 'umoci');
    await runTool('umoci', ['--log', 'error', 'raw', 'unpack', '--image', `${pushed.layered.image.layoutDir}:${pushed.layered.image.tag}`, expectedTree]);
    diffIds = pushed.layered.image.layers.map((l) => l.diffId);
  });
  after(async () => {
    client?.close();
    await registry?.stop();
  });

  let seq = 0;
  async function freshStore(): Promise<ImageStore> {
    return ImageStore.open(join(work, `store-${++seq}`), { registry: client });
  }

  const kinds: Array<{ name: string; make: (root: string) => Promise<Snapshotter> }> = [
    { name: 'overlay', make: (root) => OverlaySnapshotter.open(root) },
    { name: 'native', make: async (root) => new NativeSnapshotter(root) },
  ];

  for (const kind of kinds) {
    describe(kind.name, () => {
      it('pulls and unpacks the 3-layer image: committed layers by chain ID, the mounted tree equals umoci unpack', async () => {
        const store = await freshStore();
        const snapshotter = await kind.make(join(work, `${kind.name}-snapshots-${seq}`));
        const result = await store.pull(pushed.layered.reference, { unpack: { snapshotter, labels: { 'test/by': 'pull-unpack' } } });
        const chains = chainIds(diffIds);
        expect(result.name).to.equal(`${registry.host}/layered:latest`);
        expect(result.target.digest).to.equal(pushed.layered.digest);
        expect(result.unpack).to.deep.equal({ chainId: chains[2], layers: chains.map((chainId) => ({ chainId, applied: true })) });
        // Only committed snapshots remain, one per layer, chained parent to child, with the labels.
        const all = await snapshotter.walk();
        expect(all.map((s) => [s.name, s.kind])).to.have.deep.members(chains.map((c) => [c, 'committed']));
        expect((await snapshotter.stat(chains[2]!)).parent).to.equal(chains[1]);
        expect((await snapshotter.stat(chains[0]!)).labels).to.deep.include({ 'test/by': 'pull-unpack' });
        // The store holds the image as a plain pull would.
        expect((await store.list()).map((r) => r.name)).to.deep.equal([result.name]);
        expect(await store.verify()).to.deep.include({ corrupt: [], missing: [] });

        const target = join(work, `${kind.name}-mnt-${seq}`);
        await mkdir(target, { recursive: true });
        await withMounted(await snapshotter.prepare('ctr-1', result.unpack!.chainId), target, async () => {
          expect(await compareTrees(expectedTree, target, { ignoreDirMtimes: true })).to.deep.equal([]);
        });
        await snapshotter.remove('ctr-1');

        // A second pull with unpack requests no blob and applies nothing.
        registry.clearAccessLog();
        const events: PullProgress[] = [];
        const again = await store.pull(pushed.layered.reference, { unpack: { snapshotter }, onProgress: (e) => events.push(e) });
        expect(again.unpack).to.deep.equal({ chainId: chains[2], layers: chains.map((chainId) => ({ chainId, applied: false })) });
        expect(await registry.countRequests(blobGets)).to.equal(0);
        expect(events.every((e) => e.status === 'exists')).to.equal(true);
        expect((await snapshotter.walk()).map((s) => s.name)).to.have.members(chains);
      });

      it('reuses committed lower layers: an image on the same base applies only its own layers', async () => {
        const store = await freshStore();
        const snapshotter = await kind.make(join(work, `${kind.name}-snapshots-${seq}`));
        const base = await store.pull(pushed.busybox.reference, { unpack: { snapshotter } });
        expect(base.unpack!.layers.map((l) => l.applied)).to.deep.equal([true]);
        const layered = await store.pull(pushed.layered.reference, { unpack: { snapshotter } });
        // The layered image is busybox's layer plus two: the shared bottom layer is not applied again.
        expect(pushed.layered.image.layers[0]!.diffId).to.equal(pushed.busybox.image.layers[0]!.diffId);
        expect(layered.unpack!.layers.map((l) => l.applied)).to.deep.equal([false, true, true]);
      });
    });
  }

  it('pipelines: a layer is applied while the blobs above it are still being fetched', async () => {
    // The top layer's fetch is held until the bottom layer's snapshot is committed: a pull that unpacked only after
    // fetching everything would never get there (and fails on the gate's timeout).
    const chains = chainIds(diffIds);
    const top = pushed.layered.image.layers[2]!.digest;
    let open!: (why: string) => void;
    const gate = new Promise<string>((resolve) => (open = resolve));
    const timer = setTimeout(() => open('timeout'), 20_000);
    class GatedClient extends RegistryClient {
      override fetcher(ref: Parameters<RegistryClient['fetcher']>[0]): Fetcher {
        const inner = super.fetcher(ref);
        return {
          fetch: async (descriptor, options) => {
            if (descriptor.digest === top) await gate;
            return inner.fetch(descriptor, options);
          },
        };
      }
    }
    const gated = new GatedClient({ retry: { baseDelayMs: 1 } });
    try {
      const store = await ImageStore.open(join(work, `store-${++seq}`), { registry: gated });
      const inner = await OverlaySnapshotter.open(join(work, `gated-${seq}`));
      const snapshotter: Snapshotter = {
        name: inner.name,
        prepare: (...a) => inner.prepare(...a),
        view: (...a) => inner.view(...a),
        mounts: (...a) => inner.mounts(...a),
        commit: async (name, key, o) => {
          await inner.commit(name, key, o);
          if (name === chains[0]) open('bottom layer committed');
        },
        remove: (...a) => inner.remove(...a),
        stat: (...a) => inner.stat(...a),
        usage: (...a) => inner.usage(...a),
        walk: (...a) => inner.walk(...a),
      };
      const result = await store.pull(pushed.layered.reference, { unpack: { snapshotter } });
      expect(await gate).to.equal('bottom layer committed');
      expect(result.unpack!.chainId).to.equal(chains[2]);
    } finally {
      clearTimeout(timer);
      gated.close();
    }
  });

  it('ImageStore.unpack unpacks an image already in the store the same way, and a second time applies nothing', async () => {
    const store = await freshStore();
    await store.pull(pushed.layered.reference);
    const snapshotter = await OverlaySnapshotter.open(join(work, `unpack-snapshots-${seq}`));
    const first = await store.unpack(pushed.layered.reference, snapshotter);
    expect(first.chainId).to.equal(chainIds(diffIds)[2]);
    expect(first.layers.map((l) => l.applied)).to.deep.equal([true, true, true]);
    const target = join(work, `unpack-mnt-${seq}`);
    await mkdir(target, { recursive: true });
    await withMounted(await snapshotter.view('view-1', first.chainId), target, async () => {
      expect(await compareTrees(expectedTree, target, { ignoreDirMtimes: true })).to.deep.equal([]);
    });
    const second = await store.unpack(pushed.layered.reference, snapshotter);
    expect(second.layers.map((l) => l.applied)).to.deep.equal([false, false, false]);
    expect((await codedRejection(store.unpack(`${registry.host}/nothing:latest`, snapshotter))).code).to.equal('ERR_IMAGE_NOT_FOUND');
  });

  it('a layer that fails to apply leaves no half snapshot and no image name; the layers below it stay committed', async () => {
    // The layered image with a wrong diff_id for its second layer: every blob fetches fine, the apply of layer 2 fails.
    const built = pushed.layered.image;
    const layout = join(work, 'broken-layout');
    await initLayout(layout);
    const blob = (digest: string): Promise<Buffer> => readFile(join(built.layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length)));
    const manifest = JSON.parse((await blob(built.manifestDigest)).toString('utf8')) as {
      config: { digest: string };
      layers: Array<{ mediaType: string; digest: string }>;
    };
    const config = JSON.parse((await blob(manifest.config.digest)).toString('utf8')) as { rootfs: { diff_ids: string[] } };
    config.rootfs.diff_ids[1] = `sha256:${'1'.repeat(64)}`;
    const layers = [];
    for (const l of manifest.layers) layers.push(await writeBlob(layout, l.mediaType, await blob(l.digest)));
    const configDesc = await writeBlob(layout, 'application/vnd.oci.image.config.v1+json', Buffer.from(JSON.stringify(config)));
    const manifestDesc = await writeBlob(
      layout,
      'application/vnd.oci.image.manifest.v1+json',
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: configDesc, layers })),
    );
    await tagManifest(layout, manifestDesc, 'latest');
    await pushImage(layout, 'latest', registry.host, 'broken', 'latest');

    for (const kind of kinds) {
      const store = await freshStore();
      const snapshotter = await kind.make(join(work, `broken-${kind.name}-${seq}`));
      expect((await codedRejection(store.pull(`${registry.host}/broken:latest`, { unpack: { snapshotter } }))).code, kind.name).to.equal('ERR_DIGEST_MISMATCH');
      const left = await snapshotter.walk();
      expect(
        left.map((s) => [s.name, s.kind]),
        kind.name,
      ).to.deep.equal([[config.rootfs.diff_ids[0], 'committed']]);
      expect(await store.list(), kind.name).to.deep.equal([]);
      // No lease outlives the pull: a GC may now take the unnamed blobs.
      expect((await store.gc()).removed.length, kind.name).to.be.greaterThan(0);
    }
  });

  it('a fetch that fails stops the unpack: no active snapshot is left', async () => {
    const store = await freshStore();
    const snapshotter = await OverlaySnapshotter.open(join(work, `missing-${seq}`));
    // A repository the registry does not have: the resolve fails before anything is unpacked.
    expect((await codedRejection(store.pull(`${registry.host}/missing:latest`, { unpack: { snapshotter } }))).code).to.equal('ERR_REGISTRY_NOT_FOUND');
    expect(await snapshotter.walk()).to.deep.equal([]);
    // An abort in the middle: the pull rejects with the reason, and only committed snapshots (if any) remain.
    const controller = new AbortController();
    const reason = new Error('stop here');
    const pulling = store.pull(pushed.layered.reference, {
      unpack: { snapshotter },
      onProgress: (e) => {
        if (e.status === 'done' && e.descriptor.mediaType.includes('layer')) controller.abort(reason);
      },
      signal: controller.signal,
    });
    let caught: unknown;
    await pulling.catch((err: unknown) => (caught = err));
    expect(caught).to.equal(reason);
    expect((await snapshotter.walk()).every((s) => s.kind === 'committed')).to.equal(true);
    expect(await store.list()).to.deep.equal([]);
  });

  it('checks unpack options before any request, and an already-aborted signal', async () => {
    const store = await freshStore();
    registry.clearAccessLog();
    expect((await codedRejection(store.pull(pushed.layered.reference, { unpack: {} as never }))).code).to.equal('ERR_INVALID_ARGUMENT');
    const snapshotter = await OverlaySnapshotter.open(join(work, `options-${seq}`));
    expect((await codedRejection(store.pull(pushed.layered.reference, { unpack: { snapshotter, maxUncompressedSize: -1 } }))).code).to.equal(
      'ERR_INVALID_ARGUMENT',
    );
    expect((await codedRejection(store.pull(pushed.layered.reference, { unpack: { snapshotter, labels: { a: 1 as never } } }))).code).to.equal(
      'ERR_INVALID_ARGUMENT',
    );
    expect((await codedRejection(store.unpack(pushed.layered.reference, {} as never))).code).to.equal('ERR_INVALID_ARGUMENT');
    const aborted = AbortSignal.abort(new Error('already'));
    let caught: unknown;
    await store.pull(pushed.layered.reference, { unpack: { snapshotter }, signal: aborted }).catch((err: unknown) => (caught = err));
    expect(caught).to.equal(aborted.reason);
    expect((await registry.accessLog()).length).to.equal(0);
  });
});
