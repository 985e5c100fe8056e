import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { type ShimRecord, shimSocketPath } from '../../../lib/shim/index.js';
import { readBootId, readProcessIdentity } from '../../../lib/util/index.js';
import { trackChild } from '../../fixtures/safety-net.js';
import { isAlive } from '../../fixtures/shims.js';
import { ManagerFixture } from './manager-fixture.js';

/**
 * How `child` ended once this test SIGTERMs it: 'SIGTERM' if it was still alive, 'SIGKILL' if someone killed it
 * first (a SIGKILL sent earlier always wins over a later SIGTERM), so no waiting on timing is needed.
 */
async function endOf(child: ChildProcess): Promise<NodeJS.Signals | null> {
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit');
  try {
    process.kill(child.pid!, 'SIGTERM');
  } catch {
    // gone already
  }
  await exited;
  return child.signalCode;
}

describe('ShimManager: never signals a pid that is not its shim', function () {
  this.timeout(120_000);
  let fx: ManagerFixture;
  let bystander: ChildProcess | undefined;

  beforeEach(async () => {
    fx = await ManagerFixture.create();
    // An unrelated live process, standing for whoever got the shim's pid after a reboot or pid reuse.
    bystander = spawn('sleep', ['600'], { stdio: 'ignore' });
    trackChild(bystander);
    await once(bystander, 'spawn');
  });
  afterEach(async () => {
    if (bystander !== undefined && bystander.exitCode === null && bystander.signalCode === null) await endOf(bystander);
    const left = await fx.cleanup();
    expect(left, 'left behind').to.deep.equal([]);
  });

  /** A record, as a manager that crashed would leave it, of a container whose shim is gone, naming `pid`. */
  async function deadRecord(id: string, pid: number, identity: ShimRecord['shimIdentity']): Promise<void> {
    const bundle = await fx.bundle(id, ['true']);
    const dir = join(fx.stateDir, 'containers', id);
    await mkdir(dir, { recursive: true });
    const record: ShimRecord = {
      version: 1,
      id,
      namespace: fx.namespace,
      bundle,
      // Where the shim listened: no socket any more, so it "does not answer".
      address: `unix://${shimSocketPath(fx.eventsSocket, fx.namespace, id)}`,
      shimPid: pid,
      ...(identity === undefined ? {} : { shimIdentity: identity }),
      shimBinary: 'containerd-shim-runc-v2',
      runcRoot: join(fx.stateDir, 'runc'),
      stdio: { terminal: false, stdoutMode: 'null', stderrMode: 'null' },
      createdAt: new Date().toISOString(),
    };
    await writeFile(join(dir, 'shim.json'), JSON.stringify(record));
  }

  const cases: Array<{ title: string; identity: (start: number, boot: string | undefined) => ShimRecord['shimIdentity'] }> = [
    { title: 'a record of an older version (no identity): unverifiable', identity: () => undefined },
    { title: 'another start time (the pid was reused)', identity: (start, boot) => ({ start: start + 1, ...(boot === undefined ? {} : { boot }) }) },
    { title: 'another boot (the machine rebooted)', identity: (start) => ({ start, boot: '00000000-0000-4000-8000-000000000000' }) },
  ];
  for (const c of cases) {
    it(`at start-up, leaves alone a live process under the recorded shim pid: ${c.title}; reports the shim gone`, async () => {
      const pid = bystander!.pid!;
      const start = (await readProcessIdentity(pid))!.start;
      await deadRecord('gone1', pid, c.identity(start, await readBootId()));
      await fx.manager();
      expect(fx.lastReport?.reattached).to.deep.equal([]);
      expect(fx.lastReport?.dead.map((d) => d.id)).to.deep.equal(['gone1']);
      expect(existsSync(join(fx.stateDir, 'containers', 'gone1')), 'record removed').to.equal(false);
      expect(await endOf(bystander!), 'the bystander was not killed').to.equal('SIGTERM');
    });
  }

  it('does kill a hung shim whose recorded identity still matches (the check is not a blanket no-op)', async () => {
    const pid = bystander!.pid!;
    const start = (await readProcessIdentity(pid))!.start;
    const boot = await readBootId();
    await deadRecord('hung1', pid, { start, ...(boot === undefined ? {} : { boot }) });
    await fx.manager();
    expect(fx.lastReport?.dead.map((d) => d.id)).to.deep.equal(['hung1']);
    expect(await endOf(bystander!)).to.equal('SIGKILL');
  });

  it('records the shim identity at start, and adds it to an older record when it reattaches', async () => {
    const manager = await fx.manager();
    const bundle = await fx.bundle('stamped', ['sleep', '30']);
    const c = await manager.start('stamped', bundle, { stdio: { stdout: 'null' } });
    const recordPath = join(fx.stateDir, 'containers', 'stamped', 'shim.json');
    const written = JSON.parse(await readFile(recordPath, 'utf8')) as ShimRecord;
    const boot = await readBootId();
    const truth = { start: (await readProcessIdentity(c.shimPid))!.start, ...(boot === undefined ? {} : { boot }) };
    expect(written.shimIdentity).to.deep.equal(truth);
    await manager.close();

    // As an older version wrote it: no identity.
    delete written.shimIdentity;
    await writeFile(recordPath, JSON.stringify(written));
    const again = await fx.manager();
    expect(fx.lastReport?.reattached).to.deep.equal(['stamped']);
    expect((JSON.parse(await readFile(recordPath, 'utf8')) as ShimRecord).shimIdentity).to.deep.equal(truth);
    await again.get('stamped')!.remove({ force: true });
    expect(isAlive(c.shimPid)).to.equal(false);
  });
});
