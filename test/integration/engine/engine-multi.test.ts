// Several Engines open on one root at the same time, each in its own process (as CLI calls are): concurrent runs
// and removes, a name two processes want, an exit one process watches and another waits for, a container stopped
// by a process that did not start it, and `logs -f` from another process. Real shims, busybox from a real registry.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { Engine } from '../../../lib/index.js';
import { RegistryClient } from '../../../lib/registry/index.js';
import { mountsUnder, unmount } from '../../../lib/util/mount.js';
import { engineLeftovers } from '../../fixtures/engine-leftovers.js';
import { useRegistryWithImages } from '../../fixtures/images.js';
import { trackChild, trackCleanup } from '../../fixtures/safety-net.js';
import { findShimPids, isAlive, killAll, processTree } from '../../fixtures/shims.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const REPO = join(import.meta.dirname, '..', '..', '..');
const CHILD = join(REPO, 'test', 'fixtures', 'engine-multi-child.ts');

const until = async (check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

interface Reply {
  seq: number;
  result?: unknown;
  error?: { code?: string; message: string };
}

/** An Engine in a child process (test/fixtures/engine-multi-child.ts), driven by JSON commands. */
class EngineProcess {
  readonly crashes: string[] = [];
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, (reply: Reply) => void>();
  readonly #exited: Promise<void>;
  #seq = 0;
  ready: Promise<void>;

  constructor(root: string, namespace: string) {
    this.#child = spawn(process.execPath, ['--import', 'tsx', CHILD, root, namespace], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] });
    trackChild(this.#child);
    this.#exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      createInterface({ input: this.#child.stdout! }).on('line', (line) => {
        const message = JSON.parse(line) as Reply & { ready?: boolean; crash?: string };
        if (message.ready === true) resolve();
        else if (message.crash !== undefined) this.crashes.push(message.crash);
        else this.#pending.get(message.seq)?.(message);
      });
      void this.#exited.then(() => reject(new Error('the engine process exited before it was ready')));
    });
  }

  /** Sends a command; resolves with its reply. */
  send(command: Record<string, unknown>): Promise<Reply> {
    const seq = ++this.#seq;
    return new Promise((resolve) => {
      this.#pending.set(seq, resolve);
      this.#child.stdin!.write(`${JSON.stringify({ ...command, seq })}\n`);
    });
  }

  /** Sends a command; resolves with its result, rejects with its error. */
  async call<T>(command: Record<string, unknown>): Promise<T> {
    const reply = await this.send(command);
    if (reply.error !== undefined) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
    return reply.result as T;
  }

  /** Closes its Engine and waits for the process to end; asserts nothing reached the process level. */
  async close(): Promise<void> {
    if (this.#child.exitCode === null) {
      await this.call({ op: 'close' });
      await this.#exited;
    }
    expect(this.crashes, 'unhandled rejections / uncaught exceptions in the engine process').to.deep.equal([]);
  }

  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
  }
}

