// ImageStore against the real docker-registry fixture; request counts come from its access log.

import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { ImageStore, importLayout, type PullProgress } from '../../../lib/images/index.js';
import { RegistryClient } from '../../../lib/registry/index.js';
import { runTool } from '../../../lib/util/index.js';
import { type PushedImages, withPushedImages } from '../../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../fixtures/registry.js';
import { makeTempDir } from '../../fixtures/tmp.js';

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

const blobGets = { method: /GET|HEAD/, path: /\/blobs\// };

describe('images: ImageStore against docker-registry', function () {
  this.timeout(120_000);
  let registry: RegistryFixture;
  let pushed: PushedImages;
  let client: RegistryClient;

  before(async () => {
    registry = await startRegistry();
    pushed = await withPushedImages(registry);
    client = new RegistryClient({ retry: { baseDelayMs: 1 } });
  });
  after(async () => {
    client?.close();
    await registry?.stop();
  });

  async function freshStore(): Promise<ImageStore> {
    return ImageStore.open(join(await makeTempDir('images'), 'content'), { registry: client });
  }

  it('pulls the 3-layer image with per-layer progress, records it under its full name, and verify() is clean', async () => {
    const store = await freshStore();
    const events: PullProgress[] = [];
    registry.clearAccessLog();
    const record = await store.pull(pushed.layered.reference, { onProgress: (e) => events.push(e) });
    expect(record.name).to.equal(`${registry.host}/layered:latest`);
    expect(record.target.digest).to.equal(pushed.layered.digest);
    const details = await store.get(pushed.layered.reference);
    expect(details.manifest.layers).to.have.length(3);
    expect(details.config.rootfs.diff_ids).to.have.length(3);
    for (const layer of details.manifest.layers) {
      const mine = events.filter((e) => e.descriptor.digest === layer.digest).map((e) => e.status);
      expect(mine[0]).to.equal('downloading');
      expect(mine.slice(-2)).to.deep.equal(['verifying', 'done']);
    }
    // Each blob fetched once.
    const blobRequests = (await registry.accessLog()).filter((e) => e.method === 'GET' && e.path.includes('/blobs/'));
    expect(blobRequests).to.have.length(4);
    const verify = await store.verify();
    expect(verify).to.deep.include({ corrupt: [], missing: [] });
    expect(verify.checked).to.equal(5);
    expect((await store.list()).map((r) => r.name)).to.deep.equal([`${registry.host}/layered:latest`]);
    // index.json names it with the full normalised reference.
    const index = JSON.parse(await readFile(join(store.root, 'index.json'), 'utf8')) as { manifests: Array<{ annotations: Record<string, string> }> };
    expect(index.manifests[0]!.annotations['org.opencontainers.image.ref.name']).to.equal(`${registry.host}/layered:latest`);
  });

  it('pulling an image already present makes no blob requests', async () => {
    const store = await freshStore();
    await store.pull(pushed.busybox.reference);
    registry.clearAccessLog();
    const events: PullProgress[] = [];
    await store.pull(pushed.busybox.reference, { onProgress: (e) => events.push(e) });
    expect(await registry.countRequests(blobGets)).to.equal(0);
    expect(events.every((e) => e.status === 'exists')).to.equal(true);
  });

  it('8 concurrent pulls of one image in one process download each blob once', async () => {
    const store = await freshStore();
    registry.clearAccessLog();
    await Promise.all(Array.from({ length: 8 }, () => store.pull(pushed.layered.reference)));
    const gets = (await registry.accessLog()).filter((e) => e.method === 'GET' && e.path.includes('/blobs/'));
    expect(new Set(gets.map((g) => g.path)).size).to.equal(gets.length);
    expect((await store.verify()).corrupt).to.deep.equal([]);
  });

  it('tag, untag, list and delete with GC', async () => {
    const store = await freshStore();
    await store.pull(pushed.busybox.reference);
    await store.tag(pushed.busybox.reference, 'example.com/mine:v1');
    expect((await store.list()).map((r) => r.name).sort()).to.deep.equal([`${registry.host}/busybox:latest`, 'example.com/mine:v1'].sort());
    await store.untag(pushed.busybox.reference);
    expect(await codeOf(store.get(pushed.busybox.reference))).to.equal('ERR_IMAGE_NOT_FOUND');
    expect(await codeOf(store.untag(pushed.busybox.reference))).to.equal('ERR_IMAGE_NOT_FOUND');
    const kept = await store.gc();
    expect(kept.removed).to.deep.equal([]);
    const result = await store.delete('example.com/mine:v1');
    expect(result!.removed).to.have.length(3); // manifest, config, one layer
    expect(await store.list()).to.deep.equal([]);
    expect((await store.verify()).checked).to.equal(0);
  });

  it('GC never removes what a running pull holds (lease), and keeps blobs a user lists as roots', async () => {
    const store = await freshStore();
    let gcRuns = 0;
    const pending: Array<Promise<unknown>> = [];
    await store.pull(pushed.layered.reference, {
      concurrency: 1,
      onProgress: (e) => {
        if (e.status === 'done') {
          gcRuns++;
          pending.push(store.gc());
        }
      },
    });
    await Promise.all(pending);
    expect(gcRuns).to.be.greaterThan(3);
    expect(await store.verify()).to.deep.include({ corrupt: [], missing: [] });
    const details = await store.get(pushed.layered.reference);
    await store.untag(pushed.layered.reference);
    const result = await store.gc({ roots: [details.manifestDescriptor] });
    expect(result.removed).to.deep.equal([]);
    expect((await store.gc()).removed).to.have.length(5);
  });

  it('verify() reports a corrupt blob and can remove it', async () => {
    const store = await freshStore();
    const record = await store.pull(pushed.busybox.reference);
    const details = await store.get(record.name);
    const layer = details.manifest.layers[0]!;
    const path = store.content.blobPath(layer.digest);
    await chmod(path, 0o644);
    await writeFile(path, 'not the layer');
    const report = await store.verify();
    expect(report.corrupt).to.deep.equal([layer.digest]);
    const fixed = await store.verify({ removeCorrupt: true });
    expect(fixed.removed).to.deep.equal([layer.digest]);
    expect((await store.verify()).missing).to.deep.equal([layer.digest]);
  });

  it('rejects an already-aborted signal and bad options before any request', async () => {
    const store = await freshStore();
    const c = new AbortController();
    c.abort();
    registry.clearAccessLog();
    expect(await codeOf(store.pull(pushed.busybox.reference, { signal: c.signal }))).to.not.equal(undefined);
    expect(await codeOf(store.pull(pushed.busybox.reference, { concurrency: 0 }))).to.equal('ERR_INVALID_ARGUMENT');
    expect(await registry.countRequests({ path: /\/v2\/.+/ })).to.equal(0);
  });

  it('skopeo and umoci read the store; skopeo copies from it to the registry', async () => {
    const store = await freshStore();
    const record = await store.pull(pushed.layered.reference);
    const inspected = await runTool('skopeo', ['inspect', '--raw', `oci:${store.root}:${record.name}`]);
    expect(JSON.parse(inspected.stdout)).to.have.property('layers').with.length(3);
    const bundle = join(await makeTempDir('umoci'), 'bundle');
    await runTool('umoci', ['unpack', '--rootless', '--image', `${store.root}:${record.name}`, bundle]);
    const rootfs = await readFile(join(bundle, 'config.json'), 'utf8');
    expect(rootfs).to.include('"root"');
    await runTool('skopeo', ['copy', '--dest-tls-verify=false', `oci:${store.root}:${record.name}`, `docker://${registry.host}/copied:v1`]);
    const again = await freshStore();
    const copied = await again.pull(`${registry.host}/copied:v1`);
    expect(copied.target.digest).to.equal(record.target.digest);
  });

  it('push sends a stored image to the registry under a new name', async () => {
    const store = await freshStore();
    await store.pull(pushed.busybox.reference);
    await store.tag(pushed.busybox.reference, `${registry.host}/pushed:v2`);
    const root = await store.push(`${registry.host}/pushed:v2`);
    const resolved = await client.resolve(`${registry.host}/pushed:v2`);
    expect(resolved.descriptor.digest).to.equal(root.digest);
  });
  it('imports a layout skopeo wrote: a bare tag becomes <name>:<tag>; an entry without a name is kept by digest and reported', async () => {
    const work = await makeTempDir('images-import');
    const layout = join(work, 'skopeo');
    await runTool('skopeo', ['copy', '--src-tls-verify=false', `docker://${pushed.busybox.reference}`, `oci:${layout}:latest`]);
    await runTool('skopeo', ['copy', '--src-tls-verify=false', `docker://${pushed.layered.reference}`, `oci:${layout}`]);
    const store = await freshStore();
    const result = await importLayout(store.content, layout, { name: 'example.com/imported' });
    expect(result.imported).to.deep.equal([{ name: 'example.com/imported:latest', digest: pushed.busybox.digest }]);
    expect(result.unnamed).to.deep.equal([{ digest: pushed.layered.digest }]);
    const details = await store.get('example.com/imported:latest');
    expect(details.manifest.layers).to.have.length(1);
    expect(await store.verify()).to.deep.include({ corrupt: [], missing: [] });
    // The unnamed entry's content is kept: GC does not remove it.
    expect((await store.gc()).removed).to.deep.equal([]);
  });
  it('resumes a partly fetched layer from its ingest offset (a Range request for the rest only)', async () => {
    const store = await freshStore();
    const layer = pushed.layered.image.layers.reduce((a, b) => (b.size > a.size ? b : a));
    const bytes = await readFile(join(pushed.layered.image.layoutDir, 'blobs', 'sha256', layer.digest.slice(7)));
    const half = Math.floor(bytes.length / 2);
    const writer = await store.content.writer({ ref: `fetch-${layer.digest}`, expected: { digest: layer.digest, size: layer.size } });
    await writer.write(bytes.subarray(0, half));
    await writer.close();
    registry.clearAccessLog();
    await store.pull(pushed.layered.reference);
    const gets = (await registry.accessLog()).filter((e) => e.method === 'GET' && e.path.endsWith(layer.digest));
    expect(gets.map((g) => g.bytes)).to.deep.equal([bytes.length - half]);
    expect(await store.verify()).to.deep.include({ corrupt: [], missing: [] });
  });
  it('imports a layout umoci wrote (bare tag) and umoci reads it back after a round trip', async () => {
    const work = await makeTempDir('images-umoci');
    const layout = join(work, 'umoci');
    await runTool('umoci', ['init', '--layout', layout]);
    await runTool('umoci', ['new', '--image', `${layout}:v1`]);
    const store = await freshStore();
    const result = await importLayout(store.content, layout, { name: 'example.com/empty' });
    expect(result.imported.map((r) => r.name)).to.deep.equal(['example.com/empty:v1']);
    const details = await store.get('example.com/empty:v1');
    expect(details.manifest.layers).to.deep.equal([]);
    const bundle = join(work, 'bundle');
    await runTool('umoci', ['unpack', '--rootless', '--image', `${store.root}:example.com/empty:v1`, bundle]);
    expect(JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8'))).to.have.property('ociVersion');
  });
});
