// The conformance suite every backend's Task implementation runs (as content-suite.ts does for content stores):
// give it a name and a harness that creates a task running a busybox command; it registers mocha tests that use
// nothing but the shared `Task`/`Process` vocabulary of lib/oci.

import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { expect } from 'chai';
import { FailedPreconditionError } from '../lib/errors/index.js';
import type { StdioOptions, Task } from '../lib/oci/index.js';

/** What a backend gives the suite. */
export interface TaskSuiteHarness {
  /**
   * Creates (not starts) a task with id `id` whose init process runs `args` in a busybox rootfs, with `stdio`.
   * The harness tracks it and removes whatever is left in `cleanup`.
   */
  createTask(id: string, args: string[], stdio: StdioOptions): Promise<Task>;
  /** Removes every task it created (force), and their containers, snapshots, FIFOs. */
  cleanup(): Promise<void>;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

const text = async (r: Readable | undefined): Promise<string> => (r === undefined ? '' : (await buffer(r)).toString());

/** Registers the Task conformance tests for one backend. */
export function taskSuite(name: string, harness: () => Promise<TaskSuiteHarness>): void {
  describe(`Task conformance: ${name}`, function () {
    this.timeout(30_000);
    let h: TaskSuiteHarness;
    let n = 0;
    const nextId = (): string => `suite-${process.pid}-${Date.now().toString(36)}-${n++}`;
    beforeEach(async () => {
      h = await harness();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('runs to exit: start gives a pid, wait gives the real code and time, stdout and stderr stay apart, delete reports the same exit', async () => {
      const before = Date.now();
      const task = await h.createTask(nextId(), ['sh', '-c', 'echo out; echo err >&2; exit 7'], { stdout: 'pipe', stderr: 'pipe' });
      expect(task.execId).to.equal(undefined);
      expect((await task.status()).status).to.equal('created');
      const waited = task.wait();
      const pid = await task.start();
      expect(pid).to.be.greaterThan(0);
      const [out, err, exit] = await Promise.all([text(task.stdout), text(task.stderr), waited]);
      expect(out).to.equal('out\n');
      expect(err).to.equal('err\n');
      expect(exit.code).to.equal(7);
      expect(exit.exitedAt).to.be.instanceOf(Date);
      expect(exit.exitedAt!.getTime()).to.be.within(before - 1000, Date.now() + 1000);
      const state = await task.status();
      expect(state.status).to.equal('stopped');
      expect(state.exit?.code).to.equal(7);
      const deleted = await task.delete();
      expect(deleted.code).to.equal(7);
      expect(deleted.pid).to.equal(pid);
    });

    it('kill: a signal ends init with 128+N; wait after the exit answers at once', async () => {
      const task = await h.createTask(nextId(), ['sleep', '60'], { stdout: 'null' });
      await task.start();
      expect((await task.status()).status).to.equal('running');
      await task.kill('SIGKILL');
      expect((await task.wait()).code).to.equal(137);
      expect((await task.wait()).code).to.equal(137);
      await task.delete();
    });

    it('kill with all reaches every process; pids lists them', async () => {
      const task = await h.createTask(nextId(), ['sh', '-c', 'sleep 60 & sleep 60 & wait'], { stdout: 'null' });
      const pid = await task.start();
      let pids = await task.pids();
      for (let i = 0; i < 50 && pids.length < 3; i++) {
        await new Promise((r) => setTimeout(r, 20));
        pids = await task.pids();
      }
      expect(pids.map((p) => p.pid)).to.include(pid);
      expect(pids).to.have.length(3);
      await task.kill('SIGKILL', { all: true });
      expect((await task.wait()).code).to.equal(137);
      await task.delete();
    });

    it('stdin: written bytes reach the process; closeStdin (ending the stream) is EOF', async () => {
      const task = await h.createTask(nextId(), ['cat'], { stdin: true, stdout: 'pipe', stderr: 'pipe' });
      await task.start();
      expect(task.stdin).to.not.equal(undefined);
      const out = text(task.stdout);
      task.stdin!.end('hello through stdin\n');
      expect(await out).to.equal('hello through stdin\n');
      expect((await task.wait()).code).to.equal(0);
      await task.delete();
    });

    it('pause and resume: status follows; a paused task is not running', async () => {
      const task = await h.createTask(nextId(), ['sleep', '60'], { stdout: 'null' });
      await task.start();
      await task.pause();
      expect((await task.status()).status).to.equal('paused');
      await task.resume();
      expect((await task.status()).status).to.equal('running');
      await task.kill('SIGKILL');
      await task.wait();
      await task.delete();
    });

    it('exec: its own stdio and exit code, execId set, deleted apart from the task', async () => {
      const task = await h.createTask(nextId(), ['sleep', '60'], { stdout: 'null' });
      await task.start();
      const exec = await task.exec(
        'probe',
        { args: ['sh', '-c', 'echo from-exec; exit 3'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
        { stdio: { stdout: 'pipe', stderr: 'pipe' } },
      );
      expect(exec.execId).to.equal('probe');
      expect(exec.id).to.equal(task.id);
      const waited = exec.wait();
      await exec.start();
      const [out, exit] = await Promise.all([text(exec.stdout), waited]);
      expect(out).to.equal('from-exec\n');
      expect(exit.code).to.equal(3);
      expect((await exec.delete()).code).to.equal(3);
      expect((await task.status()).status).to.equal('running');
      await task.kill('SIGKILL');
      await task.wait();
      await task.delete();
    });

    it('terminal: output arrives on stdout through a pty and resize is accepted', async () => {
      const task = await h.createTask(nextId(), ['sh', '-c', 'sleep 0.2; stty size; tty'], { terminal: true, stdout: 'pipe' });
      expect(task.stderr).to.equal(undefined);
      await task.start();
      await task.resize({ width: 91, height: 17 });
      const [out, exit] = await Promise.all([text(task.stdout), task.wait()]);
      expect(out).to.match(/17 91\r?\n/);
      expect(out).to.match(/\/dev\/pts\/\d+/);
      expect(exit.code).to.equal(0);
      await task.delete();
    });

    it('update and metrics on a running task', async () => {
      const task = await h.createTask(nextId(), ['sleep', '60'], { stdout: 'null' });
      await task.start();
      await task.update({ pids: { limit: 77 } });
      const metrics = await task.metrics();
      expect(metrics?.typeUrl).to.match(/Metrics$/);
      expect(metrics?.value.length).to.be.greaterThan(0);
      await task.kill('SIGKILL');
      await task.wait();
      await task.delete();
    });

    it('errors: delete while running is a FailedPrecondition; an aborted wait rejects with the reason and the task keeps running', async () => {
      const task = await h.createTask(nextId(), ['sleep', '60'], { stdout: 'null' });
      await task.start();
      expect(await rejection(task.delete())).to.be.instanceOf(FailedPreconditionError);
      const ac = new AbortController();
      const reason = new Error('stop waiting');
      const waiting = task.wait({ signal: ac.signal });
      ac.abort(reason);
      let caught: unknown;
      await waiting.catch((err: unknown) => (caught = err));
      expect(caught).to.equal(reason);
      expect((await task.status()).status).to.equal('running');
      await task.kill('SIGKILL');
      await task.wait();
      await task.delete();
    });
  });
}
