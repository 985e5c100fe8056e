// `containerkit containerd run/rm/task` as a user runs them: the real bin in its own process (signals, stdin, exit
// codes) against a real containerd, with the client and ctr checking that nothing is left behind.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { ContainerdClient, resolveImage } from '../../../lib/containerd/index.js';
import { generateSpec, withImageConfig } from '../../../lib/runtime/index.js';
import { sleep } from '../../../lib/util/abort.js';
import { captureCli } from '../../fixtures/cli.js';
import { type CliProcess, spawnCli } from '../../fixtures/cli-process.js';
import { type ContainerdFixture, startContainerd } from '../../fixtures/containerd.js';
import { type PushedImages, withPushedImages } from '../../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../fixtures/registry.js';

describe('CLI process: containerkit containerd run / rm / task', function () {
  this.timeout(180_000);
  let fixture: ContainerdFixture;
  let registry: RegistryFixture;
  let images: PushedImages;
  let client: ContainerdClient;
  let image: string;

  const newId = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;
  const cli = (...argv: string[]): CliProcess =>
    spawnCli(['containerd', ...argv], { CONTAINERD_ADDRESS: fixture.address, CONTAINERD_NAMESPACE: fixture.namespace });
  const finished = async (p: CliProcess, stdin = ''): Promise<{ code: number | null; out: string; err: string }> => {
    p.child.stdin!.end(stdin);
    const { code } = await p.exited;
    return { code, out: p.out, err: p.err };
  };

  /** What containerd still holds for `id`: its container, task and snapshot (each true when present). */
  const leftovers = async (id: string) => ({
    container: (await client.containers.list()).some((c) => c.id === id),
    task: (await client.tasks.list()).some((t) => t.id === id || t.execId === id),
    snapshot: (await client.snapshots.list()).some((s) => s.name === id),
  });
  const nothingLeft = { container: false, task: false, snapshot: false };
  const specFor = async (id: string, ...args: string[]) =>
    generateSpec([withImageConfig((await resolveImage(client, image)).config, { args })], { id, namespace: fixture.namespace });

  /** Waits until the container's task runs (the CLI started it). */
  const running = async (id: string, p: CliProcess): Promise<void> => {
    for (;;) {
      const state = await client.tasks.get(id).catch(() => undefined);
      if (state?.status === 'running') return;
      if (p.child.exitCode !== null) throw new Error(`containerkit exited early: ${p.err}`);
      await sleep(100);
    }
  };

  before(async () => {
    [fixture, registry] = await Promise.all([startContainerd(), startRegistry()]);
    images = await withPushedImages(registry);
    image = images.busybox.reference;
    client = new ContainerdClient({ address: fixture.address, namespace: fixture.namespace });
    await fixture.ctr(['images', 'pull', '--plain-http', image]);
  });

  after(async () => {
    await client?.close();
    await fixture?.stop();
    await registry?.stop();
  });

  it('forwards SIGINT to the container: a process that traps it ends with its own exit code', async () => {
    const id = newId('sig-trap');
    const p = cli('run', '--rm', '--id', id, image, 'sh', '-c', 'trap "echo got-INT; exit 3" INT; echo ready; sleep 100 & wait');
    await p.waitFor('out', /ready/);
    p.child.kill('SIGINT');
    const { code, out } = await finished(p);
    expect(code, p.err).to.equal(3);
    expect(out).to.equal('ready\ngot-INT\n');
    expect(await leftovers(id)).to.deep.equal(nothingLeft);
  });

  for (const [signal, exit] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal} to \`run --rm IMG sleep 100\`: forwarded (PID 1 ignores it), a second one kills; exit ${exit}, nothing left`, async () => {
      const id = newId('sig-sleep');
      const p = cli('run', '--rm', '--id', id, image, 'sleep', '100');
      await running(id, p);
      p.child.kill(signal);
      await p.waitFor('err', new RegExp(`sent ${signal} to container ${id}; send it again to kill the container`));
      expect((await client.tasks.get(id)).status).to.equal('running'); // sleep as PID 1 has no handler: the kernel drops it
      p.child.kill(signal);
      const { code, err } = await finished(p);
      expect(code, err).to.equal(exit);
      expect(await leftovers(id)).to.deep.equal(nothingLeft);
    });
  }

  it("in-process: an abort of runCli's signal with no process signal behind it kills the container; exit 130, nothing left", async () => {
    const id = newId('abort');
    const controller = new AbortController();
    const env = { CONTAINERD_ADDRESS: fixture.address, CONTAINERD_NAMESPACE: fixture.namespace };
    const run = captureCli(['containerd', 'run', '--rm', '--id', id, image, 'sleep', '100'], env, { signal: controller.signal });
    for (;;) {
      if ((await client.tasks.get(id).catch(() => undefined))?.status === 'running') break;
      await sleep(100);
    }
    controller.abort(new DOMException('caller gave up', 'AbortError'));
    const { code, err } = await run;
    expect(code, err).to.equal(130);
    expect(err).to.equal('containerkit: cancelled\n');
    expect(await leftovers(id)).to.deep.equal(nothingLeft);
  });

  it('passes stdin through: `echo x | run --rm IMG cat` prints x and ends at EOF', async () => {
    const id = newId('stdin');
    const { code, out, err } = await finished(cli('run', '--rm', '--id', id, image, 'cat'), 'x\n');
    expect(code, err).to.equal(0);
    expect(out).to.equal('x\n');
    expect(await leftovers(id)).to.deep.equal(nothingLeft);
  });

  it('exits 127 for a missing command and 126 for a non-executable file, with one coded line and nothing left', async () => {
    for (const [command, exit, pattern] of [
      ['/nonexistent', 127, /^containerkit: container command "\/nonexistent" not found: .*no such file or directory \(ERR_CONTAINER_COMMAND_NOT_FOUND\)\n$/],
      ['nosuch', 127, /^containerkit: container command "nosuch" not found: executable file not found in \$PATH \(ERR_CONTAINER_COMMAND_NOT_FOUND\)\n$/],
      [
        '/etc/passwd',
        126,
        /^containerkit: container command "\/etc\/passwd" cannot be executed: permission denied \(ERR_CONTAINER_COMMAND_NOT_EXECUTABLE\)\n$/,
      ],
    ] as const) {
      const id = newId('badcmd');
      const { code, out, err } = await finished(cli('run', '--rm', '--id', id, image, command));
      expect(code, `${command}: ${err}`).to.equal(exit);
      expect(err).to.match(pattern);
      expect(out).to.equal('');
      expect(await leftovers(id), command).to.deep.equal(nothingLeft);
    }
  });

  it('rm refuses a container with a stopped task (one coded line) and removes it, task and snapshot, with --force', async () => {
    const id = newId('rm-stopped');
    const container = await client.createContainer(id, { spec: await specFor(id, 'true'), image });
    const task = await container.newTask({ stdio: { stdout: 'null' } });
    const exited = task.wait();
    await task.start();
    expect((await exited).code).to.equal(0);

    const refused = await finished(cli('rm', id));
    expect(refused.code).to.equal(1);
    expect(refused.err).to.match(
      new RegExp(
        `^containerkit: container ${id} still has a task \\(stopped\\): delete the task first with "containerd task rm ${id}", or use "containerd rm --force ${id}" \\(ERR_CONTAINERD_FAILED_PRECONDITION\\)\\n$`,
      ),
    );
    expect(await leftovers(id)).to.deep.equal({ container: true, task: true, snapshot: true });

    const forced = await finished(cli('rm', '--force', id));
    expect(forced.code, forced.err).to.equal(0);
    expect(forced.out).to.equal(`${id}\n`);
    expect(await leftovers(id)).to.deep.equal(nothingLeft);
    expect(await fixture.ctr(['snapshots', 'ls'])).to.not.contain(id);
  });

  it('rm -f kills a running task; task ls / kill / rm handle tasks as ctr tasks does', async () => {
    const running1 = newId('rm-running');
    const running2 = newId('task-verbs');
    for (const id of [running1, running2]) {
      const container = await client.createContainer(id, { spec: await specFor(id, 'sleep', '300'), image });
      await (await container.newTask({ stdio: { stdout: 'null' } })).start();
    }
    const forced = await finished(cli('rm', '-f', running1));
    expect(forced.code, forced.err).to.equal(0);
    expect(await leftovers(running1)).to.deep.equal(nothingLeft);

    const listed = await finished(cli('task', 'ls', '--format', 'json'));
    expect(listed.code, listed.err).to.equal(0);
    const rows = listed.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; status: string; pid: number });
    expect(rows.map((r) => [r.id, r.status])).to.deep.equal([[running2, 'running']]);

    const busy = await finished(cli('task', 'rm', running2));
    expect(busy.code).to.equal(1);
    expect(busy.err).to.match(/^containerkit: .*must be stopped before deletion \(it is running\) \(ERR_CONTAINERD_FAILED_PRECONDITION\)\n$/);
    const killed = await finished(cli('task', 'kill', '-s', 'KILL', running2));
    expect(killed.code, killed.err).to.equal(0);
    expect((await (await (await client.loadContainer(running2)).task()).wait()).code).to.equal(137);
    const removed = await finished(cli('task', 'rm', running2));
    expect(removed.code, removed.err).to.equal(0);
    expect(await leftovers(running2)).to.deep.equal({ container: true, task: false, snapshot: true });
    expect((await finished(cli('rm', running2))).code).to.equal(0);
    expect(await leftovers(running2)).to.deep.equal(nothingLeft);
  });
});
