// The Engine end to end on real shims, with a busybox image from a real registry: docker's run/create/start/stop/
// wait/logs/exec/pause/rename/rm semantics, events, a restart that finds every container again (one engine killed,
// a new one opened in its place), and cycles that leave nothing behind.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { Engine, type EngineEvent } from '../../../lib/index.js';
import { RegistryClient } from '../../../lib/registry/index.js';
import { mount, mountsUnder, unmount } from '../../../lib/util/mount.js';
import { codedRejection } from '../../fixtures/assert.js';
import { engineLeftovers } from '../../fixtures/engine-leftovers.js';
import { useRegistryWithImages } from '../../fixtures/images.js';
import { trackChild, trackCleanup } from '../../fixtures/safety-net.js';
import { findShimPids, isAlive, killAll, processTree } from '../../fixtures/shims.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const REPO = join(import.meta.dirname, '..', '..', '..');
const CHILD = join(REPO, 'test', 'fixtures', 'engine-run-child.ts');

const until = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('engine: Engine lifecycle (real shims, real registry)', function () {
  this.timeout(180_000);
  const served = useRegistryWithImages();
  let client: RegistryClient;
  let root: string;
  let namespace: string;
  let engine: Engine;
  let untrack: (() => void) | undefined;
  const seen: EngineEvent[] = [];

  const eventsSocket = (): string => join(root, 'events.sock');
  const killEverything = (): void => killAll(processTree(findShimPids(eventsSocket())));
  const image = (): string => served.images.busybox.reference;
  const open = async (): Promise<Engine> => {
    const e = await Engine.open({ root, registry: client, snapshotter: 'overlay', namespace, callTimeoutMs: 20_000 });
    e.on('event', (ev) => seen.push(ev));
    return e;
  };

  before(() => {
    client = new RegistryClient({ retry: { baseDelayMs: 1 } });
  });
  beforeEach(async () => {
    root = await makeTempDir('engine-life');
    namespace = `ck-eng-${randomBytes(4).toString('hex')}`;
    untrack = trackCleanup(killEverything);
    seen.length = 0;
    engine = await open();
    await engine.pull(image());
  });
  afterEach(async () => {
    await engine?.close();
    killEverything();
    for (const point of await mountsUnder(root)) await unmount(point).catch(() => undefined);
    await removeTempDir(root);
    untrack?.();
  });
  after(() => client?.close());

  /** Everything a container can leave: shim processes, mounts, FIFOs, snapshots, container dirs, runc state, names, locks. */
  const leftovers = (): Promise<string[]> => engineLeftovers(engine, namespace);

  it('run attached: the exit code, stdout and stderr apart; the container stays, exited', async () => {
    const result = await engine.run(image(), { cmd: ['sh', '-c', 'echo out; echo err >&2; echo more; exit 3'], name: 'attached' });
    expect(result.exitCode).to.equal(3);
    expect(result.stdout).to.equal('out\nmore\n');
    expect(result.stderr).to.equal('err\n');
    const info = await engine.inspect('attached');
    expect(info.State).to.include({ Status: 'exited', Running: false, ExitCode: 3, Pid: 0 });
    expect(Date.parse(info.State.FinishedAt)).to.be.at.least(Date.parse(info.State.StartedAt));
    expect(seen.filter((e) => e.Actor.ID === result.id).map((e) => e.Action)).to.deep.equal(['create', 'start', 'die']);
    expect(seen.find((e) => e.Action === 'die')?.Actor.Attributes.exitCode).to.equal('3');
    // No task is kept for an exited container: no shim, no mount.
    expect(processTree(findShimPids(eventsSocket())).filter(isAlive)).to.deep.equal([]);
    expect(await mountsUnder(root)).to.deep.equal([]);
  });

  it('run with autoRemove leaves nothing: no record, snapshot, mount, shim or FIFO', async () => {
    const result = await engine.run(image(), { cmd: ['sh', '-c', 'echo bye; exit 7'], autoRemove: true });
    expect(result).to.deep.include({ exitCode: 7, stdout: 'bye\n', stderr: '' });
    expect(await engine.list({ all: true })).to.deep.equal([]);
    expect(await leftovers()).to.deep.equal([]);
    expect(seen.filter((e) => e.Actor.ID === result.id).map((e) => e.Action)).to.deep.equal(['create', 'start', 'die', 'destroy']);
    // An aborted run: stopped, removed, and the call rejects with the reason.
    const controller = new AbortController();
    const reason = new Error('enough');
    setTimeout(() => controller.abort(reason), 800);
    const started = Date.now();
    const outcome = await engine
      .run(image(), { cmd: ['sh', '-c', 'sleep 600'], autoRemove: true, stopTimeout: 1, signal: controller.signal })
      .catch((e: unknown) => e);
    expect(outcome).to.equal(reason);
    expect(Date.now() - started).to.be.below(10_000);
    expect(await engine.list({ all: true })).to.deep.equal([]);
    expect(await leftovers()).to.deep.equal([]);
  });

  it('create, start, wait, inspect and list with filters', async () => {
    const a = await engine.create(image(), { name: 'web', cmd: ['sh', '-c', 'sleep 600'], labels: { tier: 'front', team: 'a' }, env: ['X=1'] });
    const b = await engine.create(image(), { name: 'job', cmd: ['sh', '-c', 'exit 0'], labels: { tier: 'back' } });
    expect(a.name).to.equal('web');
    const created = await engine.inspect(a.id.slice(0, 12));
    expect(created.State).to.include({ Status: 'created', Running: false });
    expect(created.Config).to.deep.include({ Cmd: ['sh', '-c', 'sleep 600'], Image: image(), Labels: { tier: 'front', team: 'a' } });
    expect(created.Config.Env).to.include('X=1');
    expect(created.Name).to.equal('/web');
    await engine.start('web');
    await engine.start('job');
    expect(await engine.wait('job')).to.deep.equal({ exitCode: 0 });
    const running = await engine.inspect('web');
    expect(running.State).to.include({ Status: 'running', Running: true });
    expect(running.State.Pid).to.be.greaterThan(0);
    const names = (rows: Array<{ Names: string[] }>): string[] => rows.map((r) => r.Names[0]!).sort();
    expect(names(await engine.list())).to.deep.equal(['/web']);
    expect(names(await engine.list({ all: true }))).to.deep.equal(['/job', '/web']);
    expect(names(await engine.list({ all: true, filters: { label: ['tier=back'] } }))).to.deep.equal(['/job']);
    expect(names(await engine.list({ all: true, filters: { label: ['team'] } }))).to.deep.equal(['/web']);
    expect(names(await engine.list({ filters: { status: ['exited'] } }))).to.deep.equal(['/job']);
    expect(names(await engine.list({ all: true, filters: { name: ['we'] } }))).to.deep.equal(['/web']);
    expect(names(await engine.list({ all: true, filters: { id: [b.id.slice(0, 8)] } }))).to.deep.equal(['/job']);
    expect(names(await engine.list({ all: true, filters: { ancestor: [image()] } }))).to.deep.equal(['/job', '/web']);
    expect(names(await engine.list({ all: true, filters: { ancestor: ['other:latest'] } }))).to.deep.equal([]);
    const [row] = await engine.list({ filters: { name: ['web'] } });
    expect(row!.Status).to.match(/^Up /);
    expect(row!.Command).to.equal('sh -c sleep 600');
    const top = await engine.top('web');
    // busybox sh execs its last command.
    expect(top.processes.map((p) => p.command)).to.include('sleep 600');
    expect(top.Titles).to.deep.equal(['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    const stats = await engine.stats('web');
    expect(stats.pids).to.be.at.least(1);
    expect(stats.memoryUsageBytes).to.be.greaterThan(0);
    expect(await engine.port('web')).to.deep.equal([]);
    await engine.remove('web', { force: true });
    await engine.remove('job');
    expect(await leftovers()).to.deep.equal([]);
  });

  it('stop escalates to SIGKILL after the timeout when the container ignores its stop signal', async () => {
    const c = await engine.run(image(), { cmd: ['sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done'], detach: true });
    const started = Date.now();
    await engine.stop(c.id, { timeout: 2 });
    const took = Date.now() - started;
    expect(took).to.be.at.least(1900).and.below(9000);
    const info = await engine.inspect(c.id);
    expect(info.State).to.include({ Status: 'exited', ExitCode: 137 });
    // One that handles SIGTERM stops at once with its own code.
    const d = await engine.run(image(), { cmd: ['sh', '-c', 'trap "exit 9" TERM; while true; do sleep 0.1; done'], detach: true });
    const t0 = Date.now();
    await engine.stop(d.id, { timeout: 20 });
    expect(Date.now() - t0).to.be.below(5000);
    expect((await engine.inspect(d.id)).State.ExitCode).to.equal(9);
    // restart runs it again.
    await engine.restart(d.id, { timeout: 5 });
    expect((await engine.inspect(d.id)).State.Status).to.equal('running');
    await engine.remove(d.id, { force: true });
    await engine.remove(c.id);
    expect(await leftovers()).to.deep.equal([]);
  });

  it('wait "removed" returns the real exit code of an auto-removed container', async () => {
    const c = await engine.create(image(), { cmd: ['sh', '-c', 'sleep 0.5; exit 42'], autoRemove: true });
    const removed = engine.wait(c.id, { condition: 'removed' });
    await engine.start(c.id);
    expect(await removed).to.deep.equal({ exitCode: 42 });
    expect((await codedRejection(engine.inspect(c.id))).code).to.equal('ERR_NO_SUCH_CONTAINER');
    expect(await leftovers()).to.deep.equal([]);
  });

  it('logs: tail 1 is exactly the last line, stdout and stderr kept apart', async () => {
    const { id } = await engine.run(image(), { cmd: ['sh', '-c', 'echo a; echo b; echo c >&2; sleep 0.3; echo d'] });
    // The logger reads the two pipes apart: only lines written apart in time keep their order across streams.
    const read = async (opts: Parameters<Engine['logs']>[1]): Promise<string[]> => {
      const out: string[] = [];
      for await (const e of engine.logs(id, opts)) out.push(`${e.stream}:${e.line}`);
      return out;
    };
    expect(await read({ tail: 1 })).to.deep.equal(['stdout:d\n']);
    expect(await read({ tail: 1, stdout: false })).to.deep.equal(['stderr:c\n']);
    expect(await read({ stderr: false })).to.deep.equal(['stdout:a\n', 'stdout:b\n', 'stdout:d\n']);
    expect((await read({ timestamps: true, tail: 1 }))[0]).to.match(/^stdout:\d{4}-\d\d-\d\dT[\d:.]+Z d\n$/);
    // follow ends when the container stops.
    const live = await engine.run(image(), { cmd: ['sh', '-c', 'for i in 1 2 3; do echo $i; sleep 0.3; done'], detach: true });
    const followed: string[] = [];
    for await (const e of engine.logs(live.id, { follow: true })) followed.push(e.line);
    expect(followed).to.deep.equal(['1\n', '2\n', '3\n']);
  });

  it('exec: exit code and output apart, env and workdir; exec events', async () => {
    const c = await engine.run(image(), { cmd: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'], detach: true, env: ['FROM=container'] });
    const r = await engine.exec(c.id, ['sh', '-c', 'echo hi $FROM $EXTRA; pwd; echo oops >&2; exit 5'], { env: ['EXTRA=x'], workdir: '/tmp' });
    expect(r).to.deep.equal({ exitCode: 5, stdout: 'hi container x\n/tmp\n', stderr: 'oops\n' });
    const fed = await engine.exec(c.id, ['cat'], { stdin: 'fed\n' });
    expect(fed).to.deep.equal({ exitCode: 0, stdout: 'fed\n', stderr: '' });
    const nobody = await engine.exec(c.id, ['id', '-u'], { user: 'nobody' });
    expect(nobody).to.deep.equal({ exitCode: 0, stdout: '65534\n', stderr: '' });
    const actions = seen.filter((e) => e.Actor.ID === c.id).map((e) => e.Action);
    expect(actions.filter((a) => a.startsWith('exec_'))).to.deep.equal(['exec_start', 'exec_die', 'exec_start', 'exec_die', 'exec_start', 'exec_die']);
    // The streaming variant: the caller writes stdin and reads stdout while it runs.
    const stream = await engine.execStream(c.id, ['sh', '-c', 'read line; echo got $line; exit 2'], { stdin: true });
    const out: Buffer[] = [];
    stream.stdout!.on('data', (b: Buffer) => out.push(b));
    stream.stdin!.write('ping\n');
    expect(await stream.wait()).to.deep.equal({ exitCode: 2 });
    expect(Buffer.concat(out).toString()).to.equal('got ping\n');
    await engine.stop(c.id);
    expect((await codedRejection(engine.exec(c.id, ['true']))).code).to.equal('ERR_FAILED_PRECONDITION');
    await engine.remove(c.id);
    expect(await leftovers()).to.deep.equal([]);
  });

  it('a container killed by the OOM killer: OOMKilled, exit 137, an oom event', async () => {
    const { id, exitCode } = await engine.run(image(), {
      cmd: ['sh', '-c', 'x=a; while true; do x=$x$x; done'],
      resources: { memory: 8 * 1024 * 1024, memorySwap: 8 * 1024 * 1024 },
    });
    expect(exitCode).to.equal(137);
    expect((await engine.inspect(id)).State).to.include({ OOMKilled: true, ExitCode: 137 });
    expect(seen.filter((e) => e.Actor.ID === id).map((e) => e.Action)).to.include('oom');
  });

  it('update changes the limits of the running task and of the next starts', async () => {
    const c = await engine.run(image(), {
      cmd: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'],
      detach: true,
      resources: { memory: 32 << 20 },
    });
    expect((await engine.stats(c.id)).memoryLimitBytes).to.equal(32 << 20);
    await engine.update(c.id, { memory: 64 << 20, pidsLimit: 50 });
    const now = await engine.stats(c.id);
    expect(now.memoryLimitBytes).to.equal(64 << 20);
    expect(now.pidsLimit).to.equal(50);
    expect((await engine.inspect(c.id)).HostConfig).to.include({ Memory: 64 << 20, PidsLimit: 50 });
    await engine.restart(c.id);
    expect((await engine.stats(c.id)).memoryLimitBytes).to.equal(64 << 20);
    await engine.remove(c.id, { force: true });
  });

  it('images: tag, untag, refused removal while a container uses the image; image events', async () => {
    await engine.tag(image(), 'localhost/mine:1');
    expect((await engine.images()).map((i) => i.name)).to.include('localhost/mine:1');
    const c = await engine.create(image(), { cmd: ['true'] });
    expect((await engine.removeImage('localhost/mine:1')).untagged).to.deep.equal(['localhost/mine:1']);
    expect((await codedRejection(engine.removeImage(image()))).code).to.equal('ERR_IMAGE_IN_USE');
    await engine.remove(c.id);
    const removed = await engine.removeImage(image());
    expect(removed.untagged).to.deep.equal([image()]);
    expect(await engine.images()).to.deep.equal([]);
    expect(seen.filter((e) => e.Type === 'image').map((e) => e.Action)).to.deep.equal(['pull', 'tag', 'untag', 'untag', 'delete']);
  });

  it('pause and unpause', async () => {
    const c = await engine.run(image(), { cmd: ['sh', '-c', 'while true; do sleep 0.1; done'], detach: true });
    await engine.pause(c.id);
    expect((await engine.inspect(c.id)).State).to.include({ Status: 'paused', Paused: true, Running: true });
    expect((await codedRejection(engine.pause(c.id))).code).to.equal('ERR_FAILED_PRECONDITION');
    await engine.unpause(c.id);
    expect((await engine.inspect(c.id)).State).to.include({ Status: 'running', Paused: false });
    expect(seen.filter((e) => e.Actor.ID === c.id).map((e) => e.Action)).to.include.members(['pause', 'unpause']);
    await engine.remove(c.id, { force: true });
    expect(await leftovers()).to.deep.equal([]);
  });

  it('names: a second create with a name in use and a rename onto one fail with ERR_NAME_IN_USE', async () => {
    await engine.create(image(), { name: 'one', cmd: ['true'] });
    expect((await codedRejection(engine.create(image(), { name: 'one', cmd: ['true'] }))).code).to.equal('ERR_NAME_IN_USE');
    const two = await engine.create(image(), { name: 'two', cmd: ['true'] });
    expect((await codedRejection(engine.rename('two', 'one'))).code).to.equal('ERR_NAME_IN_USE');
    await engine.rename('two', 'three');
    expect((await engine.inspect('three')).Id).to.equal(two.id);
    expect((await codedRejection(engine.inspect('two'))).code).to.equal('ERR_NO_SUCH_CONTAINER');
    const rename = seen.find((e) => e.Action === 'rename');
    expect(rename?.Actor.Attributes).to.include({ name: 'three', oldName: '/two' });
    const running = await engine.run(image(), { cmd: ['sleep', '600'], detach: true, name: 'busy' });
    expect((await codedRejection(engine.remove(running.id))).code).to.equal('ERR_FAILED_PRECONDITION');
    for (const name of ['one', 'three', 'busy']) await engine.remove(name, { force: true });
    expect(await leftovers()).to.deep.equal([]);
    // The persisted events hold what the emitter saw.
    const stored: string[] = [];
    for await (const e of engine.events({ until: new Date() })) stored.push(`${e.Type}:${e.Action}`);
    expect(stored).to.deep.equal(seen.map((e) => `${e.Type}:${e.Action}`));
  });

  it('restart recovery: an engine killed with its containers running; a new one finds them, with their real codes', async () => {
    await engine.close();
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, root, namespace, image(), 'sleep 4; exit 3', 'sleep 4.5; exit 4', 'sleep 10; exit 5'], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    trackChild(child);
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
    });
    const { ids } = JSON.parse(line) as { ids: string[] };
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const pids = await Promise.all(
      ids.map((id) => readFile(join(root, 'containers', id, 'record.json'), 'utf8').then((t) => (JSON.parse(t) as { state: { pid: number } }).state.pid)),
    );
    expect(pids.every((p) => p > 0)).to.equal(true);
    await until(() => !isAlive(pids[0]!) && !isAlive(pids[1]!), 'two containers to exit while no engine runs');
    expect(isAlive(pids[2]!), 'the third still runs').to.equal(true);

    engine = await open();
    expect([...engine.recovery.running]).to.deep.equal([ids[2]]);
    expect(engine.recovery.exited.map((e) => [e.id, e.exitCode]).sort()).to.deep.equal(
      [
        [ids[0], 3],
        [ids[1], 4],
      ].sort(),
    );
    const [first, second, third] = await Promise.all(ids.map((id) => engine.inspect(id)));
    expect(first!.State).to.include({ Status: 'exited', ExitCode: 3 });
    expect(second!.State).to.include({ Status: 'exited', ExitCode: 4 });
    expect(first!.State.FinishedAt).to.not.equal('0001-01-01T00:00:00Z');
    expect(third!.State).to.include({ Status: 'running', Pid: pids[2] });
    expect(await engine.wait(ids[2]!)).to.deep.equal({ exitCode: 5 });
    expect((await engine.inspect(ids[2]!)).State).to.include({ Status: 'exited', ExitCode: 5 });
    for (const id of ids) await engine.remove(id);
    expect(await leftovers()).to.deep.equal([]);
  });

  it('open discards what crashed creates left: a directory without a record, a record without its spec, their snapshots and mounts', async () => {
    const { chainId } = await engine.inspectImage(image());
    const orphan = randomBytes(32).toString('hex');
    await mkdir(join(root, 'containers', orphan));
    await engine.imageService.prepareRootfs(orphan, chainId);
    const half = await engine.containerStore.create({ image: { name: image(), id: 'sha256:x' }, config: {} });
    const mounts = await engine.imageService.prepareRootfs(half.id, chainId);
    const target = join(root, 'containers', half.id, 'create-rootfs');
    await mkdir(target);
    await mount({ type: mounts[0]!.type, source: mounts[0]!.source, options: mounts[0]!.options ?? [] }, target);
    const recordPath = join(root, 'containers', half.id, 'record.json');
    const record = JSON.parse(await readFile(recordPath, 'utf8')) as { created: string };
    record.created = new Date(Date.now() - 120_000).toISOString();
    await writeFile(recordPath, JSON.stringify(record));
    const kept = await engine.create(image(), { name: 'kept', cmd: ['true'] });
    await engine.close();

    engine = await open();
    expect(engine.recovery.discarded).to.have.members([orphan, half.id]);
    expect((await engine.list({ all: true })).map((c) => c.Id)).to.deep.equal([kept.id]);
    await engine.remove(kept.id);
    expect(await leftovers()).to.deep.equal([]);
  });

  it('20 create/start/remove cycles leave no process, mount, FIFO or snapshot behind', async () => {
    for (let i = 0; i < 20; i++) {
      const c = await engine.create(image(), { cmd: ['sleep', '600'], name: `cycle${i}` });
      await engine.start(c.id);
      await engine.remove(c.id, { force: true });
    }
    expect(await engine.list({ all: true })).to.deep.equal([]);
    expect(await leftovers()).to.deep.equal([]);
  });
});
