import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import type { Spec, TaskEvent } from '../../../lib/oci/index.js';
import { runTool } from '../../../lib/util/exec.js';
import { rejection } from '../../fixtures/assert.js';
import { isAlive } from '../../fixtures/shims.js';
import { addressFile, ShimHarness } from './ttrpc-harness.js';

// Against the real containerd-shim-runc-v2 (Debian 12: 1.6.20) and runc, with no containerd daemon: our TtrpcServer
// is the events socket (TTRPC_ADDRESS), our TtrpcClient talks containerd.task.v2.Task to the shim.

describe('shim ttrpc against containerd-shim-runc-v2', function () {
  this.timeout(60_000);
  let harness: ShimHarness;

  beforeEach(async () => {
    harness = await ShimHarness.create();
  });
  afterEach(async () => {
    const bundles = harness.shims.map((s) => s.bundle);
    await harness.cleanup();
    expect(harness.leftovers()).to.deep.equal([]);
    for (const bundle of bundles) expect(existsSync(bundle), bundle).to.equal(false);
  });

  it('runs a container through Connect → Create → Wait ∥ Start → exit 7 → Delete → Shutdown, with its events', async () => {
    const shim = await harness.startShim('life1', ['sh', '-c', 'echo out-line; echo err-line >&2; exit 7']);
    expect(addressFile(shim.bundle)).to.equal(shim.address);

    const connected = await shim.task.connect(shim.id);
    expect(connected.shimPid).to.be.greaterThan(1);
    expect(connected.taskPid).to.equal(0);
    expect(isAlive(connected.shimPid)).to.equal(true);

    const { pid } = await shim.task.create({ id: shim.id, bundle: shim.bundle, stdout: shim.stdoutPath, stderr: shim.stderrPath });
    expect(pid).to.be.greaterThan(1);
    const created = await shim.task.state(shim.id);
    expect(created).to.deep.include({ id: shim.id, status: 'created', pid, bundle: shim.bundle, exit: undefined });

    const wait = shim.task.wait(shim.id);
    expect(await shim.task.start(shim.id)).to.equal(pid);
    const exit = await wait;
    expect(exit.code).to.equal(7);
    expect(exit.exitedAt).to.be.instanceOf(Date);
    expect(Math.abs(exit.exitedAt!.getTime() - Date.now())).to.be.lessThan(30_000);

    await shim.stdioDone;
    expect(shim.stdout()).to.equal('out-line\n');
    expect(shim.stderr()).to.equal('err-line\n');

    const stopped = await shim.task.state(shim.id);
    expect(stopped).to.deep.include({ status: 'stopped' });
    expect(stopped.exit?.code).to.equal(7);
    expect(stopped.exit?.exitedAt?.getTime()).to.equal(exit.exitedAt!.getTime());

    const deleted = await shim.task.delete(shim.id);
    expect(deleted).to.deep.include({ pid, code: 7 });
    await harness.waitForEvent((e) => e.type === 'delete');

    // Gone from the shim: Kill is NOT_FOUND.
    const err = await rejection(shim.task.kill(shim.id, 'SIGKILL'));
    expect(hasCode(err, 'ERR_TTRPC_NOT_FOUND'), String(err)).to.equal(true);

    await shim.task.shutdown(shim.id);
    await harness.waitForNoShims();

    const topics = harness.events.map((r) => r.event.topic);
    expect(topics).to.deep.equal(['/tasks/create', '/tasks/start', '/tasks/exit', '/tasks/delete']);
    for (const r of harness.events) {
      expect(r.metadataNamespace).to.equal(harness.namespace);
      expect(r.event.namespace).to.equal(harness.namespace);
      expect(r.event.timestamp).to.be.instanceOf(Date);
    }
    const byType = <T extends TaskEvent['type']>(type: T): Extract<TaskEvent, { type: T }> =>
      harness.events.find((r) => r.event.type === type)!.event as Extract<TaskEvent, { type: T }>;
    expect(byType('create')).to.deep.include({ containerId: shim.id, bundle: shim.bundle, pid });
    expect(byType('create').io).to.deep.equal({ stdin: '', stdout: shim.stdoutPath, stderr: shim.stderrPath, terminal: false });
    expect(byType('start')).to.deep.include({ containerId: shim.id, pid });
    expect(byType('exit')).to.deep.include({ containerId: shim.id, execId: undefined, pid, code: 7 });
    expect(byType('exit').exitedAt?.getTime()).to.equal(exit.exitedAt!.getTime());
    expect(byType('delete')).to.deep.include({ containerId: shim.id, pid, code: 7 });

    // The normal path alone leaves nothing: shim gone, its socket removed, runc state removed.
    expect(harness.leftovers()).to.deep.equal([]);
    expect(shim.log()).to.contain('starting signal loop');
  });

  it('keeps a Wait pending while State and Pids run concurrently on the same connection; SIGKILL → 137', async () => {
    const shim = await harness.startShim('conc1', ['sleep', '60']);
    const { pid } = await shim.task.create({ id: shim.id, bundle: shim.bundle, stdout: shim.stdoutPath, stderr: shim.stderrPath });
    await shim.task.start(shim.id);
    let settled = false;
    const wait = shim.task.wait(shim.id).finally(() => (settled = true));
    for (let i = 0; i < 5; i++) {
      const [state, pids] = await Promise.all([shim.task.state(shim.id), shim.task.pids(shim.id), shim.task.state(shim.id)]);
      expect(state).to.deep.include({ status: 'running', pid, exit: undefined });
      expect(pids.map((p) => p.pid)).to.include(pid);
    }
    expect(settled).to.equal(false);
    expect(shim.task.ttrpc.pendingCalls).to.equal(1);

    await shim.task.kill(shim.id, 'SIGKILL');
    expect((await wait).code).to.equal(137);
    await harness.waitForEvent((e) => e.type === 'exit');
    await shim.task.delete(shim.id);
    await shim.task.shutdown(shim.id);
    await harness.waitForNoShims();
    expect(harness.leftovers()).to.deep.equal([]);
  });

  it('honours runc options (a private runc root), runs an exec with its exit code, pauses and resumes', async () => {
    const shim = await harness.startShim('exec1', ['sleep', '60']);
    const runcRoot = join(harness.base, 'runc');
    const { pid } = await shim.task.create({ id: shim.id, bundle: shim.bundle, runcOptions: { root: runcRoot } });
    await shim.task.start(shim.id);
    // The shim appends the namespace to the root it is given: state lives in <root>/<namespace>/<id>.
    const listed = await runTool('runc', ['--root', join(runcRoot, harness.namespace), 'list', '-q']);
    expect(listed.stdout.split('\n')).to.include(shim.id);
    expect(existsSync(join('/run/containerd/runc', harness.namespace, shim.id))).to.equal(false);

    const spec = JSON.parse(await readFile(join(shim.bundle, 'config.json'), 'utf8')) as Spec;
    await shim.task.exec(shim.id, 'x1', { process: { ...spec.process!, args: ['sh', '-c', 'exit 3'] } });
    const execWait = shim.task.wait(shim.id, { execId: 'x1' });
    const execPid = await shim.task.start(shim.id, { execId: 'x1' });
    expect(execPid).to.be.greaterThan(1);
    expect((await execWait).code).to.equal(3);
    expect(hasCode(await rejection(shim.task.exec(shim.id, 'x1', { process: spec.process! })), 'ERR_TTRPC_ALREADY_EXISTS')).to.equal(true);
    await shim.task.delete(shim.id, { execId: 'x1' });

    await shim.task.pause(shim.id);
    expect((await shim.task.state(shim.id)).status).to.equal('paused');
    await shim.task.resume(shim.id);
    expect((await shim.task.state(shim.id)).status).to.equal('running');

    await shim.task.kill(shim.id, 'SIGKILL');
    expect((await shim.task.wait(shim.id)).code).to.equal(137);
    await shim.task.delete(shim.id);
    await harness.waitForEvent((e) => e.type === 'delete' && e.execId === undefined);
    const types = harness.events.map((r) => r.event.type);
    for (const t of ['exec-added', 'exec-started', 'paused', 'resumed'] as const) expect(types).to.include(t);
    const started = harness.events.find((r) => r.event.type === 'exec-started')!.event;
    expect(started).to.deep.include({ containerId: shim.id, execId: 'x1', pid: execPid });
    const execExit = harness.events.find((r) => r.event.type === 'exit' && r.event.execId === 'x1')!.event;
    expect(execExit).to.deep.include({ code: 3, pid: execPid });
    expect(pid).to.not.equal(execPid);
    await shim.task.shutdown(shim.id);
    await harness.waitForNoShims();
    expect((await runTool('runc', ['--root', join(runcRoot, harness.namespace), 'list', '-q'])).stdout.trim()).to.equal('');
  });

  it('cleans up after a shim that is left running (the failed-test path)', async () => {
    const shim = await harness.startShim('left1', ['sleep', '60']);
    await shim.task.create({ id: shim.id, bundle: shim.bundle });
    await shim.task.start(shim.id);
    expect((await shim.task.state(shim.id)).status).to.equal('running');
    // No Delete, no Shutdown: afterEach must still leave nothing.
  });
});
