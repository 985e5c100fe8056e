// Several ShimManagers on one root at once, in several processes (two or more children driven over stdin, plus one
// in this process), against real shims: who serves the events socket, loading containers another manager started,
// removal seen from the other side, exactly-one cleanup of a dead shim, one winner of a start, no log reader.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { TaskEvent } from '../../../lib/oci/index.js';
import { type ReattachReport, ShimManager, type ShimManagerOptions } from '../../../lib/shim/index.js';
import { codedRejection } from '../../fixtures/assert.js';
import { trackChild } from '../../fixtures/safety-net.js';
import { isAlive } from '../../fixtures/shims.js';
import { ManagerFixture, until } from './manager-fixture.js';

const CHILD = fileURLToPath(new URL('./helpers/manager-child.ts', import.meta.url));

/** Which of `pids` have `path` open. */
function holders(path: string, pids: number[]): number[] {
  return pids.filter((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  });
}

interface Answer {
  seq: number;
  ok: boolean;
  result?: unknown;
  code?: string;
  message?: string;
}

/** A ShimManager in a child process (helpers/manager-child.ts). */
class ManagerProcess {
  readonly #answers = new Map<number, (answer: Answer) => void>();
  #seq = 0;
  #stderr = '';
  readonly exited: Promise<unknown>;

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    this.exited = new Promise((resolve) => child.once('exit', resolve));
    child.stderr.on('data', (c: Buffer) => (this.#stderr += c.toString()));
  }

  static async spawn(): Promise<ManagerProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
    trackChild(child);
    const proc = new ManagerProcess(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`manager child not ready: ${proc.#stderr}`)), 30_000);
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        const message = JSON.parse(line) as Answer & { ready?: boolean };
        if (message.ready === true) {
          clearTimeout(timer);
          resolve();
        } else {
          proc.#answers.get(message.seq)?.(message);
        }
      });
      child.once('exit', (code) => reject(new Error(`manager child exited ${code}: ${proc.#stderr}`)));
    });
    return proc;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Runs `op` in the child; resolves with its answer (ok or not). */
  send(op: string, args: Record<string, unknown> = {}): Promise<Answer> {
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      this.child.once('exit', () => reject(new Error(`manager child exited during ${op}: ${this.#stderr}`)));
      this.#answers.set(seq, resolve);
      this.child.stdin.write(`${JSON.stringify({ seq, op, ...args })}\n`);
    });
  }

  /** Runs `op` in the child; resolves with its result, rejects when it failed. */
  async call<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const answer = await this.send(op, args);
    if (!answer.ok) throw Object.assign(new Error(`${op} in child: ${answer.code} ${answer.message}`), { code: answer.code });
    return answer.result as T;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

interface Opened {
  report: ReattachReport;
  servesEvents: boolean;
}

