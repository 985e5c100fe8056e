import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { ContainerdClient } from '../../../lib/containerd/index.js';
import { containerdExport, containerdImport, exportArchive, ImageStore, importArchive } from '../../../lib/images/index.js';
import { RegistryClient, StaticCredentials } from '../../../lib/registry/index.js';
import { codedRejection } from '../../fixtures/assert.js';
import { type ContainerdFixture, startContainerd } from '../../fixtures/containerd.js';
import { type PushedImages, withPushedImages } from '../../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../fixtures/registry.js';
import { makeTempDir } from '../../fixtures/tmp.js';

describe('containerdImport / containerdExport: image archives through a real containerd', function () {
  this.timeout(180_000);
  let fixture: ContainerdFixture;
  let registry: RegistryFixture;
  let images: PushedImages;
  let client: ContainerdClient;
  let registryClient: RegistryClient;
  let store: ImageStore;
  let dir: string;

  const namespaced = (): { client: ContainerdClient; ns: string } => {
    const ns = `ck-archive-${randomBytes(3).toString('hex')}`;
    return { client: client.withNamespace(ns), ns };
  };

  before(async () => {
    [fixture, registry] = await Promise.all([startContainerd(), startRegistry()]);
    images = await withPushedImages(registry);
    client = new ContainerdClient({ address: fixture.address, namespace: fixture.namespace });
    registryClient = new RegistryClient({ credentials: new StaticCredentials({}) });
    dir = await makeTempDir('containerd-archive');
    store = await ImageStore.open(join(dir, 'store'), { registry: registryClient });
    await store.pull(images.busybox.reference);
    await store.pull(images.layered.reference);
  });

  after(async () => {
    registryClient?.close();
    await client?.close();
    await fixture?.stop();
    await registry?.stop();
  });

  async function saveFromStore(ref: string, format: 'oci' | 'docker'): Promise<string> {
    const file = join(dir, `${randomBytes(4).toString('hex')}.tar`);
    await exportArchive(store, [ref], createWriteStream(file), { format });
    return file;
  }

  it('imports an ImageStore archive so that ctr lists it, runs it, and GC keeps it', async () => {
    const { client: c, ns } = namespaced();
    const file = await saveFromStore(images.layered.reference, 'oci');
    const result = await containerdImport(c, createReadStream(file));
    expect(result.imported).to.deep.equal([{ name: images.layered.reference, digest: images.layered.digest }]);
    const ctr = (args: string[]): Promise<string> => fixture.ctr(['--namespace', ns, ...args]);
    expect((await ctr(['images', 'ls', '-q'])).split('\n')).to.include(images.layered.reference);
    expect(await c.leases.list()).to.deep.equal([]);
    // A GC pass (triggered by a synchronous image delete) keeps every blob and the unpacked snapshots.
    const scratch = `example.test/gc-trigger:${randomBytes(3).toString('hex')}`;
    await c.images.create({ name: scratch, target: (await c.images.get(images.layered.reference)).target });
    await c.images.delete(scratch, { sync: true });
    for (const layer of images.layered.image.layers) expect((await c.content.info(layer.digest)).size).to.equal(layer.size);
    const out = await ctr(['run', '--rm', images.layered.reference, `ck-imp-${randomBytes(3).toString('hex')}`, 'sh', '-c', 'ls /cache; ls /data']);
    expect(out.split('\n').filter(Boolean)).to.deep.equal(['c', 'keep.txt']);
  });

  it('imports a docker save archive, without unpacking when asked', async () => {
    const { client: c, ns } = namespaced();
    const file = await saveFromStore(images.busybox.reference, 'docker');
    const result = await containerdImport(c, createReadStream(file), { unpack: false });
    expect(result.imported.map((i) => i.name)).to.deep.equal([images.busybox.reference]);
    const snapshots = await fixture.ctr(['--namespace', ns, 'snapshots', 'ls']);
    expect(snapshots.split('\n').filter(Boolean)).to.have.length(1); // the header only: nothing unpacked
  });

  it('exports an image ctr pulled into an archive that ImageStore and ctr import both read, byte-identical by digest', async () => {
    await fixture.ctr(['images', 'pull', '--plain-http', images.layered.reference]);
    const file = join(dir, 'from-containerd.tar');
    await containerdExport(client, [images.layered.reference], createWriteStream(file));
    const other = await ImageStore.open(join(dir, 'loaded'));
    const loaded = await importArchive(other.content, createReadStream(file));
    expect(loaded.imported).to.deep.equal([{ name: images.layered.reference, digest: images.layered.digest }]);
    expect((await other.verify()).corrupt).to.deep.equal([]);
    const ns = `ck-ctr-import-${randomBytes(3).toString('hex')}`;
    await fixture.ctr(['--namespace', ns, 'images', 'import', file]);
    const listed = await fixture.ctr(['--namespace', ns, 'images', 'ls']);
    expect(listed).to.include(images.layered.reference).and.to.include(images.layered.digest);
  });

  it('refuses an archive whose blob does not hash to its name, records nothing and leaves no lease', async () => {
    const { client: c } = namespaced();
    const file = await saveFromStore(images.busybox.reference, 'oci');
    const bytes = await readFile(file);
    // Flip one byte inside the layer blob's tar entry (its data starts after the 512-byte header).
    const layerHex = images.busybox.image.layers[0]!.digest.slice('sha256:'.length);
    const at = bytes.indexOf(Buffer.from(`blobs/sha256/${layerHex}`));
    expect(at).to.be.greaterThan(-1);
    bytes[at - (at % 512) + 512 + 100] ^= 0xff;
    const bad = join(dir, 'bad.tar');
    await writeFile(bad, bytes);
    expect((await codedRejection(containerdImport(c, createReadStream(bad)))).code).to.equal('ERR_DIGEST_MISMATCH');
    expect(await c.images.list()).to.deep.equal([]);
    expect(await c.leases.list()).to.deep.equal([]);
  });
});
