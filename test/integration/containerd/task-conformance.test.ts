// The Task conformance suite (test/task-suite.ts) against a real containerd, plus what the shared vocabulary adds on
// containerd's side: task events as the shared TaskEvent, and an events subscription that ends quietly on abort.
// Each task's rootfs is a snapshot prepared on a committed busybox snapshot, as a container made from an image.
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { expect } from 'chai';
import { ContainerdClient, type ContainerdEvent, type ContainerdTask } from '../../../lib/containerd/index.js';
import { NotFoundError } from '../../../lib/errors/index.js';
import type { StdioOptions, TaskEvent } from '../../../lib/oci/index.js';
import { generateSpec, withProcessArgs } from '../../../lib/runtime/index.js';
import { buildShimLogger, parseContainerLogLine } from '../../../lib/shim/index.js';
import { busyboxEntries } from '../../fixtures/busybox-rootfs.js';
import { type ContainerdFixture, startContainerd } from '../../fixtures/containerd.js';
import { type TaskSuiteHarness, taskSuite } from '../../task-suite.js';

const BASE = 'task-suite-busybox';

describe('containerd: the shared Task vocabulary against a real containerd', () => {
  let fixture: ContainerdFixture;
  let client: ContainerdClient;
  let fifoDir: string;

  before(async function () {
    this.timeout(120_000);
    fixture = await startContainerd();
    client = new ContainerdClient({ address: fixture.address, namespace: fixture.namespace });
    fifoDir = join(fixture.dir, 'fifo');
    // The busybox rootfs written into an active snapshot (overlayfs: a bind mount of its upper dir) and committed, as a
    // GC root: every task's snapshot is prepared on it.
    await client.inLease(async (leased) => {
      const [mount] = await leased.snapshots.prepare(`${BASE}-active`, '');
      for (const entry of await busyboxEntries()) {
        const path = join(mount!.source, entry.path);
        if (entry.type === 'dir') {
          await mkdir(path, { recursive: true });
          await chmod(path, entry.mode ?? 0o755);
        } else if (entry.type === 'file') {
          await writeFile(path, entry.content, { mode: entry.mode ?? 0o644 });
        } else {
          await symlink(entry.target, path);
        }
      }
      await leased.snapshots.commit(BASE, `${BASE}-active`, { labels: { 'containerd.io/gc.root': 'task-suite' } });
    });
  });

  after(async function () {
    this.timeout(120_000);
    await client?.snapshots.remove(BASE).catch(() => undefined);
    await client?.close();
    await fixture?.stop();
  });

  /** Creates containers on the busybox snapshot and their tasks; cleanup removes tasks (force), containers, snapshots. */
  function harness(): TaskSuiteHarness {
    const tasks = new Map<string, ContainerdTask | undefined>();
    return {
      async createTask(id: string, args: string[], stdio: StdioOptions) {
        tasks.set(id, undefined);
        const spec = await generateSpec([withProcessArgs(...args)], { id, namespace: fixture.namespace });
        spec.process!.terminal = stdio.terminal === true;
        const container = await client.createContainer(id, { spec, snapshot: { parent: BASE } });
        const task = await container.newTask({ stdio, fifoDir });
        tasks.set(id, task);
        return task;
      },
      async cleanup() {
        for (const [id, task] of tasks) {
          const gone = (err: unknown): void => {
            if (!(err instanceof NotFoundError)) throw err;
          };
          await task?.delete({ force: true }).catch(gone);
          const container = await client.loadContainer(id).catch(gone);
          await container?.delete().catch(gone); // its snapshot too
        }
        tasks.clear();
      },
    };
  }

  taskSuite('containerd', async () => harness());

  describe('containerd task events and subscriptions', function () {
    this.timeout(60_000);
    let h: TaskSuiteHarness;
    beforeEach(() => {
      h = harness();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('publishes task events as the shared TaskEvent: exit and delete with code and exitedAt, execId only for an exec', async () => {
      const id = `events-${process.pid}-${Date.now().toString(36)}`;
      const ac = new AbortController();
      const events: ContainerdEvent[] = [];
      const iterator = client.events.subscribe([`topic~="/tasks/"`], { signal: ac.signal });
      const first = iterator.next(); // the subscription is open once its first pull is in flight
      const consumed = (async () => {
        const r = await first;
        if (!r.done) events.push(r.value);
        for await (const e of iterator) events.push(e);
      })();
      await new Promise((r) => setTimeout(r, 200));

      const task = await h.createTask(id, ['sleep', '60'], { stdout: 'null' });
      const pid = await task.start();
      const exec = await task.exec(
        'probe',
        { args: ['sh', '-c', 'exit 3'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
        { stdio: { stdout: 'null' } },
      );
      const execExit = exec.wait();
      await exec.start();
      expect((await execExit).code).to.equal(3);
      await exec.delete();
      await task.kill('SIGKILL');
      const exit = await task.wait();
      await task.delete();

      const mine = (): TaskEvent[] => events.filter((e): e is TaskEvent => 'containerId' in e && e.containerId === id);
      for (let i = 0; i < 50 && !mine().some((e) => e.type === 'delete' && e.execId === undefined); i++) await new Promise((r) => setTimeout(r, 100));
      ac.abort();
      await consumed; // the abort ends the iteration without an error

      const types = mine().map((e) => e.type);
      expect(types).to.include.members(['create', 'start', 'exec-added', 'exec-started', 'exit', 'delete']);
      const exits = mine().filter((e) => e.type === 'exit');
      const execExitEvent = exits.find((e) => e.type === 'exit' && e.execId === 'probe');
      expect(execExitEvent).to.include({ code: 3, topic: '/tasks/exit', namespace: fixture.namespace });
      const initExit = exits.find((e) => e.type === 'exit' && e.execId === undefined);
      expect(initExit).to.include({ code: 137, pid });
      expect(initExit?.type === 'exit' && initExit.exitedAt?.getTime()).to.equal(exit.exitedAt?.getTime());
      const deleted = mine().find((e) => e.type === 'delete' && e.execId === undefined);
      expect(deleted?.type === 'delete' && deleted.code).to.equal(137);
      expect(deleted?.timestamp).to.be.instanceOf(Date);
    });

    it('ends a subscription quietly when its signal aborts: already aborted, or while it waits for the next event', async () => {
      const aborted = new AbortController();
      aborted.abort(new Error('never subscribed'));
      const none: ContainerdEvent[] = [];
      for await (const e of client.events.subscribe([], { signal: aborted.signal })) none.push(e);
      expect(none).to.deep.equal([]);

      const ac = new AbortController();
      const iterator = client.events.subscribe([`topic=="/no/such/topic"`], { signal: ac.signal });
      const next = iterator.next();
      await new Promise((r) => setTimeout(r, 200));
      ac.abort(new Error('stop listening'));
      expect(await next).to.deep.equal({ done: true, value: undefined });
    });

    it('reads the output of a stdout-only task whose stderr is dropped (a drained FIFO beside a piped one)', async () => {
      const task = await h.createTask(`drain-${process.pid}-${Date.now().toString(36)}`, ['sh', '-c', 'echo kept; echo dropped >&2'], {
        stdout: 'pipe',
        stderr: 'null',
      });
      expect(task.stderr).to.equal(undefined);
      const out = text(task.stdout!);
      const exited = task.wait();
      await task.start();
      expect(await out).to.equal('kept\n');
      expect((await exited).code).to.equal(0);
      await task.delete();
    });

    it('update: the container sees its new cgroup limit', async () => {
      const task = await h.createTask(`update-${process.pid}-${Date.now().toString(36)}`, ['sleep', '60'], { stdout: 'null' });
      await task.start();
      await task.update({ pids: { limit: 77 } });
      // runc mounts the container's own cgroup at /sys/fs/cgroup/pids (v1) or /sys/fs/cgroup (v2).
      const read = 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max';
      const probe = await task.exec('pids', { args: ['sh', '-c', read], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } });
      const out = text(probe.stdout!);
      await probe.start();
      expect(await out).to.equal('77\n');
      await probe.wait();
      await probe.delete();
      await task.kill('SIGKILL');
      await task.wait();
      await task.delete();
    });

    it("writes 'log' output through the logger named by logUri: stdout and stderr apart, a time per line", async () => {
      const logger = await buildShimLogger(join(fixture.dir, 'bin'));
      const path = join(fixture.dir, `log-${Date.now().toString(36)}.log`);
      const id = `log-${process.pid}-${Date.now().toString(36)}`;
      const spec = await generateSpec([withProcessArgs('sh', '-c', 'echo out; echo err >&2; exit 2')], { id, namespace: fixture.namespace });
      const container = await client.createContainer(id, { spec, snapshot: { parent: BASE } });
      try {
        const task = await container.newTask({ stdio: { stdout: 'log' }, logUri: `binary://${logger}?${new URLSearchParams({ path }).toString()}`, fifoDir });
        expect(task.stdout).to.equal(undefined);
        const exited = task.wait();
        await task.start();
        expect((await exited).code).to.equal(2);
        await task.delete(); // the shim waits for the logger to drain the pipes
        const records = (await readFile(path, 'utf8')).split('\n').filter(Boolean).map(parseContainerLogLine);
        expect(records.map((r) => [r.stream, r.log]).sort()).to.deep.equal([
          ['stderr', 'err\n'],
          ['stdout', 'out\n'],
        ]);
        for (const r of records) expect(Date.parse(r.time)).to.be.greaterThan(Date.now() - 60_000);
      } finally {
        await client.tasks.delete(id, {}).catch(() => undefined);
        await container.delete();
      }
    });

    it("refuses 'log' output without a logger URI, before anything is made", async () => {
      const id = `nolog-${process.pid}-${Date.now().toString(36)}`;
      const err = await h.createTask(id, ['true'], { stdout: 'log' }).catch((e: unknown) => e);
      expect(err).to.have.property('code', 'ERR_INVALID_ARGUMENT');
      expect(await client.tasks.get(id).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
    });
  });
});
