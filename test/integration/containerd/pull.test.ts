import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { ContainerdClient } from '../../../lib/containerd/index.js';
import { containerdPull } from '../../../lib/images/index.js';
import type { Descriptor } from '../../../lib/oci/descriptor.js';
import type { Digest } from '../../../lib/oci/digest.js';
import { MEDIA_TYPES as M } from '../../../lib/oci/media-types.js';
import { type FetchOptions, RegistryClient, StaticCredentials } from '../../../lib/registry/index.js';
import { codedRejection } from '../../fixtures/assert.js';
import { type ContainerdFixture, startContainerd } from '../../fixtures/containerd.js';
import { buildLayer, sha256Digest } from '../../fixtures/image-layer.js';
import { type PushedImages, withPushedImages } from '../../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../fixtures/registry.js';

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
    resolver = new RegistryClient({ credentials: new StaticCredentials({}) });
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
    const manifestInfo = await client.content.info(result.manifestDescriptor.digest);
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

  it('checks its options and an already-aborted signal before any request: no lease, no image', async () => {
    expect((await codedRejection(containerdPull(client, images.busybox.reference, { resolver, concurrency: 0 }))).code).to.equal('ERR_INVALID_ARGUMENT');
    expect((await codedRejection(containerdPull(client, images.busybox.reference, {} as never))).code).to.equal('ERR_INVALID_ARGUMENT');
    const aborted = AbortSignal.abort(new Error('already'));
    await registry.accessLog(); // a flush, so the clear is exact
    registry.clearAccessLog();
    const caught = await containerdPull(client, images.busybox.reference, { resolver, signal: aborted }).catch((err: unknown) => err);
    expect(caught).to.equal(aborted.reason);
    expect(await registry.accessLog()).to.deep.equal([]);
    expect(await client.leases.list()).to.deep.equal([]);
  });

  it('refuses a config for another platform than its index entry: ERR_PLATFORM_MISMATCH, no image, no lease', async () => {
    const descOf = (mediaType: string, bytes: Buffer): Descriptor => ({ mediaType, digest: sha256Digest(bytes) as Digest, size: bytes.length });
    const layer = await buildLayer([{ type: 'file', path: 'p.txt', content: 'p\n' }]);
    const layerDesc = descOf(M.OCI_LAYER_GZIP, layer.gzip);
    const config = Buffer.from(JSON.stringify({ architecture: 's390x', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.diffId] } }));
    const configDesc = descOf(M.OCI_CONFIG, config);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: M.OCI_MANIFEST, config: configDesc, layers: [layerDesc] }));
    const manifestDesc = descOf(M.OCI_MANIFEST, manifest);
    const index = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: M.OCI_INDEX, manifests: [{ ...manifestDesc, platform: { os: 'linux', architecture: 'amd64' } }] }),
    );
    const ref = `${registry.host}/wrong-platform`;
    await resolver.pushBlob(ref, layerDesc, layer.gzip);
    await resolver.pushBlob(ref, configDesc, config);
    await resolver.pushManifest(`${ref}@${manifestDesc.digest}`, manifest, M.OCI_MANIFEST);
    await resolver.pushManifest(`${ref}:latest`, index, M.OCI_INDEX);

    const err = await codedRejection(containerdPull(client, `${ref}:latest`, { resolver, platform: 'linux/amd64' }));
    expect(err.code).to.equal('ERR_PLATFORM_MISMATCH');
    expect(err.details).to.deep.include({ field: 'architecture', expected: 'linux/amd64', actual: 'linux/s390x' });
    expect((await fixture.ctr(['images', 'ls', '-q'])).split('\n')).to.not.include(`${ref}:latest`);
    expect(await client.leases.list()).to.deep.equal([]);
  });

  it('leaves the digest check to containerd: a fetcher that corrupts a layer byte fails the pull with ERR_DIGEST_MISMATCH, nothing kept', async () => {
    const descOf = (mediaType: string, bytes: Buffer): Descriptor => ({ mediaType, digest: sha256Digest(bytes) as Digest, size: bytes.length });
    const built = await buildLayer([{ type: 'file', path: 'noise.bin', content: randomBytes(256 * 1024) }]);
    const layer = descOf(M.OCI_LAYER_GZIP, built.gzip);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [built.diffId] } }));
    const configDesc = descOf(M.OCI_CONFIG, config);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: M.OCI_MANIFEST, config: configDesc, layers: [layer] }));
    const ref = `${registry.host}/corrupted:latest`;
    await resolver.pushBlob(ref, layer, built.gzip);
    await resolver.pushBlob(ref, configDesc, config);
    await resolver.pushManifest(ref, manifest, M.OCI_MANIFEST);

    const asked: Array<string | undefined> = [];
    // The real registry's fetcher, with one byte of the layer flipped on the way (a lying mirror, a bad disk).
    const corrupting = {
      resolve: (r: string, o?: { signal?: AbortSignal }) => resolver.resolve(r, o),
      pusher: (r: string) => resolver.pusher(r),
      fetcher: (r: string) => {
        const real = resolver.fetcher(r);
        return {
          async fetch(d: Descriptor, o: FetchOptions = {}) {
            asked.push(o.verify);
            const stream = await real.fetch(d, o);
            if (d.digest !== layer.digest) return stream;
            const bytes = Buffer.concat(await stream.toArray());
            bytes[bytes.length >> 1]! ^= 0xff;
            return Readable.from([bytes]);
          },
        };
      },
    };
    const err = await codedRejection(containerdPull(client, ref, { resolver: corrupting }));
    expect(err.code).to.equal('ERR_DIGEST_MISMATCH');
    expect(err.details).to.deep.include({ expected: layer.digest });
    // It asked the fetcher for a size check only: containerd hashed the bytes.
    expect(asked).to.include('size');
    expect(
      await client.content.info(layer.digest).then(
        () => 'stored',
        (e: { code?: string }) => e.code,
      ),
    ).to.equal('ERR_CONTAINERD_NOT_FOUND');
    expect((await fixture.ctr(['images', 'ls', '-q'])).split('\n')).to.not.include(ref);
    expect(await client.leases.list()).to.deep.equal([]);
  });
});
