// A container dir shared with a caller (an engine's record beside the shim's): the manager removes only its own
// files, leaves a dir without a shim record alone, starts a container again in it, and keeps logs when told to.

import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseContainerLogLine } from '../../../lib/shim/index.js';
import { ManagerFixture } from './manager-fixture.js';

describe('ShimManager: a container dir shared with the caller', function () {
  this.timeout(60_000);
  let fx: ManagerFixture;

  beforeEach(async () => {
    fx = await ManagerFixture.create();
  });
  afterEach(async () => {
    await rm(join(fx.stateDir, 'containers', 'k1'), { recursive: true, force: true });
    const left = await fx.cleanup();
    expect(left, 'left behind').to.deep.equal([]);
  });

  it("keeps the caller's files and, with keepLogs, the log across runs; a dir with no shim record is not the manager's", async () => {
    const dir = join(fx.stateDir, 'containers', 'k1');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'record.json'), '{}');
    const first = await fx.manager({ keepLogs: true });
    const bundle = await fx.bundle('k1', ['sh', '-c', 'echo run']);
    const c = await first.start('k1', bundle, { stdio: { stdout: 'log' } });
    await c.start();
    expect((await c.wait()).code).to.equal(0);
    await c.remove();
    expect(readdirSync(dir).sort()).to.deep.equal(['container.log', 'record.json']);
    await first.close();

    const second = await fx.manager({ keepLogs: true });
    expect(fx.lastReport).to.deep.equal({ reattached: [], dead: [] });
    expect(readdirSync(dir).sort()).to.deep.equal(['container.log', 'record.json']);
    const again = await second.start('k1', bundle, { stdio: { stdout: 'log' } });
    await again.start();
    await again.wait();
    await again.remove();
    const lines = readFileSync(join(dir, 'container.log'), 'utf8').trim().split('\n').map(parseContainerLogLine);
    expect(
      lines.map((l) => l.log),
      'both runs, appended',
    ).to.deep.equal(['run\n', 'run\n']);
  });

  it('without keepLogs removes the log with the container, and the dir once only its files were in it', async () => {
    const manager = await fx.manager();
    const c = await manager.start('k1', await fx.bundle('k1', ['true']), { stdio: { stdout: 'log' } });
    await c.start();
    await c.wait();
    await c.remove();
    expect(readdirSync(join(fx.stateDir, 'containers'))).to.deep.equal([]);
  });
});
