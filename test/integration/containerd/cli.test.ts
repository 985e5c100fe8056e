// `containerkit containerd VERB` (in-process runCli) against a real containerd, with ctr checking each result.
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { captureCli } from '../../fixtures/cli.js';
import { type ContainerdFixture, startContainerd } from '../../fixtures/containerd.js';
import { type PushedImages, withPushedImages } from '../../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../fixtures/registry.js';
import { makeTempDir } from '../../fixtures/tmp.js';

describe('CLI: containerkit containerd …', function () {
  this.timeout(180_000);
  let fixture: ContainerdFixture;
  let registry: RegistryFixture;
  let images: PushedImages;
  let dir: string;

  const cli = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
    captureCli(['--root', dir, 'containerd', ...argv], {
      ...process.env,
      CONTAINERD_ADDRESS: fixture.address,
      CONTAINERD_NAMESPACE: fixture.namespace,
      ...env,
    });

  before(async () => {
    [fixture, registry] = await Promise.all([startContainerd(), startRegistry()]);
    images = await withPushedImages(registry);
    dir = await makeTempDir('containerd-cli');
  });

  after(async () => {
    await fixture?.stop();
    await registry?.stop();
  });

  it('pulls (plain HTTP to a loopback registry), lists, runs with --rm and passes the exit code and streams through', async () => {
    const version = await cli(['version']);
    expect(version.code, version.err).to.equal(0);
    expect(version.out).to.match(/Version: {2}1\.\d+/);

    const pull = await cli(['pull', images.busybox.reference]);
    expect(pull.code, pull.err).to.equal(0);
    expect(pull.out).to.contain(`Digest: ${images.busybox.digest}`);
    expect(pull.out).to.contain(`Unpacked: ${images.busybox.image.layers[0]!.diffId}`);
    expect((await fixture.ctr(['images', 'ls', '-q'])).split('\n')).to.include(images.busybox.reference);

    const listed = await cli(['images', '--format', 'json']);
    expect(listed.code, listed.err).to.equal(0);
    const rows = listed.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; digest: string; size: number });
    const built = images.busybox.image;
    const manifest = JSON.parse(built.manifest.toString()) as { config: { size: number } };
    const size = built.manifestSize + manifest.config.size + built.layers.reduce((n, l) => n + l.size, 0);
    expect(rows).to.deep.include({
      name: images.busybox.reference,
      digest: images.busybox.digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size,
    });

    const id = `cli-${randomBytes(3).toString('hex')}`;
    // `-c` after REF belongs to the container's command line, not to the CLI.
    const run = await cli(['run', '--rm', '--id', id, images.busybox.reference, 'sh', '-c', 'echo to-out; echo to-err >&2; exit 6']);
    expect(run.code).to.equal(6);
    expect(run.out).to.equal('to-out\n');
    expect(run.err).to.equal('to-err\n');
    expect(await fixture.ctr(['containers', 'ls', '-q'])).to.equal('');
    expect(await fixture.ctr(['snapshots', 'ls'])).to.not.contain(id);
  });

  it('keeps the container without --rm until rm, and lists it', async () => {
    const id = `keep-${randomBytes(3).toString('hex')}`;
    await fixture.ctr(['images', 'pull', '--plain-http', images.layered.reference]);
    const run = await cli(['-n', fixture.namespace, 'run', '--id', id, images.layered.reference, 'cat', '/data/keep.txt']);
    expect(run.code, run.err).to.equal(0);
    expect(run.out.length).to.be.greaterThan(0);
    expect((await fixture.ctr(['containers', 'ls', '-q'])).split('\n')).to.include(id);
    const containers = await cli(['containers', '-q']);
    expect(containers.out.split('\n')).to.include(id);
    expect((await cli(['rm', id])).code).to.equal(0);
    expect((await fixture.ctr(['containers', 'ls', '-q'])).split('\n')).to.not.include(id);
  });

  it('exports and re-imports through containerd, and rmi removes the image', async () => {
    const file = join(dir, 'busybox.tar');
    await fixture.ctr(['images', 'pull', '--plain-http', images.busybox.reference]);
    const exported = await cli(['export', file, images.busybox.reference]);
    expect(exported.code, exported.err).to.equal(0);
    const ns = `cli-import-${randomBytes(3).toString('hex')}`;
    const imported = await cli(['-n', ns, 'import', file]);
    expect(imported.code, imported.err).to.equal(0);
    expect(imported.out).to.contain(images.busybox.reference);
    const out = await fixture.ctr(['--namespace', ns, 'run', '--rm', images.busybox.reference, 'after-import', 'echo', 'imported']);
    expect(out.trim()).to.equal('imported');
    const rmi = await cli(['-n', ns, 'rmi', '--sync', images.busybox.reference]);
    expect(rmi.code, rmi.err).to.equal(0);
    expect(await fixture.ctr(['--namespace', ns, 'images', 'ls', '-q'])).to.equal('');
  });

  it('fails with a one-line reason: unknown verb, unknown image, no socket', async () => {
    const verb = await cli(['frobnicate']);
    expect(verb.code).to.equal(2);
    expect(verb.err).to.match(/containerd needs a verb: .*run.* \(not "frobnicate"\)/);
    const missing = await cli(['run', 'example.test/none:latest', 'true']);
    expect(missing.code).to.equal(1);
    expect(missing.err).to.contain('ERR_CONTAINERD_NOT_FOUND');
    const nosock = await cli(['images'], { CONTAINERD_ADDRESS: join(dir, 'absent.sock') });
    expect(nosock.code).to.equal(1);
    expect(nosock.err).to.contain('ERR_CONTAINERD_UNAVAILABLE').and.to.contain('absent.sock');
  });

  it('import of a missing file and export into a missing directory fail with one coded line, leaving no file', async () => {
    const imported = await cli(['import', join(dir, 'absent.tar')]);
    expect(imported.code).to.equal(1);
    expect(imported.err).to.match(/^containerkit: cannot open .*absent\.tar: no such file or directory \(ERR_NOT_FOUND\)\n$/);
    const exported = await cli(['export', join(dir, 'no', 'such', 'x.tar'), images.busybox.reference]);
    expect(exported.code).to.equal(1);
    expect(exported.err).to.match(/^containerkit: cannot create .*x\.tar: no such file or directory \(ERR_NOT_FOUND\)\n$/);
    // An export that fails after its file was created (an unknown image) leaves no partial archive.
    const partial = join(dir, 'partial.tar');
    const unknown = await cli(['export', partial, 'example.test/none:latest']);
    expect(unknown.code).to.equal(1);
    expect(unknown.err).to.contain('ERR_CONTAINERD_NOT_FOUND');
    expect((await readdir(dir)).filter((f) => f.startsWith('partial.tar'))).to.deep.equal([]);
  });
});
