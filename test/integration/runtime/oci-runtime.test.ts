// OCIRuntime against the real runc (as root), on a busybox bundle from busybox-static, with a private --root per
// test: nothing here can touch another container, and each test ends with nothing left under its root or in tmp.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { expect } from 'chai';
import { hasCode, NotFoundError } from '../../../lib/errors/index.js';
import type { SpecProcess } from '../../../lib/oci/index.js';
import { RuncError } from '../../../lib/runtime/errors.js';
import { OCIRuntime } from '../../../lib/runtime/oci-runtime.js';
import type { ContainerStatus } from '../../../lib/runtime/types.js';
import { sleep } from '../../../lib/util/abort.js';
import { withoutExitTime } from '../../fixtures/assert.js';
import { type BusyboxBundle, createBusyboxBundle } from '../../fixtures/bundle.js';

const sh = (script: string): SpecProcess => ({ args: ['sh', '-c', script], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } });

async function scratchDirs(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith('containerkit-runc-'));
}

/** The file holding the container's memory limit: cgroup v1 memory.limit_in_bytes, or v2 memory.max. */
async function memoryLimitFile(pid: number): Promise<string> {
  const cgroups = (await readFile(`/proc/${pid}/cgroup`, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => l.split(':'));
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .trim()
    .split('\n')
    .map((l) => {
      const [pre, post] = l.split(' - ');
      const f = pre!.split(' ');
      const [fstype, , superOpts] = post!.split(' ');
      return { root: f[3]!, point: f[4]!, fstype: fstype!, opts: (superOpts ?? '').split(',') };
    });
  const v1 = cgroups.find(([, controllers]) => controllers!.split(',').includes('memory'));
  if (v1) {
    const mount = mounts.find((m) => m.fstype === 'cgroup' && m.opts.includes('memory'))!;
    return join(mount.point, v1[2]!.slice(mount.root === '/' ? 0 : mount.root.length), 'memory.limit_in_bytes');
  }
  const v2 = cgroups.find(([hierarchy]) => hierarchy === '0')!;
  const mount = mounts.find((m) => m.fstype === 'cgroup2')!;
  return join(mount.point, v2[2]!, 'memory.max');
}

describe('runtime/OCIRuntime with real runc', function () {
  this.timeout(60_000);
  let bundle: BusyboxBundle;
  let runtime: OCIRuntime;
  let scratchBefore: string[];

  beforeEach(async () => {
    scratchBefore = await scratchDirs();
    bundle = await createBusyboxBundle();
    runtime = new OCIRuntime({ root: bundle.root });
  });

  afterEach(async () => {
    await bundle.cleanup();
    expect(existsSync(bundle.dir), 'bundle temp dir left').to.equal(false);
  });

  /** No container under the test's root, and no scratch dir of ours left in tmp. */
  async function expectNothingLeft(): Promise<void> {
    expect((await runtime.list()).map((c) => c.id)).to.deep.equal([]);
    expect(await bundle.containers()).to.deep.equal([]);
    const leaked = (await scratchDirs()).filter((d) => !scratchBefore.includes(d));
    expect(leaked, 'scratch dirs left in tmp').to.deep.equal([]);
  }

  async function waitForStatus(id: string, status: ContainerStatus): Promise<void> {
    for (let i = 0; i < 250; i++) {
      const state = await runtime.state(id).catch(() => undefined);
      if (state?.status === status) return;
      await sleep(20);
    }
    throw new Error(`${id} never became ${status}`);
  }

  async function setArgs(...args: string[]): Promise<void> {
    await bundle.patchSpec((spec) => {
      spec.process!.args = args;
    });
  }

  it('run reports output and the real exit codes 0 and 3', async () => {
    await setArgs('sh', '-c', 'echo hello from runc; hostname');
    expect(withoutExitTime(await runtime.run('run-0', bundle.bundle))).to.deep.equal({ code: 0, stdout: 'hello from runc\nbusybox\n', stderr: '' });
    await setArgs('sh', '-c', 'echo oops >&2; exit 3');
    expect(withoutExitTime(await runtime.run('run-3', bundle.bundle))).to.deep.equal({ code: 3, stdout: '', stderr: 'oops\n' });
    await setArgs('cat');
    expect(withoutExitTime(await runtime.run('run-in', bundle.bundle, { input: 'ping\n' }))).to.deep.equal({ code: 0, stdout: 'ping\n', stderr: '' });
    await expectNothingLeft();
  });

  it('run reports 137 for a container SIGKILLed while it runs, and exec 137 for a process that SIGKILLs itself', async () => {
    await setArgs('sleep', '3600');
    const proc = await runtime.runProcess('killed', bundle.bundle, { stdio: 'ignore' });
    await waitForStatus('killed', 'running');
    await runtime.kill('killed', 'KILL');
    expect(withoutExitTime(await proc.wait())).to.deep.equal({ code: 137, signal: 'SIGKILL' });

    const viaHandle = await runtime.runProcess('killed-2', bundle.bundle, { stdio: 'ignore' });
    await waitForStatus('killed-2', 'running');
    await viaHandle.kill('SIGKILL');
    expect((await viaHandle.wait()).code).to.equal(137);

    // PID 1 of a pid namespace ignores SIGKILL from inside; an exec'd process does not.
    await runtime.run('host', bundle.bundle, { detach: true });
    expect(withoutExitTime(await runtime.exec('host', sh('kill -9 $$')))).to.deep.equal({ code: 137, signal: 'SIGKILL', stdout: '', stderr: '' });
    await runtime.delete('host', { force: true });
    await expectNothingLeft();
  });

  it('create → start → pause → resume → exec ps → kill → delete', async () => {
    const created = await runtime.create('life', bundle.bundle);
    expect(created.stdout).to.equal(null);
    let state = await runtime.state('life');
    expect(state).to.include({ id: 'life', status: 'created', pid: created.pid, bundle: bundle.bundle });
    expect(state.created).to.be.instanceOf(Date);

    await runtime.start('life');
    expect((await runtime.state('life')).status).to.equal('running');
    await runtime.pause('life');
    expect((await runtime.state('life')).status).to.equal('paused');
    await runtime.resume('life');
    expect((await runtime.state('life')).status).to.equal('running');

    const ps = await runtime.exec('life', { args: ['ps'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } });
    expect(ps.code).to.equal(0);
    expect(ps.stdout).to.match(/^\s+1 root\s+sleep 3600$/m);
    expect(withoutExitTime(await runtime.exec('life', sh('exit 3')))).to.deep.equal({ code: 3, stdout: '', stderr: '' });

    await runtime.kill('life', 'SIGKILL');
    await waitForStatus('life', 'stopped');
    state = await runtime.state('life');
    expect(state.pid).to.equal(0);
    await runtime.delete('life');
    const gone = await runtime.state('life').catch((e: unknown) => e);
    expect(gone).to.be.instanceOf(NotFoundError);
    expect((gone as RuncError).code).to.equal('ERR_RUNC_CONTAINER_NOT_FOUND');
    await expectNothingLeft();
  });

  it('wrong-state and duplicate-id errors are typed', async () => {
    await runtime.create('dup', bundle.bundle);
    const again = await runtime.create('dup', bundle.bundle).catch((e: unknown) => e);
    expect((again as RuncError).code).to.equal('ERR_RUNC_CONTAINER_EXISTS');
    await runtime.start('dup');
    const twice = await runtime.start('dup').catch((e: unknown) => e);
    expect(twice).to.be.instanceOf(RuncError);
    expect((twice as RuncError).code).to.equal('ERR_RUNC_CONTAINER_STATE');
    expect((twice as RuncError).message).to.equal('runc start dup: cannot start an already running container');
    const busy = await runtime.delete('dup').catch((e: unknown) => e);
    expect((busy as RuncError).code).to.equal('ERR_RUNC_CONTAINER_STATE');
    expect((busy as RuncError).details.runcMessage).to.equal('cannot delete container dup that is not stopped: running');
    await runtime.delete('dup', { force: true });
    await expectNothingLeft();
  });

  it('list and ps, with a detached exec', async () => {
    const a = await runtime.run('list-a', bundle.bundle, { detach: true });
    const b = await runtime.create('list-b', bundle.bundle);
    const list = await runtime.list();
    expect(list.map((c) => [c.id, c.status, c.pid]).sort()).to.deep.equal([
      ['list-a', 'running', a.pid],
      ['list-b', 'created', b.pid],
    ]);
    expect(await runtime.ps('list-a')).to.deep.equal([a.pid]);
    const extra = await runtime.exec('list-a', sh('sleep 3600'), { detach: true });
    expect(extra.pid).to.be.a('number').and.not.equal(a.pid);
    expect((await runtime.ps('list-a')).sort()).to.deep.equal([a.pid, extra.pid].sort());
    await runtime.delete('list-a', { force: true });
    await runtime.delete('list-b', { force: true });
    await expectNothingLeft();
  });

  it("update of a memory limit shows in the container's cgroup", async () => {
    const { pid } = await runtime.run('mem', bundle.bundle, { detach: true });
    const file = await memoryLimitFile(pid);
    const before = (await readFile(file, 'utf8')).trim();
    await runtime.update('mem', { memory: { limit: 32 * 1024 * 1024 } });
    const after = (await readFile(file, 'utf8')).trim();
    expect(after).not.to.equal(before);
    expect(Number(after)).to.equal(33554432);
    await runtime.delete('mem', { force: true });
    await expectNothingLeft();
  });

  it("surfaces runc's message for a missing binary, from run and from exec", async () => {
    await setArgs('nosuch');
    const err = await runtime.run('missing', bundle.bundle).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RuncError);
    const runcErr = err as RuncError;
    expect(runcErr.code).to.equal('ERR_RUNC_FAILED');
    expect(runcErr.message).to.include('exec: "nosuch": executable file not found in $PATH');
    expect(runcErr.details.runcMessage).to.include('exec: "nosuch": executable file not found in $PATH');
    expect(runcErr.details.argv).to.include.members(['run', 'missing']);
    expect(runcErr.details.exitCode).to.equal(1);

    await setArgs('sleep', '3600');
    await runtime.run('host', bundle.bundle, { detach: true });
    const execErr = await runtime.exec('host', { args: ['nosuch'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } }).catch((e: unknown) => e);
    expect((execErr as RuncError).message).to.include('exec: "nosuch": executable file not found in $PATH');
    expect((execErr as RuncError).details.exitCode).to.equal(255);
    await runtime.delete('host', { force: true });
    await expectNothingLeft();
  });

  it('stats and events give numbers; cancelling events ends them quietly', async () => {
    await runtime.run('ev', bundle.bundle, { detach: true });
    const stats = await runtime.stats('ev');
    expect(stats.cpu.usage.total).to.be.a('number').greaterThan(0);
    expect(stats.memory.usage.usage).to.be.a('number').greaterThan(0);
    expect(stats.pids.current).to.equal(1);

    const controller = new AbortController();
    const seen: number[] = [];
    const reason = new Error('enough');
    const ended = await (async () => {
      for await (const event of runtime.events('ev', { interval: 100, signal: controller.signal })) {
        if (event.type === 'stats') seen.push(event.stats.cpu.usage.total);
        if (seen.length === 2) controller.abort(reason);
      }
      return 'ended';
    })();
    expect(ended).to.equal('ended');
    expect(seen).to.have.length(2);
    expect(seen.every((n) => typeof n === 'number' && n > 0)).to.equal(true);
    await runtime.delete('ev', { force: true });
    await expectNothingLeft();
  });

  it('stdio: caller streams for a foreground run, pipes for a detached one', async () => {
    await setArgs('sh', '-c', 'echo to-out; echo to-err >&2');
    const out = new PassThrough();
    const err = new PassThrough();
    const result = await runtime.run('streams', bundle.bundle, { stdio: { stdout: out, stderr: err } });
    expect(withoutExitTime(result)).to.deep.equal({ code: 0 });
    out.end();
    err.end();
    expect(await text(out)).to.equal('to-out\n');
    expect(await text(err)).to.equal('to-err\n');

    const detached = await runtime.run('piped', bundle.bundle, { detach: true, stdio: 'pipe' });
    expect(await text(detached.stdout!)).to.equal('to-out\n');
    expect(await text(detached.stderr!)).to.equal('to-err\n');
    await waitForStatus('piped', 'stopped');
    await runtime.delete('piped');

    // Output of a created container arrives after start, long after runc create exited.
    const created = await runtime.create('later', bundle.bundle, { stdio: 'pipe' });
    await sleep(100);
    await runtime.start('later');
    expect(await text(created.stdout!)).to.equal('to-out\n');
    await waitForStatus('later', 'stopped');
    await runtime.delete('later');

    // The streaming handle: stdin in, stdout out while it runs, then the status.
    await setArgs('sh', '-c', 'read line; echo "got $line"; exit 7');
    const proc = await runtime.runProcess('handle', bundle.bundle);
    proc.stdin!.end('ping\n');
    const [out2, result2] = await Promise.all([text(proc.stdout!), proc.wait()]);
    expect(out2).to.equal('got ping\n');
    expect(withoutExitTime(result2)).to.deep.equal({ code: 7 });
    await expectNothingLeft();
  });

  it('cancelling a foreground run kills and deletes the container; an aborted signal creates nothing', async () => {
    await setArgs('sleep', '3600');
    const controller = new AbortController();
    const reason = new Error('cancelled by test');
    const running = runtime.run('cancel', bundle.bundle, { signal: controller.signal });
    await waitForStatus('cancel', 'running');
    controller.abort(reason);
    expect(await running.catch((e: unknown) => e)).to.equal(reason);
    await expectNothingLeft();

    const early = await runtime.run('never', bundle.bundle, { signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
    expect(early).to.equal(reason);
    const created = await runtime.create('never', bundle.bundle, { signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
    expect(created).to.equal(reason);

    // A cancelled attached exec: the exec'd process is SIGKILLed, the container goes on.
    const host = await runtime.run('exec-host', bundle.bundle, { detach: true });
    const execController = new AbortController();
    const exec = runtime.exec('exec-host', sh('sleep 3600'), { signal: execController.signal });
    for (let i = 0; i < 250 && (await runtime.ps('exec-host')).length < 2; i++) await sleep(20);
    expect(await runtime.ps('exec-host')).to.have.length(2);
    execController.abort(reason);
    expect(await exec.catch((e: unknown) => e)).to.equal(reason);
    expect(await runtime.ps('exec-host')).to.deep.equal([host.pid]);
    await runtime.delete('exec-host', { force: true });
    await expectNothingLeft();
  });

  it('version and features parse', async () => {
    const version = await runtime.version();
    expect(version.name).to.equal('runc');
    expect(version.version).to.match(/^\d+\.\d+\.\d+/);
    expect(version.spec).to.match(/^1\.\d+\.\d+/);
    const features = await runtime.features();
    expect(features.ociVersionMin).to.match(/^1\./);
    expect(features.linux.namespaces).to.include.members(['pid', 'mount', 'network']);
    expect(features.linux.capabilities).to.include('CAP_SYS_ADMIN');
    await expectNothingLeft();
  });

  it('checkpoint and restore: work where criu works, else a typed criu error and the container untouched', async () => {
    const missing = await new OCIRuntime({ root: bundle.root, criu: join(bundle.dir, 'no-criu') })
      .checkpoint('x', join(bundle.dir, 'img'))
      .catch((e: unknown) => e);
    expect(hasCode(missing, 'ERR_CRIU_MISSING')).to.equal(true);

    await runtime.run('ck', bundle.bundle, { detach: true });
    const image = join(bundle.dir, 'checkpoint');
    const outcome = await runtime.checkpoint('ck', image).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (outcome === undefined) {
      // criu works here: the container stopped at dump, and comes back from the image.
      await runtime.delete('ck', { force: true });
      const restored = await runtime.restore('ck', bundle.bundle, image, { detach: true });
      expect((await runtime.state('ck')).status).to.equal('running');
      expect(await runtime.ps('ck')).to.include(restored.pid);
      await runtime.delete('ck', { force: true });
    } else {
      // criu cannot work on this kernel: the error says so with criu's own lines, and `criu check` agrees.
      expect(outcome).to.be.instanceOf(RuncError);
      const err = outcome as RuncError;
      expect(err.code).to.equal('ERR_CRIU_FAILED');
      expect(err.message).to.match(/^runc checkpoint ck: criu failed: type DUMP/);
      expect(err.details.criuLog).to.equal(join(image, 'dump.log'));
      const lines = err.details.criuErrors as string[];
      expect(lines.length).to.be.greaterThan(0);
      expect(lines.every((l) => l.startsWith('Error ('))).to.equal(true);
      expect(err.message).to.include(lines[0]!);
      expect((await runtime.state('ck')).status).to.equal('running');
      expect(spawnSync('criu', ['check']).status, 'criu check passes, so the failure would be ours').not.to.equal(0);

      const restoreErr = await runtime.restore('ck-restored', bundle.bundle, image).catch((e: unknown) => e);
      expect((restoreErr as RuncError).code).to.equal('ERR_CRIU_FAILED');
      expect((restoreErr as RuncError).message).to.match(/^runc restore ck-restored: criu failed: type RESTORE/);
      await runtime.delete('ck', { force: true });
    }
    await expectNothingLeft();
  });
});
