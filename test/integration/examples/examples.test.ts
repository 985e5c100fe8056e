// The examples are documentation that runs: each one is run here as a person would, against the built package.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..', '..');

async function runExample(file: string): Promise<{ stdout: string; stderr: string }> {
  // Examples import 'containerkit' itself, which resolves to dist/ (built by `npm ci`).
  expect(existsSync(resolve(ROOT, 'dist', 'index.js')), 'dist/ is missing: run npm run build').to.equal(true);
  return run(process.execPath, ['--import', 'tsx', resolve(ROOT, 'examples', file)], { cwd: ROOT, timeout: 120_000 });
}

describe('examples', function () {
  this.timeout(180_000);

  it('docker-flow (npm run demo): image → registry → verified pull → unpack → spec → runc, exit 3', async () => {
    const { stdout } = await runExample('docker-flow.ts');
    expect(stdout).to.match(/sha256:[0-9a-f]{12}… \d+ bytes: digest and size verified while streaming/);
    expect(stdout).to.match(/pushed .*demo\/busybox:latest → sha256:[0-9a-f]{64} \(2 blobs uploaded\)/);
    expect(stdout).to.contain('hello from a container: demo, pid 1, uid 0');
    expect(stdout).to.contain('exit code 3');
    expect(stdout).to.contain('nothing left behind');
  });

  it('runc-direct: a busybox bundle run end to end with OCIRuntime', async () => {
    const { stdout } = await runExample('runc-direct.ts');
    expect(stdout).to.contain('hello from runc');
    expect(stdout).to.contain('containers left: 0');
  });

  it('restart-survival: the container outlives its engine, is reattached and reports its exit', async () => {
    const { stdout } = await runExample('restart-survival.ts');
    expect(stdout).to.contain('still growing');
    expect(stdout).to.match(/reattached: \S+/);
    expect(stdout).to.contain('exit code 137');
    expect(stdout).to.contain('containers left: 0, shim gone');
  });
});
