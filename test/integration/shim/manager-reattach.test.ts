import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import type { OutputTarget } from '../../../lib/oci/index.js';
import { trackChild } from '../../fixtures/safety-net.js';
import { isAlive } from '../../fixtures/shims.js';
import { ManagerFixture, until } from './manager-fixture.js';

const CHILD = fileURLToPath(new URL('./helpers/engine-child.ts', import.meta.url));
const TICKER = ['sh', '-c', 'i=0; while true; do echo "tick $i"; echo "err $i" >&2; i=$((i+1)); sleep 0.1; done'];

interface ChildReport {
  containers: Array<{ id: string; shimPid: number; logPath: string | undefined }>;
}

/** Runs the child engine on the fixture's root, waits for its ready line, SIGKILLs it. */
async function runAndKillEngine(fx: ManagerFixture, containers: Array<{ id: string; bundle: string; stdout: OutputTarget }>): Promise<ChildReport> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify({ stateDir: fx.stateDir, namespace: fx.namespace, containers })], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const report = await new Promise<ChildReport>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined && out.includes('\n')) resolve(JSON.parse(line) as ChildReport);
    });
    child.once('exit', (code) => reject(new Error(`engine child exited ${code}: ${err}`)));
    setTimeout(() => reject(new Error(`engine child not ready: ${err}`)), 30_000);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  return report;
}

describe('ShimManager: containers outlive the engine', function () {
  this.timeout(90_000);
  let fx: ManagerFixture;

  beforeEach(async () => {
    fx = await ManagerFixture.create();
  });
  afterEach(async () => {
    const left = await fx.cleanup();
    expect(left, 'left behind').to.deep.equal([]);
  });

  it('the seed: an engine is SIGKILLed, logging goes on, a new manager gets 7 with the shim exit time, kills the other (137)', async () => {
    const report = await runAndKillEngine(fx, [
      { id: 'ticker', bundle: await fx.bundle('ticker', TICKER), stdout: 'log' },
      { id: 'exit7', bundle: await fx.bundle('exit7', ['sh', '-c', 'sleep 2; exit 7']), stdout: 'null' },
    ]);
    const ticker = report.containers.find((c) => c.id === 'ticker')!;
    const logPath = ticker.logPath!;
    // No manager runs now: the shims do, and the ticker's log keeps growing.
    for (const c of report.containers) expect(isAlive(c.shimPid), `shim of ${c.id}`).to.equal(true);
    const killedAt = Date.now();
    const sizeAfterKill = statSync(logPath).size;
    await new Promise((r) => setTimeout(r, 2500));
    expect(statSync(logPath).size).to.be.greaterThan(sizeAfterKill);

    const reattachedAt = Date.now();
    const manager = await fx.manager();
    expect(Date.now() - reattachedAt, 'reattach time').to.be.lessThan(3000);
    expect(fx.lastReport).to.deep.equal({ reattached: ['exit7', 'ticker'], dead: [] });
    const exit7 = manager.get('exit7')!;
    const tick = manager.get('ticker')!;
    expect(exit7, 'exit7 reattached').to.not.equal(undefined);
    expect(tick, 'ticker reattached').to.not.equal(undefined);
    expect(
      manager
        .list()
        .map((c) => c.id)
        .sort(),
    ).to.deep.equal(['exit7', 'ticker']);

    const state = await exit7.status();
    expect(state.status).to.equal('stopped');
    const exit = await exit7.wait();
    expect(exit.code).to.equal(7);
    expect(exit.exitedAt!.getTime()).to.be.lessThan(reattachedAt);
    expect(exit.exitedAt!.getTime()).to.be.greaterThan(exit7.createdAt.getTime());
    expect(state.exit?.code).to.equal(7);
    expect(state.exit?.exitedAt?.getTime()).to.equal(exit.exitedAt!.getTime());

    expect((await tick.status()).status).to.equal('running');
    // The logger kept writing while no manager ran: stdout and stderr apart, each line stamped.
    const records = readFileSync(logPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { time: string; stream: string; log: string });
    const late = records.filter((r) => Date.parse(r.time) > killedAt + 500);
    expect(late.filter((r) => r.stream === 'stdout').length, 'stdout lines written with no manager').to.be.greaterThan(5);
    expect(late.filter((r) => r.stream === 'stderr').length, 'stderr lines written with no manager').to.be.greaterThan(5);
    for (const r of records) expect(r.log).to.match(r.stream === 'stdout' ? /^tick \d+\n$/ : /^err \d+\n$/);
    expect(records[0]!.time).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    await tick.kill('SIGKILL');
    expect((await tick.wait()).code).to.equal(137);
    expect((await exit7.remove())?.code).to.equal(7);
    expect((await tick.remove())?.code).to.equal(137);
    await manager.close();
    expect(fx.leftovers()).to.deep.equal([]);
  });

  it('cleans up a container whose shim died: delete subcommand, socket, FIFOs and record, quickly', async () => {
    const first = await fx.manager();
    const c = await first.start('orphan', await fx.bundle('orphan', ['sleep', '600']), { stdio: { stdout: 'pipe', stderr: 'pipe' } });
    await c.start();
    const shimPid = c.shimPid;
    const containerPid = (await c.status()).pid;
    await first.close();
    process.kill(shimPid, 'SIGKILL');
    await until(() => !isAlive(shimPid), 5000, 'shim death');
    expect(isAlive(containerPid), 'container survives its shim').to.equal(true);

    const before = Date.now();
    const second = await fx.manager();
    expect(Date.now() - before, 'init with a dead shim').to.be.lessThan(3000);
    expect(second.list()).to.deep.equal([]);
    expect(fx.lastReport?.reattached).to.deep.equal([]);
    expect(fx.lastReport?.dead.map((d) => [d.id, d.code])).to.deep.equal([['orphan', 137]]);
    await until(() => !isAlive(containerPid), 5000, 'container death');
    expect(fx.leftovers()).to.deep.equal([]);
  });

  it("refuses a second live manager on the same root with events: 'listen'", async () => {
    await fx.manager();
    let err: unknown;
    try {
      await fx.manager({ events: 'listen' });
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'ERR_ALREADY_EXISTS'), String(err)).to.equal(true);
  });
});
