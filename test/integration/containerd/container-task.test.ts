import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { text as readText } from 'node:stream/consumers';
import { expect } from 'chai';
import { ContainerdClient, createTaskIO, resolveImage } from '../../../lib/containerd/index.js';
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from '../../../lib/errors/index.js';
import { generateSpec, withImageConfig, withProcessArgs } from '../../../lib/runtime/index.js';
import { type ContainerdFixture, startContainerd } from '../../fixtures/containerd.js';
import { type PushedImages, withPushedImages } from '../../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../fixtures/registry.js';

const text = async (stream: Readable | undefined): Promise<string> => (stream === undefined ? '' : readText(stream));

describe('ContainerdClient.createContainer / newTask against a real containerd', function () {
  this.timeout(180_000);
  let fixture: ContainerdFixture;
  let registry: RegistryFixture;
  let images: PushedImages;
  let client: ContainerdClient;
  let fifoDir: string;

  const newId = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;
  const specFor = (id: string, ...args: string[]) => generateSpec([withProcessArgs(...args)], { id, namespace: fixture.namespace });
  const snapshotKeys = async (): Promise<string[]> =>
    (await fixture.ctr(['snapshots', 'ls']))
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/)[0]!)
      .filter(Boolean);

  before(async () => {
    [fixture, registry] = await Promise.all([startContainerd(), startRegistry()]);
    images = await withPushedImages(registry);
    client = new ContainerdClient({ address: fixture.address, namespace: fixture.namespace });
    fifoDir = join(fixture.dir, 'fifo');
    // Pulled and unpacked by ctr: these tests run an image that containerkit did not pull.
    await fixture.ctr(['images', 'pull', '--plain-http', images.busybox.reference]);
  });

  after(async () => {
    await client?.close();
    await fixture?.stop();
    await registry?.stop();
  });

  it('resolves an image to its manifest, config and rootfs chain ID', async () => {
    const resolved = await resolveImage(client, images.busybox.reference);
    expect(resolved.record.target.digest).to.equal(images.busybox.digest);
    expect(resolved.manifest.layers.map((l) => l.digest)).to.deep.equal(images.busybox.image.layers.map((l) => l.digest));
    expect(resolved.chainId).to.equal(images.busybox.image.layers[0]!.diffId); // one layer: chain ID = diff ID
    expect((await client.snapshots.stat(resolved.chainId!)).kind).to.equal('committed');
  });

  it('runs an image pulled by ctr to exit (≈ ctr run --rm): stdout, stderr, exit code, and nothing left', async () => {
    const id = newId('ck-task');
    const resolved = await resolveImage(client, images.busybox.reference);
    const spec = await generateSpec([withImageConfig(resolved.config, { args: ['sh', '-c', 'echo out; echo err >&2; exit 5'] })], {
      id,
      namespace: fixture.namespace,
    });
    const container = await client.createContainer(id, { spec, image: images.busybox.reference, labels: { test: 'task' } });
    const info = await container.info();
    expect(info).to.include({ image: images.busybox.reference, snapshotKey: id, snapshotter: 'overlayfs' });
    expect(info.runtime.name).to.equal('io.containerd.runc.v2');
    expect((await client.snapshots.stat(id)).parent).to.equal(resolved.chainId);
    expect(await client.leases.list()).to.deep.equal([]); // no lease: the record holds the snapshot
    // A GC pass (a synchronous image delete triggers one) keeps the snapshot the record names.
    const scratch = `example.test/gc-trigger:${randomBytes(3).toString('hex')}`;
    await client.images.create({ name: scratch, target: resolved.record.target });
    await client.images.delete(scratch, { sync: true });
    expect((await client.snapshots.stat(id)).kind).to.equal('active');

    const task = await container.newTask({ fifoDir });
    expect(task.pid).to.be.greaterThan(0);
    expect((await task.status()).status).to.equal('created');
    const output = Promise.all([text(task.stdout), text(task.stderr)]);
    const exited = task.wait();
    await task.start();
    const exit = await exited;
    expect(exit.code).to.equal(5);
    expect(await output).to.deep.equal(['out\n', 'err\n']);
    expect((await task.delete()).code).to.equal(5);
    await container.delete();
    expect((await fixture.ctr(['containers', 'ls', '-q'])).split('\n')).to.not.include(id);
    expect(await snapshotKeys()).to.not.include(id);
  });

  it('execs into a running task, attaches from a second handle, kills it, and refuses to delete early', async () => {
    const id = newId('ck-exec');
    const container = await client.createContainer(id, { spec: await specFor(id, 'sleep', '300'), image: images.busybox.reference });
    const task = await container.newTask({ stdio: { stdout: 'null' } });
    expect(task.stdout).to.equal(undefined);
    expect(task.stderr).to.equal(undefined);
    expect((await task.status()).stdio).to.deep.equal({ stdin: '', stdout: '', stderr: '' }); // nothing wired (ctr's --null-io)
    const exited = task.wait();
    await task.start();
    expect((await task.pids()).map((p) => p.pid)).to.include(task.pid);

    const exec = await task.exec(
      'e1',
      { args: ['sh', '-c', 'read line; echo "got $line"; exit 4'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
      { fifoDir, stdio: { stdin: true } },
    );
    const execExit = exec.wait();
    const execOut = text(exec.stdout);
    await exec.start();
    expect(exec.pid).to.be.greaterThan(0);
    expect((await task.pids()).find((p) => p.pid === exec.pid)?.execId).to.equal('e1');
    exec.stdin!.end('hello\n');
    expect((await execExit).code).to.equal(4);
    expect(await execOut).to.equal('got hello\n');
    await exec.delete();

    const early = await container.delete().catch((e: unknown) => e);
    expect(early, String(early)).to.be.instanceOf(FailedPreconditionError);
    const busy = await task.delete().catch((e: unknown) => e);
    expect(busy, String(busy)).to.be.instanceOf(FailedPreconditionError);

    const attached = await (await client.loadContainer(id)).task();
    expect(attached.pid).to.equal(task.pid);
    await attached.pause();
    expect((await attached.status()).status).to.equal('paused');
    await attached.resume();
    const metrics = await attached.metrics();
    expect(metrics?.typeUrl).to.match(/cgroups/);
    await attached.kill(9);
    expect((await exited).code).to.equal(137);
    await attached.delete();
    await container.delete();
    expect(await snapshotKeys()).to.not.include(id);
  });

  it('maps NotFound and AlreadyExists, and leaves no snapshot behind a failed create', async () => {
    const missing = await client
      .createContainer(newId('ck-missing'), { spec: await specFor('x', 'true'), image: 'example.test/none:latest' })
      .catch((e: unknown) => e);
    expect(missing).to.be.instanceOf(NotFoundError);
    expect(await client.loadContainer('ck-no-such').catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);

    const id = newId('ck-dup');
    const container = await client.createContainer(id, { spec: await specFor(id, 'true'), image: images.busybox.reference });
    const before = await snapshotKeys();
    const dup = await client
      .createContainer(id, { spec: await specFor(id, 'true'), image: images.busybox.reference, snapshot: { key: `${id}-second` } })
      .catch((e: unknown) => e);
    expect(dup, String(dup)).to.be.instanceOf(AlreadyExistsError);
    expect(await snapshotKeys()).to.deep.equal(before); // the second snapshot was removed again
    // A snapshot key in use: the record made for it is deleted again.
    const other = newId('ck-key');
    const taken = await client
      .createContainer(other, { spec: await specFor(other, 'true'), image: images.busybox.reference, snapshot: { key: id } })
      .catch((e: unknown) => e);
    expect(taken, String(taken)).to.be.instanceOf(AlreadyExistsError);
    expect(await client.containers.get(other).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
    const task = await container.newTask({ stdio: { stdout: 'null' } });
    const again = await container.newTask({ stdio: { stdout: 'null' } }).catch((e: unknown) => e);
    expect(again, String(again)).to.be.instanceOf(AlreadyExistsError);
    await task.delete();
    await container.delete();
  });

  it('takes stdio made beforehand (createTaskIO alongside createContainer) and closes it with the task', async () => {
    const id = newId('ck-preio');
    const [container, io] = await Promise.all([
      client.createContainer(id, { spec: await specFor(id, 'sh', '-c', 'echo early-io'), image: images.busybox.reference }),
      createTaskIO(id, { fifoDir }),
    ]);
    const task = await container.newTask({ io });
    expect(task.stdout).to.equal(io.stdout);
    const output = text(io.stdout);
    const exited = task.wait();
    await task.start();
    expect((await exited).code).to.equal(0);
    expect(await output).to.equal('early-io\n');
    await task.delete();
    expect(existsSync(dirname(io.paths.stdout))).to.equal(false); // the task's delete closed it
    await container.delete();
  });

  it('creates a container without a snapshot when the spec names a host rootfs', async () => {
    const id = newId('ck-hostroot');
    const container = await client.createContainer(id, { spec: await specFor(id, 'true'), snapshot: false });
    expect((await container.info()).snapshotKey).to.equal('');
    await container.delete();
    expect(await client.containers.get(id).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
  });
});
