// The Engine's image side against a real docker-registry and a real snapshotter: docker's --pull policies, docker's
// name normalisation, unpacking once, and image removal that never takes a snapshot from under a container.

import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { ImageService } from '../../../lib/engine/image-service.js';
import { CONTAINER_LABEL } from '../../../lib/engine/rootfs.js';
import { ConflictError, NotFoundError } from '../../../lib/errors/index.js';
import { chainIds } from '../../../lib/oci/chain-id.js';
import { RegistryClient } from '../../../lib/registry/index.js';
import { codedRejection } from '../../fixtures/assert.js';
import { useRegistryWithImages } from '../../fixtures/images.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

describe('engine: ImageService (real registry, real snapshotter)', function () {
  this.timeout(180_000);
  const served = useRegistryWithImages();
  let client: RegistryClient;
  let work: string;
  let seq = 0;

  before(async () => {
    client = new RegistryClient({ retry: { baseDelayMs: 1 } });
    work = await makeTempDir('engine-images');
  });
  after(async () => {
    client?.close();
    if (work !== undefined) await removeTempDir(work);
  });

  const fresh = (): Promise<ImageService> => ImageService.open(join(work, `root-${++seq}`), { registry: client });
  const busybox = (): string => served.images.busybox.reference;
  const layered = (): string => served.images.layered.reference;
  const requests = async (): Promise<number> => {
    const n = await served.registry.countRequests({ path: /^\/v2\/.+/ });
    served.registry.clearAccessLog();
    return n;
  };

  it("pull 'missing' pulls once and unpacks; then uses the store without asking the registry", async () => {
    const images = await fresh();
    await requests();
    const first = await images.ensureImage(busybox());
    expect(first.pulled).to.equal(true);
    expect(first.name).to.equal(busybox());
    expect(await requests(), 'registry requests of the first pull').to.be.greaterThan(0);
    const expected = chainIds(served.images.busybox.image.layers.map((l) => l.diffId)).at(-1);
    expect(first.chainId).to.equal(expected);
    expect((await images.snapshotter.stat(first.chainId)).kind).to.equal('committed');
    expect(first.config.config?.Cmd).to.deep.equal(['sh']);

    const second = await images.ensureImage(busybox());
    expect(second.pulled).to.equal(false);
    expect(second.chainId).to.equal(first.chainId);
    expect(await requests(), 'registry requests when present').to.equal(0);
  });

  it("pull 'never' fails with ERR_IMAGE_NOT_FOUND (NotFound) for a missing image, without a registry request", async () => {
    const images = await fresh();
    await requests();
    const err = await codedRejection(images.ensureImage(busybox(), { pull: 'never' }));
    expect(err.code).to.equal('ERR_IMAGE_NOT_FOUND');
    expect(err).to.be.instanceOf(NotFoundError);
    expect(err.details).to.deep.equal({ name: busybox() });
    expect(await requests()).to.equal(0);
    expect(await images.list()).to.deep.equal([]);
  });

  it("pull 'always' asks the registry again but fetches no blob it has", async () => {
    const images = await fresh();
    await images.ensureImage(busybox());
    await requests();
    const again = await images.ensureImage(busybox(), { pull: 'always' });
    expect(again.pulled).to.equal(true);
    expect(await served.registry.countRequests({ path: /\/manifests\// }), 'manifest requests').to.be.greaterThan(0);
    expect(await served.registry.countRequests({ method: /GET/, path: /\/blobs\// }), 'blob downloads').to.equal(0);
    served.registry.clearAccessLog();
  });

  it('an already-aborted ensureImage rejects with the reason before asking the registry', async () => {
    const images = await fresh();
    await requests();
    const reason = new Error('stop');
    expect(await images.ensureImage(busybox(), { signal: AbortSignal.abort(reason) }).catch((e: unknown) => e)).to.equal(reason);
    expect(await requests()).to.equal(0);
  });

  it('normalises names as docker: busybox is docker.io/library/busybox:latest', async () => {
    const images = await fresh();
    await images.ensureImage(busybox());
    const tagged = await images.tag(busybox(), 'busybox');
    expect(tagged.name).to.equal('docker.io/library/busybox:latest');
    for (const ref of ['busybox', 'busybox:latest', 'library/busybox', 'docker.io/library/busybox:latest']) {
      const image = await images.ensureImage(ref, { pull: 'never' });
      expect(image.name, ref).to.equal('docker.io/library/busybox:latest');
      expect(image.pulled).to.equal(false);
    }
    const err = await codedRejection(images.ensureImage('busybox:other', { pull: 'never' }));
    expect(err.details).to.deep.equal({ name: 'docker.io/library/busybox:other' });
    expect((await codedRejection(images.ensureImage('Busybox', { pull: 'never' }))).code).to.equal('ERR_INVALID_REFERENCE');
    expect((await codedRejection(images.ensureImage('busybox', { pull: 'sometimes' as never }))).code).to.equal('ERR_INVALID_ARGUMENT');
  });

  it("refuses to remove an image a container's snapshot uses (Conflict naming it); force keeps every snapshot in use", async () => {
    const images = await fresh();
    const image = await images.ensureImage(busybox());
    const mounts = await images.prepareRootfs('c1', image.chainId);
    expect(mounts.length).to.equal(1);
    // Prepared again (a restart), the container gets its own snapshot back.
    expect(await images.prepareRootfs('c1', image.chainId)).to.deep.equal(mounts);
    expect((await images.snapshotter.stat('c1')).labels[CONTAINER_LABEL]).to.equal('c1');

    const err = await codedRejection(images.removeImage(busybox()));
    expect(err.code).to.equal('ERR_IMAGE_IN_USE');
    expect(err).to.be.instanceOf(ConflictError);
    expect(err.details).to.deep.equal({ name: busybox(), containers: ['c1'] });
    expect((await images.list()).map((i) => i.name)).to.deep.equal([busybox()]);

    // Another name of the same image: removing one name only untags, whoever uses it.
    await images.tag(busybox(), 'busybox:second');
    const untag = await images.removeImage('busybox:second');
    expect(untag).to.deep.equal({ untagged: ['docker.io/library/busybox:second'], snapshots: [], gc: undefined });

    const forced = await images.removeImage(busybox(), { force: true });
    expect(forced.untagged).to.deep.equal([busybox()]);
    expect(forced.snapshots, 'no snapshot in use is removed').to.deep.equal([]);
    expect((await images.snapshotter.stat(image.chainId)).kind).to.equal('committed');
    expect((await images.snapshotter.stat('c1')).kind).to.equal('active');
    expect(await images.list()).to.deep.equal([]);

    // Once the container's snapshot is gone, prune removes the layer nothing uses any more.
    await images.releaseRootfs('c1');
    await images.releaseRootfs('c1'); // nothing left: no error
    const pruned = await images.prune();
    expect(pruned.snapshots).to.deep.equal([image.chainId]);
    expect(await images.snapshotter.walk()).to.deep.equal([]);
  });

  it('saves an image to an archive and loads it into another root, where it runs without a pull', async () => {
    const source = await fresh();
    await source.ensureImage(busybox());
    const archive = join(work, `busybox-${seq}.tar`);
    await source.save([busybox()], createWriteStream(archive));
    const target = await fresh();
    const loaded = await target.load(createReadStream(archive));
    expect(loaded.imported.map((i) => i.name)).to.deep.equal([busybox()]);
    await requests();
    const image = await target.ensureImage(busybox(), { pull: 'never' });
    expect(image.pulled).to.equal(false);
    expect((await target.snapshotter.stat(image.chainId)).kind, 'unpacked on first use').to.equal('committed');
    expect(await requests()).to.equal(0);
  });

  it('removing an image removes its own layer snapshots and keeps the ones another image shares', async () => {
    const images = await fresh();
    const base = await images.ensureImage(busybox());
    const stack = await images.ensureImage(layered());
    const chain = chainIds(served.images.layered.image.layers.map((l) => l.diffId));
    expect(stack.chainId).to.equal(chain.at(-1));
    expect(chain[0], 'the layered image is built on the busybox layer').to.equal(base.chainId);
    const removed = await images.removeImage(layered());
    expect(removed.snapshots).to.deep.equal([chain[2], chain[1]]);
    expect(removed.gc?.removed.length, 'blobs collected').to.be.greaterThan(0);
    expect((await images.snapshotter.walk()).map((s) => s.name)).to.deep.equal([base.chainId]);
    expect((await codedRejection(images.removeImage(layered()))).code).to.equal('ERR_IMAGE_NOT_FOUND');
    // The busybox image still runs: its layer is there, nothing to apply.
    expect((await images.ensureImage(busybox(), { pull: 'never' })).chainId).to.equal(base.chainId);
  });
});