describe('ShimManager: several managers on one root, in several processes', function () {
  this.timeout(120_000);
  let fx: ManagerFixture;
  const children: ManagerProcess[] = [];

  const child = async (): Promise<ManagerProcess> => {
    const proc = await ManagerProcess.spawn();
    children.push(proc);
    return proc;
  };
  const open = (proc: ManagerProcess, extra: Partial<ShimManagerOptions> = {}): Promise<Opened> => proc.call<Opened>('open', { options: fx.options(extra) });

  beforeEach(async () => {
    fx = await ManagerFixture.create();
  });
  afterEach(async () => {
    for (const proc of children.splice(0)) await proc.kill();
    const left = await fx.cleanup();
    expect(left, 'left behind').to.deep.equal([]);
  });

  it("checks options.events, and goes without the socket with 'none'", async () => {
    let refused: unknown;
    await ShimManager.open(fx.options({ events: 'sometimes' as 'none' })).catch((err: unknown) => (refused = err));
    expect(String(refused)).to.match(/options\.events/);
    const quiet = await fx.manager({ events: 'none' });
    expect(quiet.servesEvents).to.equal(false);
    expect(existsSync(fx.eventsSocket), 'no socket made').to.equal(false);
    expect((await fx.manager()).servesEvents, "an 'if-free' manager serves it").to.equal(true);
  });

  it('A starts, B (another process) loads it and gets the real exit code; one in-process learns it through Wait; B removes what this process started', async () => {
    const [a, b] = [await child(), await child()];
    expect((await open(a)).servesEvents, 'the first serves the events socket').to.equal(true);
    expect((await open(b)).servesEvents, 'the second goes without').to.equal(false);
    const here = await fx.manager();
    expect(here.servesEvents).to.equal(false);

    await a.call('start', { id: 'exit7', bundle: await fx.bundle('exit7', ['sh', '-c', 'sleep 1; exit 7']) });
    expect(here.get('exit7'), 'not known before load').to.equal(undefined);
    const exits: TaskEvent[] = [];
    const abort = new AbortController();
    const following = (async () => {
      for await (const event of here.events({ signal: abort.signal })) exits.push(event);
    })();
    expect(await b.call('load', { id: 'exit7' })).to.deep.equal({ found: true });
    const loaded = await here.load('exit7');
    expect(loaded?.id).to.equal('exit7');
    expect(here.get('exit7')).to.equal(loaded);
    // The starter reads the shim's log FIFO; managers that load the container leave it alone.
    expect(holders(join(fx.dir, 'bundles', 'exit7', 'log'), [a.pid, b.pid, process.pid])).to.deep.equal([a.pid]);
    const [inB, inHere] = await Promise.all([b.call<{ code: number }>('wait', { id: 'exit7' }), loaded!.wait()]);
    expect(inB.code, 'B waited on A’s container').to.equal(7);
    expect(inHere.code).to.equal(7);
    await until(() => exits.length > 0, 5000, 'the exit event');
    expect(exits[0]).to.include({ type: 'exit', topic: '/tasks/exit', containerId: 'exit7', code: 7 });

    // Removed by another process: this side's handle fails with NotFound, and its pending wait ends.
    const victim = await here.start('victim', await fx.bundle('victim', ['sleep', '60']), { stdio: { stdout: 'null' } });
    await victim.start();
    const pending = victim.wait().then(
      (exit) => exit.code,
      (err: { code?: string }) => err.code,
    );
    expect(await b.call('remove', { id: 'victim', force: true })).to.deep.equal({ code: 137 });
    expect(await pending, 'the pending wait ends').to.be.oneOf([137, 'ERR_NOT_FOUND']);
    for (const call of [() => victim.status(), () => victim.kill('SIGTERM'), () => victim.pids()]) {
      expect((await codedRejection(call())).code).to.equal('ERR_NOT_FOUND');
    }
    expect(here.get('victim'), 'forgotten').to.equal(undefined);
    expect(await here.load('victim')).to.equal(undefined);
    expect(await victim.remove(), 'removing it again is a no-op').to.equal(undefined);

    // A held exit7 since its start; once this process removed it, A's view of the root is empty.
    await loaded!.remove();
    expect(await a.call('loadAll')).to.deep.equal({ ids: [], report: { reattached: [], dead: [] } });
    expect(await b.call('load', { id: 'exit7' })).to.deep.equal({ found: false });
    abort.abort();
    await following;
  });

  it('the events socket: a live server keeps it, the next manager after its death takes it over', async () => {
    const a = await child();
    expect((await open(a)).servesEvents).to.equal(true);
    expect((await codedRejection(fx.manager({ events: 'listen' }))).code, "'listen' while A lives").to.equal('ERR_ALREADY_EXISTS');
    const b = await child();
    expect((await open(b)).servesEvents).to.equal(false);
    await a.kill();
    const c = await child();
    expect((await open(c)).servesEvents, 'C takes over the dead socket').to.equal(true);
    expect((await open(await child(), { events: 'none' })).servesEvents).to.equal(false);
    await c.call('close');
    // Closed cleanly: the dead socket file stays, and the next 'listen' manager replaces it.
    const here = await fx.manager({ events: 'listen' });
    expect(here.servesEvents).to.equal(true);
    const events: TaskEvent[] = [];
    here.on('event', (e) => events.push(e));
    // A container started by B (which has no socket) publishes to the socket's path, so this server gets its events.
    await b.call('start', { id: 'pub', bundle: await fx.bundle('pub', ['true']) });
    expect((await b.call<{ code: number }>('wait', { id: 'pub' })).code).to.equal(0);
    await until(() => events.some((e) => e.type === 'exit' && e.containerId === 'pub'), 5000, 'the shim’s exit event');
    expect(events.map((e) => e.type)).to.include.members(['create', 'start', 'exit']);
    await b.call('remove', { id: 'pub' });
  });

  it('two managers reattaching at once find dead shims: each is cleaned up exactly once', async () => {
    const ids = ['dead1', 'dead2', 'dead3'];
    const first = await fx.manager();
    const pids: number[] = [];
    for (const id of ids) {
      const c = await first.start(id, await fx.bundle(id, ['sleep', '60']), { stdio: { stdout: 'null' } });
      pids.push(await c.start());
      process.kill(c.shimPid, 'SIGKILL');
      await until(() => !isAlive(c.shimPid), 5000, 'shim death');
    }
    await first.close();
    const [x, y] = [await child(), await child()];
    const [rx, ry] = await Promise.all([open(x, { events: 'none' }), open(y, { events: 'none' })]);
    const cleaned = [...rx.report.dead, ...ry.report.dead].map((d) => d.id).sort();
    expect(cleaned, `x cleaned ${rx.report.dead.map((d) => d.id)}, y ${ry.report.dead.map((d) => d.id)}`).to.deep.equal(ids);
    expect([...rx.report.reattached, ...ry.report.reattached]).to.deep.equal([]);
    for (const pid of pids) await until(() => !isAlive(pid), 5000, 'container death');
  });

  it('two managers starting one id at once: one wins, the other gets ERR_ALREADY_EXISTS', async () => {
    const [x, y] = [await child(), await child()];
    await Promise.all([open(x), open(y)]);
    const bundle = await fx.bundle('same', ['sleep', '60']);
    const answers = await Promise.all([x.send('start', { id: 'same', bundle }), y.send('start', { id: 'same', bundle })]);
    expect(answers.map((a) => a.ok).sort(), JSON.stringify(answers)).to.deep.equal([false, true]);
    expect(answers.find((a) => !a.ok)?.code).to.equal('ERR_ALREADY_EXISTS');
    const winner = answers[0]!.ok ? x : y;
    expect(await winner.call<{ status: string }>('status', { id: 'same' })).to.include({ status: 'running' });
    const here = await fx.manager({ events: 'none' });
    expect((await here.loadAll()).containers.map((c) => c.id)).to.deep.equal(['same']);
    await here.get('same')!.remove({ force: true });
  });

  it('a shim whose log FIFO has no reader gets EPIPE on its log lines and keeps running and answering', async () => {
    const starter = await child();
    await open(starter);
    const { shimPid } = await starter.call<{ shimPid: number }>('start', { id: 'chatty', bundle: await fx.bundle('chatty', ['sleep', '60']) });
    // The starter read the FIFO; it dies, and with it the events server: the shim's publishing fails, and it logs so.
    await starter.kill();
    const here = await fx.manager({ events: 'none' });
    const chatty = (await here.load('chatty'))!;
    const fifo = join(fx.dir, 'bundles', 'chatty', 'log');
    expect(holders(fifo, [process.pid]), 'nobody reads the log FIFO').to.deep.equal([]);
    const trace = join(fx.dir, 'strace.out');
    const strace = spawn('strace', ['-f', '-qq', '-s', '512', '-e', 'trace=write', '-o', trace, '-p', String(shimPid)], { stdio: 'ignore' });
    trackChild(strace);
    await new Promise((r) => setTimeout(r, 500)); // attached
    const proc = await fx.process('chatty');
    for (let i = 0; i < 3; i++) {
      const exec = await chatty.exec(`e${i}`, { ...proc, args: ['true'] }, { stdio: { stdout: 'null' } });
      await exec.start();
      expect((await exec.wait()).code).to.equal(0);
      await exec.delete();
    }
    await until(() => /EPIPE/.test(readFileSync(trace, 'utf8')), 10_000, 'a log write failing with EPIPE');
    strace.kill('SIGINT');
    await new Promise((resolve) => strace.once('exit', resolve));
    const failed = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => l.includes('EPIPE'));
    expect(
      failed.some((l) => /level=error/.test(l)),
      failed.join('\n'),
    ).to.equal(true);
    expect(isAlive(shimPid), 'the shim survives').to.equal(true);
    expect((await chatty.status()).status).to.equal('running');
    const exec = await chatty.exec('after', { ...proc, args: ['true'] }, { stdio: { stdout: 'null' } });
    await exec.start();
    expect((await exec.wait()).code).to.equal(0);
    await exec.delete();
    // The next manager that serves the events socket reads the FIFO of the shims it reattaches.
    const owner = await fx.manager();
    expect(owner.servesEvents).to.equal(true);
    expect(holders(fifo, [process.pid])).to.deep.equal([process.pid]);
    await chatty.remove({ force: true });
  });
});
