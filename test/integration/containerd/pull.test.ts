import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { ContainerdClient, containerdPull } from '../../../lib/containerd/index.js';
import { RegistryClient, StaticCredentials } from '../../../lib/registry/index.js';
import { startContainerd, type ContainerdFixture } from '../../fixtures/containerd.js';
import { withPushedImages, type PushedImages } from '../../fixtures/images.js';
import { startRegistry, type RegistryFixture } from '../../fixtures/registry.js';

describe('containerdPull() into a real containerd, with RegistryClient as the resolver', function () {
  this.timeout(180_000);
  let fixture: ContainerdFixture;
  let registry: RegistryFixture;
  let images: PushedImages;
  let client: ContainerdClient;
  let resolver: RegistryClient;

  before(async () => {
    [fixture, registry] = await Promise.all([startContainerd(), startRegistry()]);
    images = await withPushedImages(registry);
    client = new ContainerdClient({ address: fixture.address, namespace: fixture.namespace });
    resolver = RegistryClient.create({ credentials: new StaticCredentials({}) });
  });

  after(async () => {
    resolver?.close();
    await client?.close();
    await fixture?.stop();
    await registry?.stop();
  });

  it('pulls an image that ctr then lists and runs with ctr run --rm', async () => {
    const result = await containerdPull(client, images.busybox.reference, { resolver });
    expect(result.image.name).to.equal(images.busybox.reference);
    expect(result.image.target.digest).to.equal(images.busybox.digest);
    expect(result.chainId).to.equal(images.busybox.image.layers[0]!.diffId);
    expect((await fixture.ctr(['images', 'ls', '-q'])).split('\n')).to.include(images.busybox.reference);
    // The GC labels containerd needs to keep the content and the snapshot.
    const manifestInfo = await client.content.info(result.manifest.digest);
    expect(manifestInfo.labels['containerd.io/gc.ref.content.config']).to.equal(images.busybox.image.configDigest);
    expect(manifestInfo.labels['containerd.io/gc.ref.content.l.0']).to.equal(images.busybox.image.layers[0]!.digest);
    const configInfo = await client.content.info(images.busybox.image.configDigest);
    expect(configInfo.labels['containerd.io/gc.ref.snapshot.overlayfs']).to.equal(result.chainId);
    const layerInfo = await client.content.info(images.busybox.image.layers[0]!.digest);
    expect(layerInfo.labels['containerd.io/uncompressed']).to.equal(images.busybox.image.layers[0]!.diffId);
    expect(layerInfo.labels[`containerd.io/distribution.source.${registry.host}`]).to.equal('busybox');
    // The lease is gone, and a GC pass keeps everything the image references.
    expect(await client.leases.list()).to.deep.equal([]);
    const scratch = `example.test/gc-trigger:${randomBytes(3).toString('hex')}`;
    await client.images.create({ name: scratch, target: result.image.target });
    await client.images.delete(scratch, { sync: true });
    expect((await client.snapshots.stat(result.chainId!)).kind).to.equal('committed');
    const id = `ck-pulled-${randomBytes(3).toString('hex')}`;
    const out = await fixture.ctr(['run', '--rm', images.busybox.reference, id, 'sh', '-c', 'echo pulled-by-containerkit']);
    expect(out.trim()).to.equal('pulled-by-containerkit');
  });

  it('unpacks a layered image with whiteouts so ctr run sees the merged filesystem', async () => {
    const result = await containerdPull(client, images.layered.reference, { resolver });
    expect(result.image.target.digest).to.equal(images.layered.digest);
    const id = `ck-layered-${randomBytes(3).toString('hex')}`;
    const out = await fixture.ctr(['run', '--rm', images.layered.reference, id, 'sh', '-c', 'ls /cache; ls /data']);
    expect(out.split('\n').filter(Boolean)).to.deep.equal(['c', 'keep.txt']);
    // Pulling again skips every blob and snapshot, and leaves the same image.
    const again = await containerdPull(client, images.layered.reference, { resolver });
    expect(again.image.target).to.deep.equal(result.image.target);
    expect(again.chainId).to.equal(result.chainId);
  });
});
