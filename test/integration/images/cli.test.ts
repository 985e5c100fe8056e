// The image verbs of the containerkit CLI (in-process runCli) against the docker-registry fixture.

import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { runCli } from '../../../lib/cli/main.js';
import { runTool } from '../../../lib/util/exec.js';
import { captureCli } from '../../fixtures/cli.js';
import { type PushedImages, withPushedImages } from '../../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../fixtures/registry.js';
import { makeTempDir } from '../../fixtures/tmp.js';
import { compareTrees } from '../../fixtures/tree-compare.js';

const cli = (root: string, ...argv: string[]) => captureCli(['--root', root, ...argv], { ...process.env, DOCKER_CONFIG: root });

describe('images: CLI verbs', function () {
  this.timeout(120_000);
  let registry: RegistryFixture;
  let pushed: PushedImages;
  let root: string;

  before(async () => {
    registry = await startRegistry();
    pushed = await withPushedImages(registry);
    root = await makeTempDir('images-cli');
  });
  after(async () => {
    await registry?.stop();
  });

  it('pull prints docker-style lines, images lists, inspect, tag, verify, rmi and gc work', async () => {
    const pull = await cli(root, 'pull', pushed.layered.reference);
    expect(pull.code, pull.err).to.equal(0);
    const lines = pull.out.trim().split('\n');
    expect(lines[0]).to.equal(`latest: Pulling from ${registry.host}/layered`);
    expect(lines.filter((l) => /^[0-9a-f]{12}: Pull complete$/.test(l))).to.have.length(3);
    expect(lines).to.include(`Digest: ${pushed.layered.digest}`);
    expect(lines).to.include(`Status: Downloaded newer image for ${registry.host}/layered:latest`);
    const again = await cli(root, 'pull', pushed.layered.reference);
    expect(again.out).to.include('Status: Image is up to date for');
    expect(again.out.match(/Already exists/g)).to.have.length(3);

    const images = await cli(root, 'images');
    expect(images.out.split('\n')[0]).to.match(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(images.out).to.include(`${registry.host}/layered`);
    const json = await cli(root, 'images', '--format', 'json');
    expect(JSON.parse(json.out.trim())).to.include({ Repository: `${registry.host}/layered`, Tag: 'latest' });
    const ids = await cli(root, 'images', '-q');
    expect(ids.out.trim()).to.match(/^[0-9a-f]{12}$/);

    const inspect = await cli(root, 'image', 'inspect', pushed.layered.reference);
    const [doc] = JSON.parse(inspect.out) as Array<{ RootFS: { Layers: string[] }; RepoTags: string[] }>;
    expect(doc!.RootFS.Layers).to.have.length(3);
    expect(doc!.RepoTags).to.deep.equal([`${registry.host}/layered:latest`]);

    expect((await cli(root, 'tag', pushed.layered.reference, 'example.com/x:1')).code).to.equal(0);
    expect((await cli(root, 'verify')).code).to.equal(0);
    const rmi = await cli(root, 'rmi', pushed.layered.reference);
    expect(rmi.out).to.not.include('Deleted:'); // still named example.com/x:1
    const rmi2 = await cli(root, 'rmi', 'example.com/x:1');
    expect(rmi2.out.match(/Deleted:/g)).to.have.length(5);
    const gc = await cli(root, 'gc');
    expect(gc.code).to.equal(0);
  });

  it('pull of a missing image exits non-zero and leaves the store verifiable', async () => {
    const res = await cli(root, 'pull', `${registry.host}/nothing:here`);
    expect(res.code).to.not.equal(0);
    expect((await cli(root, 'verify')).code).to.equal(0);
  });
  it('pull draws per-layer progress lines in place on a TTY', async () => {
    const stdout = Object.assign(new PassThrough(), { isTTY: true });
    let out = '';
    stdout.on('data', (c: Buffer) => (out += c.toString()));
    const ttyRoot = await makeTempDir('images-cli-tty');
    const code = await runCli(['--root', ttyRoot, 'pull', pushed.busybox.reference], {
      stdout,
      stderr: new PassThrough(),
      env: { ...process.env, DOCKER_CONFIG: ttyRoot },
    });
    expect(code).to.equal(0);
    expect(out).to.include('\x1b[2K');
    expect(out).to.match(/[0-9a-f]{12}: Pull complete\n/);
    expect(out).to.include(`Digest: ${pushed.busybox.digest}`);
  });

  it('unpack REF DEST gives the tree umoci raw unpack gives, and refuses a non-empty DEST', async () => {
    const ref = pushed.layered.reference;
    expect((await cli(root, 'pull', ref)).code).to.equal(0);
    const work = await makeTempDir('images-cli-unpack');
    const dest = join(work, 'rootfs');
    const done = await cli(root, 'unpack', ref, dest);
    expect(done.code, done.err).to.equal(0);
    expect(done.out).to.equal(`${ref}: 3 layers unpacked into ${dest}\n`);
    const byUmoci = join(work, 'umoci');
    await runTool('umoci', ['raw', 'unpack', '--image', `${pushed.layered.image.layoutDir}:${pushed.layered.image.tag}`, byUmoci]);
    expect(await compareTrees(byUmoci, dest)).to.deep.equal([]);
    const again = await cli(root, 'unpack', ref, dest);
    expect(again.code).to.equal(1);
    expect(again.err).to.match(/is not empty \(ERR_ALREADY_EXISTS\)/);
  });
});
