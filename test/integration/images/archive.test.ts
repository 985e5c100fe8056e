// Export and import of image tarballs (OCI archive with manifest.json, docker save formats), with skopeo as the
// interop check both ways.

import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { expect } from 'chai';
import { runCli } from '../../../lib/cli/main.js';
import { exportArchive, ImageStore, importArchive } from '../../../lib/images/index.js';
import { RegistryClient } from '../../../lib/registry/index.js';
import { runTool } from '../../../lib/util/index.js';
import { type PushedImages, withPushedImages } from '../../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../fixtures/registry.js';
import { makeTempDir } from '../../fixtures/tmp.js';

async function blobsOf(store: ImageStore): Promise<string[]> {
  const out: string[] = [];
  await store.content.walk((i) => void out.push(i.digest));
  return out.sort();
}

describe('images: archives (save/load)', function () {
  this.timeout(120_000);
  let registry: RegistryFixture;
  let pushed: PushedImages;
  let client: RegistryClient;
  let work: string;
  let source: ImageStore;

  before(async () => {
    registry = await startRegistry();
    pushed = await withPushedImages(registry);
    client = new RegistryClient({ retry: { baseDelayMs: 1 } });
    work = await makeTempDir('images-archive');
    source = await ImageStore.open(join(work, 'source'), { registry: client });
    await source.pull(pushed.layered.reference);
    await source.pull(pushed.busybox.reference);
  });
  after(async () => {
    client?.close();
    await registry?.stop();
  });

  it('OCI archive round trip: same names, byte-identical by digest; skopeo reads it as oci-archive: and docker-archive:', async () => {
    const file = join(work, 'both.tar');
    await exportArchive(source, [pushed.layered.reference, pushed.busybox.reference], createWriteStream(file));
    const target = await ImageStore.open(join(work, 'rt-oci'));
    const result = await importArchive(target.content, createReadStream(file));
    expect(result.imported.map((r) => r.name).sort()).to.deep.equal([`${registry.host}/busybox:latest`, `${registry.host}/layered:latest`]);
    expect(await blobsOf(target)).to.deep.equal(await blobsOf(source));
    expect((await target.get(pushed.layered.reference)).target.digest).to.equal(pushed.layered.digest);
    expect(await target.verify()).to.deep.include({ corrupt: [], missing: [] });
    const docker = JSON.parse((await runTool('skopeo', ['inspect', '--raw', `docker-archive:${file}:${registry.host}/layered:latest`])).stdout) as {
      layers: unknown[];
    };
    expect(docker.layers).to.have.length(3);
    const single = join(work, 'single.tar');
    await exportArchive(source, [pushed.layered.reference], createWriteStream(single));
    const oci = JSON.parse((await runTool('skopeo', ['inspect', '--raw', `oci-archive:${single}:latest`])).stdout) as { layers: unknown[] };
    expect(oci.layers).to.have.length(3);
  });

  it('docker format: docker-archive readers see config and layers with the same digests', async () => {
    const file = join(work, 'docker.tar');
    await exportArchive(source, [pushed.layered.reference], createWriteStream(file), { format: 'docker' });
    const layout = join(work, 'from-docker-archive');
    await runTool('skopeo', ['copy', `docker-archive:${file}`, `oci:${layout}:x`]);
    const original = await source.get(pushed.layered.reference);
    const target = await ImageStore.open(join(work, 'rt-docker'));
    const loaded = await importArchive(target.content, createReadStream(file));
    expect(loaded.imported.map((r) => r.name)).to.deep.equal([`${registry.host}/layered:latest`]);
    const back = await target.get(pushed.layered.reference);
    expect(back.manifest.config.digest).to.equal(original.manifest.config.digest);
    expect(back.manifest.layers.map((l) => l.digest)).to.deep.equal(original.manifest.layers.map((l) => l.digest));
  });

  it('loads archives skopeo wrote: oci-archive with a bare tag (named with --name) and a docker-archive', async () => {
    const ociFile = join(work, 'skopeo-oci.tar');
    await runTool('skopeo', ['copy', '--src-tls-verify=false', `docker://${pushed.busybox.reference}`, `oci-archive:${ociFile}:v9`]);
    const target = await ImageStore.open(join(work, 'from-skopeo'));
    const r1 = await importArchive(target.content, createReadStream(ociFile), { name: 'example.com/bb' });
    expect(r1.imported).to.deep.equal([{ name: 'example.com/bb:v9', digest: pushed.busybox.digest }]);
    const dockerFile = join(work, 'skopeo-docker.tar');
    await runTool('skopeo', ['copy', '--src-tls-verify=false', `docker://${pushed.layered.reference}`, `docker-archive:${dockerFile}:example.com/layered:v1`]);
    const r2 = await importArchive(target.content, createReadStream(dockerFile));
    expect(r2.imported.map((r) => r.name)).to.deep.equal(['example.com/layered:v1']);
    const details = await target.get('example.com/layered:v1');
    expect(details.config.rootfs.diff_ids).to.have.length(3);
    expect(details.manifest.config.digest).to.equal((await source.get(pushed.layered.reference)).manifest.config.digest);
    expect(await target.verify()).to.deep.include({ corrupt: [], missing: [] });
  });

  it('refuses a blobs/ entry that does not hash to its name, recording nothing', async () => {
    const { pack } = await import('tar-stream');
    const p = pack();
    p.entry({ name: 'oci-layout' }, '{"imageLayoutVersion":"1.0.0"}');
    p.entry({ name: `blobs/sha256/${'a'.repeat(64)}` }, 'not that');
    p.finalize();
    const target = await ImageStore.open(join(work, 'bad'));
    const err = await importArchive(target.content, p as unknown as Readable).catch((e: unknown) => e);
    expect((err as { code?: string }).code).to.equal('ERR_DIGEST_MISMATCH');
    expect(await blobsOf(target)).to.deep.equal([]);
    expect(await target.content.listStatuses()).to.deep.equal([]);
  });

  it('save and load verbs', async () => {
    const root = await makeTempDir('images-cli-archive');
    const io = (): { stdout: PassThrough; stderr: PassThrough } => ({ stdout: new PassThrough(), stderr: new PassThrough() });
    const srcRoot = join(root, 'a');
    const dstRoot = join(root, 'b');
    expect(await runCli(['--root', srcRoot, 'pull', pushed.busybox.reference], { ...io(), env: { ...process.env, DOCKER_CONFIG: root } })).to.equal(0);
    const file = join(root, 'bb.tar');
    expect(await runCli(['--root', srcRoot, 'save', '-o', file, '--format', 'docker', pushed.busybox.reference], io())).to.equal(0);
    const out = io();
    let text = '';
    out.stdout.on('data', (c: Buffer) => (text += c.toString()));
    expect(await runCli(['--root', dstRoot, 'load', '-i', file], out)).to.equal(0);
    expect(text).to.equal(`Loaded image: ${registry.host}/busybox:latest\n`);
  });
});