describe('engine: several Engines open on one root at once (real shims, real registry)', function () {
  this.timeout(180_000);
  const served = useRegistryWithImages();
  let client: RegistryClient;
  let root: string;
  let namespace: string;
  let engine: Engine;
  let untrack: (() => void) | undefined;
  let processes: EngineProcess[] = [];
  const crashes: unknown[] = [];
  const onCrash = (err: unknown): void => {
    crashes.push(err);
  };
  // Node's leak warning (e.g. more than 10 listeners on one AbortSignal) is noise a CLI user would see.
  const onWarning = (warning: Error): void => {
    if (warning.name === 'MaxListenersExceededWarning') crashes.push(warning);
  };

  const killEverything = (): void => killAll(processTree(findShimPids(join(root, 'events.sock'))));
  const image = (): string => served.images.busybox.reference;
  /** `count` engine processes on the root, each opened (concurrently). */
  const spawnEngines = async (count: number): Promise<EngineProcess[]> => {
    const started = Array.from({ length: count }, () => new EngineProcess(root, namespace));
    processes.push(...started);
    await Promise.all(started.map((p) => p.ready));
    return started;
  };

  before(() => {
    client = new RegistryClient({ retry: { baseDelayMs: 1 } });
  });
  beforeEach(async () => {
    root = await makeTempDir('engine-multi');
    namespace = `ck-mul-${randomBytes(4).toString('hex')}`;
    untrack = trackCleanup(killEverything);
    crashes.length = 0;
    process.on('unhandledRejection', onCrash);
    process.on('warning', onWarning);
    engine = await Engine.open({ root, registry: client, snapshotter: 'overlay', namespace, callTimeoutMs: 20_000 });
    await engine.pull(image());
  });
  afterEach(async () => {
    for (const p of processes) p.kill();
    processes = [];
    await engine?.close();
    killEverything();
    for (const point of await mountsUnder(root)) await unmount(point).catch(() => undefined);
    await removeTempDir(root);
    untrack?.();
    process.off('unhandledRejection', onCrash);
    process.off('warning', onWarning);
    expect(crashes, 'unhandled rejections in the test process').to.deep.equal([]);
  });
  after(() => client?.close());

  it('20 containers run by 4 processes at once, listed by another engine, removed by 4 processes at once: nothing left', async () => {
    const engines = await spawnEngines(4);
    // Meanwhile Engines keep opening (each one's recovery sees creates, starts and removes half done) and listing.
    let busy = true;
    const opened: Array<{ listed: number; discarded: string[] }> = [];
    const opener = (async () => {
      while (busy) {
        const other = await Engine.open({ root, registry: client, snapshotter: 'overlay', namespace, callTimeoutMs: 20_000 });
        try {
          opened.push({ listed: (await other.list({ all: true })).length, discarded: other.recovery.discarded });
        } finally {
          await other.close();
        }
      }
    })();
    opener.catch(() => undefined); // awaited below
    const ran = await Promise.all(engines.map((p) => p.call<string[]>({ op: 'run', image: image(), cmd: ['sleep', '600'], count: 5 })));
    const ids = ran.flat();
    expect(new Set(ids).size).to.equal(20);
    expect((await engine.list()).map((c) => c.Id)).to.have.members(ids);
    for (const p of engines) expect(await p.call<string[]>({ op: 'list' })).to.have.members(ids);
    // Each process removes the containers another one started.
    await Promise.all(engines.map((p, i) => p.call({ op: 'remove', ids: ran[(i + 1) % 4], force: true })));
    busy = false;
    await opener;
    expect(opened.length).to.be.above(1);
    // Nothing was half done by a crash: an Engine opened meanwhile must not take a create or remove for a leftover.
    expect(
      opened.flatMap((o) => o.discarded),
      'discarded by an Engine opened meanwhile',
    ).to.deep.equal([]);
    expect(await engine.list({ all: true })).to.deep.equal([]);
    for (const p of engines) await p.close();
    expect(await engineLeftovers(engine, namespace)).to.deep.equal([]);
  });

  it('two processes run --name same at once: one container, the other gets ERR_NAME_IN_USE and leaves nothing', async () => {
    for (let round = 0; round < 3; round++) {
      const [a, b] = await spawnEngines(2);
      const replies = await Promise.all([a!, b!].map((p) => p.send({ op: 'run', image: image(), cmd: ['sleep', '600'], name: 'same' })));
      const won = replies.filter((r) => r.error === undefined);
      const lost = replies.filter((r) => r.error !== undefined);
      expect(won, JSON.stringify(replies)).to.have.length(1);
      expect(lost[0]!.error!.code).to.equal('ERR_NAME_IN_USE');
      const all = await engine.list({ all: true });
      expect(all.map((c) => [c.Id, c.Names])).to.deep.equal([[(won[0]!.result as string[])[0], ['/same']]]);
      await engine.remove('same', { force: true });
      await a!.close();
      await b!.close();
      expect(await engineLeftovers(engine, namespace)).to.deep.equal([]);
    }
  });

  it('an exit watched by one process and waited for by another: both see 7, one die event', async () => {
    const [a, b] = await spawnEngines(2);
    const [id] = await a!.call<string[]>({ op: 'run', image: image(), cmd: ['sh', '-c', 'sleep 1; exit 7'] });
    const [waitedB, waitedHere] = await Promise.all([b!.call<{ exitCode: number }>({ op: 'wait', id }), engine.wait(id!)]);
    expect(waitedB).to.deep.equal({ exitCode: 7 });
    expect(waitedHere).to.deep.equal({ exitCode: 7 });
    for (const p of [a!, b!]) expect(await p.call({ op: 'inspect', id })).to.include({ Status: 'exited', ExitCode: 7, Running: false });
    // Give A's watcher time to see the exit too (if it had not already recorded it).
    await new Promise((r) => setTimeout(r, 500));
    const events = await b!.call<Array<{ action: string; id: string; exitCode?: string }>>({ op: 'events' });
    expect(events.filter((e) => e.id === id).map((e) => `${e.action}${e.exitCode ?? ''}`)).to.deep.equal(['create', 'start', 'die7']);
    await a!.close();
    await b!.close();
    await engine.remove(id!);
    expect(await engineLeftovers(engine, namespace)).to.deep.equal([]);
  });

  it('a container stopped and removed by another process than the one watching it: no resurrection, no 255', async () => {
    const [a, b] = await spawnEngines(2);
    const [stopped, removed] = await a!.call<string[]>({ op: 'run', image: image(), cmd: ['sleep', '600'], count: 2 });
    await b!.call({ op: 'stop', id: stopped, timeout: 1 });
    await b!.call({ op: 'remove', ids: [removed], force: true });
    await new Promise((r) => setTimeout(r, 500));
    expect(await a!.call({ op: 'list' })).to.deep.equal([]);
    const state = await a!.call<{ Status: string; ExitCode: number }>({ op: 'inspect', id: stopped });
    expect(state).to.include({ Status: 'exited', ExitCode: 137 });
    const events = await a!.call<Array<{ action: string; id: string; exitCode?: string }>>({ op: 'events' });
    expect(events.filter((e) => e.action === 'die').map((e) => [e.id, e.exitCode])).to.have.deep.members([
      [stopped, '137'],
      [removed, '137'],
    ]);
    await a!.close();
    await b!.close();
    await engine.remove(stopped!);
    expect(await engineLeftovers(engine, namespace)).to.deep.equal([]);
  });

  it('stop, kill and rm -f of the same containers from two processes at once: each ends as docker says, no backend error', async () => {
    const [a, b] = await spawnEngines(2);
    const ids = await a!.call<string[]>({ op: 'run', image: image(), cmd: ['sleep', '600'], count: 6 });
    const ops = ['stop', 'kill', 'remove'] as const;
    const command = (op: (typeof ops)[number], id: string): Record<string, unknown> =>
      op === 'remove' ? { op, ids: [id], force: true } : { op, id, timeout: 0 };
    const replies = await Promise.all(ids.flatMap((id, i) => [a!.send(command(ops[i % 3]!, id)), b!.send(command(ops[(i + 1) % 3]!, id))]));
    // Allowed: success, no such container (removed by the other), not running (kill after the other's stop).
    const codes = replies.map((r) => r.error?.code ?? 'ok');
    for (const code of codes) expect(['ok', 'ERR_NO_SUCH_CONTAINER', 'ERR_FAILED_PRECONDITION'], JSON.stringify(replies)).to.include(code);
    const left = await engine.list({ all: true });
    for (const c of left) expect((await engine.inspect(c.Id)).State, c.Id).to.include({ Status: 'exited', ExitCode: 137 });
    const events = await a!.call<Array<{ action: string; id: string; exitCode?: string }>>({ op: 'events' });
    for (const id of ids)
      expect(
        events.filter((e) => e.id === id && e.action === 'die').map((e) => e.exitCode),
        id,
      ).to.deep.equal(['137']);
    await a!.close();
    await b!.close();
    for (const c of left) await engine.remove(c.Id);
    expect(await engineLeftovers(engine, namespace)).to.deep.equal([]);
  });

  it('a task lost when one Engine opened does not end the container another Engine starts again later', async () => {
    // A start cut short (the record still says created, a task exists), then the task's shim died.
    const c = await engine.create(image(), { cmd: ['sleep', '600'] });
    await engine.start(c.id);
    await engine.containerStore.withContainer(c.id, (tx) =>
      tx.update((r) => {
        r.state = { ...r.state, status: 'created', pid: 0 };
      }),
    );
    const pids = processTree(findShimPids(join(root, 'events.sock')));
    killAll(pids);
    await until(() => pids.every((pid) => !isAlive(pid)), 'the shim and its container to die');
    const other = await Engine.open({ root, registry: client, snapshotter: 'overlay', namespace, callTimeoutMs: 20_000 });
    try {
      expect(other.backend.recovery.lost.map((l) => l.id)).to.deep.equal([c.id]);
      await engine.start(c.id);
      expect((await other.inspect(c.id)).State).to.include({ Status: 'running', Running: true });
      expect((await engine.inspect(c.id)).State).to.include({ Status: 'running', Running: true });
    } finally {
      await other.close();
    }
    await engine.remove(c.id, { force: true });
    expect(await engineLeftovers(engine, namespace)).to.deep.equal([]);
  });

  it('logs --follow in one process ends when a container another process started exits', async () => {
    const [a, b] = await spawnEngines(2);
    const [id] = await a!.call<string[]>({ op: 'run', image: image(), cmd: ['sh', '-c', 'echo one; sleep 1; echo two; sleep 1; exit 3'] });
    const lines = await b!.call<string[]>({ op: 'logs', id });
    expect(lines).to.deep.equal(['one\n', 'two\n']);
    expect(await b!.call({ op: 'inspect', id })).to.include({ Status: 'exited', ExitCode: 3 });
    await a!.close();
    await b!.close();
    await engine.remove(id!);
    expect(await engineLeftovers(engine, namespace)).to.deep.equal([]);
  });
});
