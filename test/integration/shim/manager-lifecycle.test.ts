import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import type { TaskEvent } from '../../../lib/oci/index.js';
import type { ShimManager } from '../../../lib/shim/index.js';
import { createFifo, openFifo, removeFifo } from '../../../lib/util/fifo.js';
import { isAlive } from '../../fixtures/shims.js';
import { ManagerFixture, readAll, until } from './manager-fixture.js';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('ShimManager: lifecycle against containerd-shim-runc-v2', function () {
  this.timeout(60_000);
  let fx: ManagerFixture;
  let manager: ShimManager;

  beforeEach(async () => {
    fx = await ManagerFixture.create();
    manager = await fx.manager();
  });
  afterEach(async () => {
    const left = await fx.cleanup();
    expect(left, 'left behind').to.deep.equal([]);
  });

  it('keeps stdout and stderr apart, reports the exit code, emits typed events and tears down completely', async () => {
    const events: TaskEvent[] = [];
    manager.on('event', (e) => events.push(e));
    const exits: TaskEvent[] = [];
    manager.on('exit', (e) => exits.push(e));
    const bundle = await fx.bundle('echo1', ['sh', '-c', 'echo hello-out; echo oops-err >&2; exit 3']);
    const c = await manager.start('echo1', bundle);
    expect(c.shimPid).to.be.greaterThan(1);
    expect(isAlive(c.shimPid)).to.equal(true);
    const record = JSON.parse(await readFile(join(fx.stateDir, 'containers', 'echo1', 'shim.json'), 'utf8'));
    expect(record).to.deep.include({ id: 'echo1', bundle, namespace: fx.namespace, shimPid: c.shimPid, address: c.address });
    const out = readAll(c.stdout);
    const err = readAll(c.stderr);
    const pid = await c.start();
    const exit = await c.wait();
    expect(exit.code).to.equal(3);
    expect(exit.exitedAt).to.be.instanceOf(Date);
    expect(await out).to.equal('hello-out\n');
    expect(await err).to.equal('oops-err\n');
    expect((await c.status()).status).to.equal('stopped');
    // runc state lives under the manager's own runc root, with the namespace appended by the shim.
    expect(existsSync(join(fx.stateDir, 'runc', fx.namespace, 'echo1'))).to.equal(true);
    const deleted = await c.remove();
    expect(deleted).to.deep.include({ pid, code: 3 });
    expect(manager.get('echo1')).to.equal(undefined);
    await until(() => events.some((e) => e.type === 'delete'), 5000, 'delete event');
    expect(events.map((e) => e.type)).to.deep.equal(['create', 'start', 'exit', 'delete']);
    expect(exits).to.have.length(1);
    expect(exits[0]).to.deep.include({ containerId: 'echo1', code: 3, pid });
    expect(fx.leftovers()).to.deep.equal([]);
  });

  it('gives the exit codes of several containers and refuses a second start of the same id', async () => {
    const codes = [0, 1, 42];
    const containers = [];
    for (const code of codes) {
      const id = `code${code}`;
      containers.push(await manager.start(id, await fx.bundle(id, ['sh', '-c', `exit ${code}`]), { stdio: { stdout: 'null' } }));
    }
    expect(hasCode(await rejection(manager.start('code0', join(fx.dir, 'bundles', 'code0'))), 'ERR_ALREADY_EXISTS')).to.equal(true);
    expect(hasCode(await rejection(manager.start('other', join(fx.dir, 'bundles', 'code0'))), 'ERR_INVALID_ARGUMENT')).to.equal(true);
    for (const c of containers) await c.start();
    expect((await Promise.all(containers.map((c) => c.wait()))).map((e) => e.code)).to.deep.equal(codes);
    expect(
      manager
        .list()
        .map((c) => c.id)
        .sort(),
    ).to.deep.equal(['code0', 'code1', 'code42']);
    for (const c of containers) await c.remove();
    expect(manager.list()).to.deep.equal([]);
  });

  it('runs an exec in a running container with its exit code and output', async () => {
    const c = await manager.start('exec1', await fx.bundle('exec1', ['sleep', '60']), { stdio: { stdout: 'null' } });
    await c.start();
    const ex = await c.exec('x1', { ...(await fx.process('exec1')), args: ['sh', '-c', 'echo from-exec; exit 5'] });
    const out = readAll(ex.stdout);
    const wait = ex.wait();
    expect(await ex.start()).to.be.greaterThan(1);
    expect((await wait).code).to.equal(5);
    expect(await out).to.equal('from-exec\n');
    await ex.delete();
    expect(existsSync(join(c.dir, 'exec-x1-stdout'))).to.equal(false);
    await c.kill('SIGKILL');
    expect((await c.wait()).code).to.equal(137);
    await c.remove();
  });

  it('carries stdin through a FIFO: cat echoes it and ends at EOF', async () => {
    const c = await manager.start('cat1', await fx.bundle('cat1', ['cat']), { stdio: { stdin: true, stdout: 'pipe', stderr: 'null' } });
    const out = readAll(c.stdout);
    await c.start();
    expect(c.stdin).to.not.equal(undefined);
    c.stdin!.write('line one\n');
    c.stdin!.end('line two\n');
    expect((await c.wait()).code).to.equal(0);
    expect(await out).to.equal('line one\nline two\n');
    await c.remove();
  });

  it('sends output where a { uri } target says: a file:// of the caller (both streams, kept after remove), a FIFO the caller made', async () => {
    const file = join(fx.dir, 'out', 'merged.log');
    const c = await manager.start('uri1', await fx.bundle('uri1', ['sh', '-c', 'echo to-out; echo to-err >&2']), {
      stdio: { stdout: { uri: `file://${file}` } },
    });
    expect(c.stdout).to.equal(undefined);
    expect(c.stderr).to.equal(undefined);
    expect(c.logPath).to.equal(undefined);
    await c.start();
    expect((await c.wait()).code).to.equal(0);
    await c.remove();
    expect((await readFile(file, 'utf8')).split('\n').filter(Boolean).sort()).to.deep.equal(['to-err', 'to-out']);

    const fifo = join(fx.dir, 'my-stdout');
    await createFifo(fifo);
    const out = readAll(await openFifo(fifo, 'r'));
    const f = await manager.start('uri2', await fx.bundle('uri2', ['sh', '-c', 'echo via-fifo; echo dropped >&2']), {
      stdio: { stdout: { uri: fifo }, stderr: 'null' },
    });
    expect(f.stdout).to.equal(undefined);
    await f.start();
    expect((await f.wait()).code).to.equal(0);
    expect(await out).to.equal('via-fifo\n');
    await f.remove();
    expect(existsSync(fifo), "the caller's FIFO stays").to.equal(true);
    await removeFifo(fifo);
  });

  it('kills, pauses and resumes, and refuses to remove a running container without force', async () => {
    // PID 1 of a pid namespace ignores SIGTERM unless it handles it.
    const c = await manager.start('pause1', await fx.bundle('pause1', ['sh', '-c', 'trap "exit 143" TERM; while true; do sleep 0.1; done']), {
      stdio: { stdout: 'null' },
    });
    await c.start();
    expect(hasCode(await rejection(c.remove()), 'ERR_FAILED_PRECONDITION')).to.equal(true);
    await c.pause();
    expect((await c.status()).status).to.equal('paused');
    await c.resume();
    expect((await c.status()).status).to.equal('running');
    expect((await c.pids()).length).to.be.greaterThan(0);
    await c.kill('SIGTERM');
    expect((await c.wait()).code).to.equal(143);
    const forced = await manager.start('force1', await fx.bundle('force1', ['sleep', '60']), { stdio: { stdout: 'null' } });
    await forced.start();
    expect((await forced.remove({ force: true }))?.code).to.equal(137);
    await c.remove();
  });

  it('leaves nothing behind when create fails or the start is aborted', async () => {
    const bad = await fx.bundle('bad1', ['true'], (spec) => {
      spec.process!.cwd = 'relative/cwd';
    });
    const err = await rejection(manager.start('bad1', bad));
    expect(String(err), String(err)).to.match(/cwd/i);
    expect(manager.get('bad1')).to.equal(undefined);
    await until(() => fx.leftovers().length === 0, 5000, `nothing left after a failed create: ${fx.leftovers().join('; ')}`);

    for (const delayMs of [0, 5, 10, 20, 30, 40, 50, 60, 80]) {
      const id = `abort${delayMs}`;
      const bundle = await fx.bundle(id, ['sleep', '60']);
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('stop now')), delayMs);
      try {
        // Done before the abort came: then it is a normal container.
        await (await manager.start(id, bundle, { signal: ac.signal })).remove({ force: true });
      } catch (e) {
        expect((e as Error).message).to.equal('stop now');
      }
      await until(() => fx.leftovers().length === 0, 5000, `nothing left after an abort at ${delayMs} ms: ${fx.leftovers().join('; ')}`);
    }
  });

  it('delivers events through the async iterator until aborted, then ends quietly', async () => {
    const ac = new AbortController();
    const seen: string[] = [];
    const iterate = (async () => {
      try {
        for await (const e of manager.events({ signal: ac.signal })) {
          seen.push(e.type);
          if (e.type === 'exit') ac.abort(new Error('enough'));
        }
      } catch (err) {
        return err;
      }
      return 'ended';
    })();
    const c = await manager.start('iter1', await fx.bundle('iter1', ['true']), { stdio: { stdout: 'null' } });
    await c.start();
    expect(await iterate).to.equal('ended');
    expect(seen).to.deep.equal(['create', 'start', 'exit']);
    // An already-aborted signal: the iteration ends before it yields anything.
    const none: unknown[] = [];
    for await (const e of manager.events({ signal: AbortSignal.abort(new Error('never')) })) none.push(e);
    expect(none).to.deep.equal([]);
    await c.remove();
  });
});

