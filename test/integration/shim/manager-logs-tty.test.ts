import { existsSync, readFileSync, statSync } from 'node:fs';
import { expect } from 'chai';
import type { TaskEvent } from '../../../lib/oci/index.js';
import type { ShimManager } from '../../../lib/shim/index.js';
import { ManagerFixture, readAll, until } from './manager-fixture.js';

interface LogRecord {
  time: string;
  stream: string;
  log: string;
}

const parse = (path: string): LogRecord[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogRecord);

const rssKiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

describe('ShimManager: the logger, TTY and OOM', function () {
  this.timeout(90_000);
  let fx: ManagerFixture;
  let manager: ShimManager;

  beforeEach(async () => {
    fx = await ManagerFixture.create();
    manager = await fx.manager({ logMaxBytes: 8192 });
  });
  afterEach(async () => {
    const left = await fx.cleanup();
    expect(left, 'left behind').to.deep.equal([]);
  });

  it("'log' output: JSON lines with stream and nanosecond time, quotes escaped, rotation by size", async () => {
    const script = 'i=0; while [ $i -lt 150 ]; do echo "out \\"$i\\""; echo "err $i" >&2; i=$((i+1)); done; printf "no newline"';
    const c = await manager.start('logs1', await fx.bundle('logs1', ['sh', '-c', script]), { stdio: { stdout: 'log' } });
    await c.start();
    expect((await c.wait()).code).to.equal(0);
    // The shim holds the pipes' write ends until Delete: only then does the logger see EOF and write the
    // unterminated last line.
    expect((await c.delete()).code).to.equal(0);
    const path = c.logPath!;
    await until(() => existsSync(path) && readFileSync(path, 'utf8').includes('no newline'), 5000, 'the last record');
    expect(existsSync(`${path}.1`), 'rotated file').to.equal(true);
    expect(statSync(`${path}.1`).size).to.be.at.most(8192);
    expect(statSync(path).size).to.be.at.most(8192);
    const records = [...parse(`${path}.1`), ...parse(path)];
    const outs = records.filter((r) => r.stream === 'stdout');
    const errs = records.filter((r) => r.stream === 'stderr');
    expect(outs.at(-1)).to.deep.include({ log: 'no newline' });
    expect(outs.at(-2)).to.deep.include({ log: 'out "149"\n' });
    expect(errs.at(-1)).to.deep.include({ log: 'err 149\n' });
    for (const r of records) expect(r.time).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const times = records.map((r) => r.time);
    expect(times, 'records in time order').to.deep.equal([...times].sort());
    await c.remove();
    expect(existsSync(path)).to.equal(false);
  });

  it('costs one small logger process per container beside its shim (RSS measured)', async () => {
    const c = await manager.start('rss1', await fx.bundle('rss1', ['sh', '-c', 'while true; do echo x; sleep 0.2; done']), { stdio: { stdout: 'log' } });
    await c.start();
    await until(() => fx.loggerPids().length === 1, 5000, 'the logger');
    const [loggerPid] = fx.loggerPids();
    const logger = rssKiB(loggerPid!);
    const shim = rssKiB(c.shimPid);
    console.log(`      RESULT shim-logger-rss: logger ${logger} KiB, shim ${shim} KiB per container`);
    expect(logger).to.be.lessThan(4096);
    await c.kill('SIGKILL');
    await c.wait();
    await c.remove();
    await until(() => fx.loggerPids().length === 0, 15_000, 'the logger to exit');
  });

  it('runs a TTY process whose size, set through resize, stty sees', async () => {
    const bundle = await fx.bundle('tty1', ['sh', '-c', 'sleep 0.5; stty size'], (spec) => {
      spec.process!.terminal = true;
    });
    const c = await manager.start('tty1', bundle, { stdio: { terminal: true } });
    expect(c.stderr).to.equal(undefined);
    const out = readAll(c.stdout);
    await c.start();
    await c.resize({ width: 123, height: 45 });
    expect((await c.wait()).code).to.equal(0);
    expect((await out).trim()).to.equal('45 123');
    await c.remove();
  });

  it('reports an OOM event for a container over its memory limit', async () => {
    const oom: TaskEvent[] = [];
    manager.on('oom', (e) => oom.push(e));
    const bundle = await fx.bundle('oom1', ['sh', '-c', 'x=$(head -c 67108864 /dev/zero | tr "\\0" a); echo survived'], (spec) => {
      spec.linux!.resources = { ...spec.linux!.resources, memory: { limit: 8 * 1024 * 1024, swap: 8 * 1024 * 1024 } };
    });
    const c = await manager.start('oom1', bundle, { stdio: { stdout: 'null' } });
    await c.start();
    const exit = await c.wait();
    expect(exit.code).to.not.equal(0);
    await until(() => oom.length > 0, 10_000, 'an oom event');
    expect(oom[0]).to.deep.include({ type: 'oom', containerId: 'oom1' });
    await c.remove();
  });
});
