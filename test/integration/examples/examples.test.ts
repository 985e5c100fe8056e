// The examples are documentation that runs: each one is run here as a person would, against the built package.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { startContainerd } from '../../fixtures/containerd.js';
import { withPushedImages } from '../../fixtures/images.js';
import { startRegistry } from '../../fixtures/registry.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..', '..');

async function runExample(file: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<{ stdout: string; stderr: string }> {
  // Examples import 'containerkit' itself, which resolves to dist/ (built by `npm ci`).
  expect(existsSync(resolve(ROOT, 'dist', 'index.js')), 'dist/ is missing: run npm run build').to.equal(true);
  return run(process.execPath, ['--import', 'tsx', resolve(ROOT, 'examples', file), ...args], { cwd: ROOT, env, timeout: 120_000 });
}

describe('examples', function () {
  this.timeout(180_000);

  it('docker-flow (npm run demo): image → registry → verified pull → unpack → spec → runc, exit 3', async () => {
    const { stdout } = await runExample('docker-flow.ts');
    expect(stdout).to.match(/manifest sha256:[0-9a-f]{64}, 1 layer, diff_id sha256:[0-9a-f]{12}…/); // built by buildImage
    expect(stdout).to.match(/sha256:[0-9a-f]{12}… \d+ bytes: digest and size verified while streaming/);
    expect(stdout).to.match(/pushed .*demo\/busybox:latest → sha256:[0-9a-f]{64}\n/);
    expect(stdout).to.contain('hello from a container: demo, pid 1, uid 0');
    expect(stdout).to.contain('exit code 3');
    expect(stdout).to.contain('nothing left behind');
  });

  it('runc-direct: a busybox bundle run end to end with OCIRuntime', async () => {
    const { stdout } = await runExample('runc-direct.ts');
    expect(stdout).to.contain('hello from runc');
    expect(stdout).to.contain('containers left: 0');
  });

  it('containerd-flow IMAGE: pull → create → start → wait against a real containerd, then ctr lists and runs the image', async () => {
    const [containerd, registry] = await Promise.all([startContainerd(), startRegistry()]);
    try {
      const images = await withPushedImages(registry);
      const env = { ...process.env, CONTAINERD_ADDRESS: containerd.address, CONTAINERD_NAMESPACE: containerd.namespace };
      const { stdout } = await runExample('containerd-flow.ts', [images.busybox.reference, 'sh', '-c', 'echo hello from $(hostname); exit 3'], env);
      expect(stdout).to.contain(`${images.busybox.reference} → ${images.busybox.digest}`);
      expect(stdout).to.match(/stdout: hello from containerd-flow-[0-9a-f]{6}/);
      expect(stdout).to.contain('exit code 3');
      expect(stdout).to.match(/containers left with id \S+: 0/);
      expect((await containerd.ctr(['images', 'ls', '-q'])).split('\n')).to.include(images.busybox.reference);
      expect(await containerd.ctr(['containers', 'ls', '-q'])).to.equal('');
      const out = await containerd.ctr(['run', '--rm', images.busybox.reference, 'after-flow', 'echo', 'run by ctr']);
      expect(out.trim()).to.equal('run by ctr');
    } finally {
      await containerd.stop();
      await registry.stop();
    }
  });

  it('restart-survival: the container outlives its engine, is reattached and reports its exit', async () => {
    const { stdout } = await runExample('restart-survival.ts');
    expect(stdout).to.contain('still growing');
    expect(stdout).to.match(/reattached: \S+/);
    expect(stdout).to.contain('exit code 137');
    expect(stdout).to.contain('containers left: 0, shim gone');
  });
});