describe('ShimManager: many FIFO-attached containers', function () {
  this.timeout(90_000);
  let fx: ManagerFixture;
  let manager: ShimManager;

  beforeEach(async () => {
    fx = await ManagerFixture.create();
    manager = await fx.manager();
  });
  afterEach(async () => {
    const left = await fx.cleanup();
    expect(left, 'left behind').to.deep.equal([]);
  });

  it('reads five containers at once while a large file is written and read back (no stall)', async () => {
    const { writeFile: write, readFile: read, rm } = await import('node:fs/promises');
    const lines = 20_000;
    const containers = [];
    for (let i = 0; i < 5; i++) {
      const id = `many${i}`;
      // Silent first: five FIFO readers wait on empty pipes while the file I/O runs.
      const args = ['sh', '-c', `sleep 1; i=0; while [ $i -lt ${lines} ]; do echo "c${i} line $i"; i=$((i+1)); done`];
      containers.push(await manager.start(id, await fx.bundle(id, args)));
    }
    const outputs = containers.map((c) => readAll(c.stdout));
    for (const c of containers) await c.start();
    const big = join(fx.dir, 'big.bin');
    const started = Date.now();
    const data = Buffer.alloc(64 * 1024 * 1024, 7);
    await write(big, data);
    expect((await read(big)).length).to.equal(data.length);
    const ioMs = Date.now() - started;
    expect(ioMs, 'file I/O beside five waiting FIFOs').to.be.lessThan(15_000);
    await rm(big);
    const exits = await Promise.all(containers.map((c) => c.wait()));
    expect(exits.map((e) => e.code)).to.deep.equal([0, 0, 0, 0, 0]);
    const texts = await Promise.all(outputs);
    texts.forEach((text, i) => {
      const got = text.split('\n').filter(Boolean);
      expect(got.length, `container ${i}`).to.equal(lines);
      expect(got[lines - 1]).to.equal(`c${i} line ${lines - 1}`);
    });
    for (const c of containers) await c.remove();
  });
});
