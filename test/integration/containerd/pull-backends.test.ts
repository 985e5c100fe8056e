// One image pulled by both backends — ImageStore.pull (with unpack) and containerdPull — against the real registry
// and a real containerd: both return the same PullResult (the one resolver's answer), with the same field names.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { expect } from 'chai';
import { ContainerdClient } from '../../../lib/containerd/index.js';
import { type ContainerdPullResult, containerdPull, ImageStore, type PulledImage } from '../../../lib/images/index.js';
import type { Descriptor } from '../../../lib/oci/descriptor.js';
import type { Digest } from '../../../lib/oci/digest.js';
import type { PullResult } from '../../../lib/oci/index.js';
import { MEDIA_TYPES as M } from '../../../lib/oci/media-types.js';
import { RegistryClient, StaticCredentials } from '../../../lib/registry/index.js';
import { NativeSnapshotter } from '../../../lib/unpack/index.js';
import { type ContainerdFixture, startContainerd } from '../../fixtures/containerd.js';
import { buildLayer, sha256Digest } from '../../fixtures/image-layer.js';
import { hostArchitecture, type PushedImages, withPushedImages } from '../../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../fixtures/registry.js';
import { makeTempDir } from '../../fixtures/tmp.js';

/** The fields every backend's pull returns, with the target's store-specific annotations left out. */
function common(result: PullResult): PullResult {
  const { annotations: _store, ...target } = result.target;
  return {
    name: result.name,
    target,
    manifestDescriptor: result.manifestDescriptor,
    config: result.config,
    ...(result.chainId === undefined ? {} : { chainId: result.chainId }),
  };
}

const descOf = (mediaType: string, bytes: Buffer, extra: Partial<Descriptor> = {}): Descriptor => ({
  mediaType,
  digest: sha256Digest(bytes) as Digest,
  size: bytes.length,
  ...extra,
});

describe('one pull result from both backends: ImageStore.pull and containerdPull', function () {
  this.timeout(180_000);
  let fixture: ContainerdFixture;
  let registry: RegistryFixture;
  let images: PushedImages;
  let client: ContainerdClient;
  let resolver: RegistryClient;
  let work: string;

  before(async () => {
    [fixture, registry] = await Promise.all([startContainerd(), startRegistry()]);
    images = await withPushedImages(registry);
    client = new ContainerdClient({ address: fixture.address, namespace: fixture.namespace });
    resolver = new RegistryClient({ credentials: new StaticCredentials({}) });
    work = await makeTempDir('pull-backends');
  });

  after(async () => {
    resolver?.close();
    await client?.close();
    await fixture?.stop();
    await registry?.stop();
  });

  async function pullBoth(ref: string, platform?: string): Promise<[PulledImage, ContainerdPullResult]> {
    const dir = join(work, randomBytes(4).toString('hex'));
    const store = await ImageStore.open(join(dir, 'layout'), { registry: resolver });
    const snapshotter = new NativeSnapshotter(join(dir, 'snapshots'));
    const local = await store.pull(ref, { unpack: { snapshotter }, ...(platform === undefined ? {} : { platform }) });
    const remote = await containerdPull(client, ref, { resolver, ...(platform === undefined ? {} : { platform }) });
    return [local, remote];
  }

  it('a layered image: same name, target, manifest, config and chain ID', async () => {
    const [local, remote] = await pullBoth(images.layered.reference);
    expect(common(remote)).to.deep.equal(common(local));
    expect(local.name).to.equal(images.layered.reference);
    expect(local.target.digest).to.equal(images.layered.digest);
    expect(local.chainId).to.equal(local.unpack!.chainId);
    // The chain ID each backend returns is a committed snapshot in it.
    expect((await client.snapshots.stat(remote.chainId!)).kind).to.equal('committed');
    expect(remote.image.name).to.equal(remote.name);
  });

  it('a multi-platform index: both pick the same platform manifest', async () => {
    const arch = hostArchitecture();
    const other = arch === 'amd64' ? 'arm64' : 'amd64';
    const layer = await buildLayer([{ type: 'file', path: 'hello.txt', content: 'hello\n' }]);
    const layerDesc = descOf(M.OCI_LAYER_GZIP, layer.gzip);
    const ref = `${registry.host}/multi:latest`;
    await resolver.pushBlob(ref, layerDesc, layer.gzip);
    const entries: Descriptor[] = [];
    for (const architecture of [other, arch]) {
      const config = Buffer.from(JSON.stringify({ architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.diffId] } }));
      const configDesc = descOf(M.OCI_CONFIG, config);
      const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: M.OCI_MANIFEST, config: configDesc, layers: [layerDesc] }));
      const manifestDesc = descOf(M.OCI_MANIFEST, manifest, { platform: { os: 'linux', architecture } });
      await resolver.pushBlob(ref, configDesc, config);
      await resolver.pushManifest(`${ref.split(':latest')[0]}@${manifestDesc.digest}`, manifest, M.OCI_MANIFEST);
      entries.push(manifestDesc);
    }
    await resolver.pushManifest(ref, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: M.OCI_INDEX, manifests: entries })), M.OCI_INDEX);

    const [local, remote] = await pullBoth(ref, `linux/${arch}`);
    expect(common(remote)).to.deep.equal(common(local));
    expect(local.target.mediaType).to.equal(M.OCI_INDEX);
    expect(local.manifestDescriptor.digest).to.equal(entries[1]!.digest);
    expect(local.config.architecture).to.equal(arch);
    expect(local.chainId).to.equal(layer.diffId);
  });

  it('an image without layers (FROM scratch): both accept it, and neither has a chain ID', async () => {
    const config = Buffer.from(
      JSON.stringify({ architecture: hostArchitecture(), os: 'linux', config: { Cmd: ['/app'] }, rootfs: { type: 'layers', diff_ids: [] } }),
    );
    const configDesc = descOf(M.OCI_CONFIG, config);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: M.OCI_MANIFEST, config: configDesc, layers: [] }));
    const ref = `${registry.host}/scratch:latest`;
    await resolver.pushBlob(ref, configDesc, config);
    await resolver.pushManifest(ref, manifest, M.OCI_MANIFEST);

    const [local, remote] = await pullBoth(ref);
    expect(common(remote)).to.deep.equal(common(local));
    expect(local.config.config?.Cmd).to.deep.equal(['/app']);
    expect(local).to.not.have.property('chainId');
    expect(remote).to.not.have.property('chainId');
    expect(local.unpack!.layers).to.deep.equal([]);
    expect((await fixture.ctr(['images', 'ls', '-q'])).split('\n')).to.include(ref);
    expect(await client.leases.list()).to.deep.equal([]);
  });
});
