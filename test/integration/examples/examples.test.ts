// The examples are documentation that runs: each one is run here as a person would, against the built package.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
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

  it('docker-flow: image → registry → verified pull → unpack → spec → runc, exit 3', async () => {
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

  it('hello-world (npm run demo): docker run hello-world through the Engine, each step printed, nothing left', async () => {
    const { stdout } = await runExample('hello-world.ts');
    const plain = stdout.replace(/\x1b\[[0-9;]*m/g, '');
    expect(plain).to.match(/\[pull\] manifest sha256:[0-9a-f]{12}… \d+ bytes, digest verified/);
    expect(plain).to.match(/\[pull\] layer sha256:[0-9a-f]{12}… \d+ bytes, digest verified/);
    expect(plain).to.match(/\[unpack\] .*hello-world:latest: layers applied into snapshots, top chain ID sha256:[0-9a-f]{12}…/);
    expect(plain).to.match(/\[spec\] container hello \([0-9a-f]{12}\): .* network none/);
    expect(plain).to.match(/\[shim\] \S*containerd-shim-runc-v2 pid \d+, parent \d+/);
    expect(plain).to.match(/\[runc\] runc created the container and exited/);
    expect(plain).to.contain('Hello from containerkit!');
    expect(plain).to.contain('[exit] exit code 0');
    expect(plain).to.contain('[done] nothing left behind');
  });

  it('process-tree: engine, shim and container where they really are; the container outlives a SIGKILLed engine', async () => {
    const { stdout } = await runExample('process-tree.ts');
    expect(stdout).to.match(/node .*\[pid \d+, parent \d+\] {2}← the engine/);
    expect(stdout).to.match(/containerd-shim-runc-v2 .*\[pid (\d+), parent \d+\] {2}← one shim per container/);
    expect(stdout).to.match(/└─ sh -c sleep 1000 & wait {2}\[pid \d+, parent \d+\] {2}← the container's init/);
    expect(stdout).to.contain('runc is not in the tree');
    expect(stdout).to.match(/After SIGKILL of the engine \(pid \d+, gone\)/);
    expect(stdout.split('After SIGKILL')[1]).to.match(/└─ sleep 1000/);
    expect(stdout).to.match(/A new Engine on the same root reattached: running \["[0-9a-f]{12}"\]/);
    expect(stdout).to.contain('inspect: running');
    expect(stdout).to.contain('shim left: none');
  });

  it('test-harness: a mocha suite embedding an Engine, a service container per test, nothing left', async () => {
    const { stdout } = await run(process.execPath, [resolve(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js'), resolve(ROOT, 'examples', 'test-harness.ts')], {
      cwd: ROOT,
      timeout: 120_000,
    });
    expect(stdout).to.contain('3 passing');
    expect(stdout).to.not.match(/failing/);
  });
});
