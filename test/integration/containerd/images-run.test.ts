import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { expect } from 'chai';
import { ContainerdClient, type ContainerdEvent, createTaskIO, type ImageRecord } from '../../../lib/containerd/index.js';
import { FailedPreconditionError, NotFoundError } from '../../../lib/errors/index.js';
import { chainId } from '../../../lib/oci/index.js';
import { generateSpec, withProcessArgs } from '../../../lib/runtime/index.js';
import { type ContainerdFixture, startContainerd } from '../../fixtures/containerd.js';
import { type PushedImages, withPushedImages } from '../../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../fixtures/registry.js';

interface Manifest {
  config: { digest: string; size: number; mediaType: string };
  layers: Array<{ digest: string; size: number; mediaType: string }>;
}

describe('ContainerdClient against a real containerd (images, snapshots, diff, tasks, events)', function () {
  this.timeout(180_000);
  let fixture: ContainerdFixture;
  let registry: RegistryFixture;
  let images: PushedImages;
  let client: ContainerdClient;
  let pulled: ImageRecord;
  let manifest: Manifest;
  let diffIds: string[];

  before(async () => {
    [fixture, registry] = await Promise.all([startContainerd(), startRegistry()]);
    images = await withPushedImages(registry);
    client = new ContainerdClient({ address: fixture.address, namespace: fixture.namespace });
    // Pulled (and unpacked into overlayfs) by ctr: containerkit's own pull is not part of this suite.
    await fixture.ctr(['images', 'pull', '--plain-http', images.busybox.reference]);
    pulled = await client.images.get(images.busybox.reference);
    manifest = JSON.parse((await client.content.readAll(pulled.target.digest)).toString()) as Manifest;
    const config = JSON.parse((await client.content.readAll(manifest.config.digest)).toString()) as { rootfs: { diff_ids: string[] } };
    diffIds = config.rootfs.diff_ids;
  });

  after(async () => {
    await client?.close();
    await fixture?.stop();
    await registry?.stop();
  });

  it('lists an image pulled by ctr and reads its manifest through content', async () => {
    const listed = await client.images.list();
    expect(listed.map((i) => i.name)).to.include(images.busybox.reference);
    expect(pulled.target.digest).to.equal(images.busybox.digest);
    expect(manifest.layers).to.have.length(images.busybox.image.layers.length);
    expect(manifest.layers[0]!.digest).to.equal(images.busybox.image.layers[0]!.digest);
    const filtered = await client.images.list([`name==${images.busybox.reference}`]);
    expect(filtered).to.have.length(1);
  });

  it('records an image that ctr lists, updates and deletes it', async () => {
    const name = `example.test/containerkit/copy:${randomBytes(3).toString('hex')}`;
    const created = await client.images.create({ name, target: pulled.target, labels: { origin: 'containerkit' } });
    expect(created.target).to.deep.equal(pulled.target);
    expect((await fixture.ctr(['images', 'ls', '-q'])).split('\n')).to.include(name);
    const updated = await client.images.update(name, { labels: { more: '1' } });
    expect(updated.labels).to.deep.equal({ origin: 'containerkit', more: '1' });
    await client.images.delete(name);
    expect((await fixture.ctr(['images', 'ls', '-q'])).split('\n')).to.not.include(name);
    expect(await client.images.get(name).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
  });

  it('prepares, commits, stats, lists and removes snapshots (inside a lease, so GC keeps them)', async () => {
    const lease = await client.leases.create({ expiresInMs: 600_000 });
    const leased = client.withLease(lease.id);
    const key = `ck-active-${randomBytes(3).toString('hex')}`;
    const mounts = await leased.snapshots.prepare(key, '', { labels: { test: '1' } });
    expect(await client.leases.listResources(lease.id)).to.deep.include({ id: key, type: 'snapshots/overlayfs' });
    expect(mounts).to.have.length(1);
    expect(mounts[0]!.type).to.equal('bind');
    expect((await client.snapshots.stat(key)).kind).to.equal('active');
    expect(await client.snapshots.mounts(key)).to.deep.equal(mounts);
    const name = `ck-committed-${randomBytes(3).toString('hex')}`;
    await leased.snapshots.commit(name, key, { labels: { test: '1' } });
    const info = await client.snapshots.stat(name);
    expect(info).to.include({ name, kind: 'committed', parent: '' });
    expect(info.labels).to.deep.equal({ test: '1' });
    expect((await client.snapshots.list()).map((s) => s.name)).to.include(name);
    expect(await client.snapshots.stat(key).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
    const usage = await client.snapshots.usage(name);
    expect(usage.inodes).to.be.a('number');
    await client.snapshots.remove(name);
    expect(await client.snapshots.stat(name).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
    await client.leases.delete(lease.id);
    expect((await client.leases.list()).map((l) => l.id)).to.not.include(lease.id);
  });

  it('applies a layer blob from the content store into a snapshot with Diff.Apply', async () => {
    const key = `ck-apply-${randomBytes(3).toString('hex')}`;
    const lease = await client.leases.create({ expiresInMs: 600_000 });
    const leased = client.withLease(lease.id);
    const mounts = await leased.snapshots.prepare(key);
    const layer = manifest.layers[0]!;
    const applied = await client.diff.apply({ mediaType: layer.mediaType, digest: layer.digest as never, size: layer.size }, mounts);
    expect(applied.digest).to.equal(diffIds[0]);
    const name = `ck-applied-${randomBytes(3).toString('hex')}`;
    await leased.snapshots.commit(name, key);
    const usage = await client.snapshots.usage(name);
    expect(usage.size).to.be.greaterThan(100_000); // busybox is in there
    await client.snapshots.remove(name);
    await client.leases.delete(lease.id);
  });

  it('runs a container composed from parts (≈ ctr run --rm): stdout, exit code, events', async () => {
    const id = `ck-run-${randomBytes(3).toString('hex')}`;
    const parent = chainId(diffIds);
    expect((await client.snapshots.stat(parent)).kind).to.equal('committed'); // ctr pull unpacked it

    const ac = new AbortController();
    const events: ContainerdEvent[] = [];
    const subscribed = (async () => {
      for await (const e of client.events.subscribe([`topic~="/tasks/"`], { signal: ac.signal })) events.push(e);
    })();

    const spec = await generateSpec([withProcessArgs('sh', '-c', 'echo hello; exit 3')], { id, namespace: fixture.namespace });
    // As ctr: the snapshot is prepared inside a lease, so GC cannot take it before the container references it.
    const rootfs = await client.inLease(async (leased) => {
      const mounts = await leased.snapshots.prepare(id, parent);
      await leased.containers.create({ id, spec, image: pulled.name, snapshotter: 'overlayfs', snapshotKey: id, labels: { test: 'run' } });
      return mounts;
    });
    expect((await fixture.ctr(['containers', 'ls', '-q'])).split('\n')).to.include(id);
    expect((await client.containers.get(id)).spec?.process?.args).to.deep.equal(['sh', '-c', 'echo hello; exit 3']);

    const io = await createTaskIO(id, { fifoDir: join(fixture.dir, 'fifo') });
    try {
      const { pid } = await client.tasks.create(id, { rootfs, stdio: io.paths });
      expect(pid).to.be.greaterThan(0);
      expect((await client.tasks.get(id)).status).to.equal('created');
      const out = text(io.stdout!);
      const waited = client.tasks.wait(id);
      await client.tasks.start(id);
      const exit = await waited;
      expect(exit.code).to.equal(3);
      expect(exit.exitedAt).to.be.instanceOf(Date);
      const stopped = await client.tasks.get(id);
      expect(stopped.status).to.equal('stopped');
      expect(stopped.exit).to.deep.equal(exit);
      expect(stopped.execId).to.equal(undefined);
      expect(await out).to.equal('hello\n');
      const deleted = await client.tasks.delete(id);
      expect(deleted.code).to.equal(3);
    } finally {
      await io.close();
    }
    // The snapshot first, as ctr does: once the record is gone, containerd's GC may take the snapshot at any moment.
    await client.snapshots.remove(id);
    await client.containers.delete(id);
    expect(await client.containers.get(id).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);

    // Events are delivered asynchronously: give the exit/delete a moment to arrive.
    for (let i = 0; i < 50 && !events.some((e) => e.topic === '/tasks/delete'); i++) await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    await subscribed; // abort ends the iteration without an error
    const mine = events.filter((e) => 'containerId' in e && e.containerId === id);
    expect(mine.map((e) => e.topic)).to.include.members(['/tasks/create', '/tasks/start', '/tasks/exit', '/tasks/delete']);
    const exitEvent = mine.find((e) => e.type === 'exit');
    expect(exitEvent?.type === 'exit' && exitEvent.code).to.equal(3);
    expect(exitEvent?.type === 'exit' && exitEvent.exitedAt).to.be.instanceOf(Date);
    expect(exitEvent?.type === 'exit' && exitEvent.execId).to.equal(undefined); // the init process
    expect(exitEvent?.namespace).to.equal(fixture.namespace);
    const deleteEvent = mine.find((e) => e.type === 'delete');
    expect(deleteEvent?.type === 'delete' && deleteEvent.code).to.equal(3);
  });

  it('sees the events of a container that ctr creates and removes', async () => {
    const id = `ck-ctr-${randomBytes(3).toString('hex')}`;
    const ac = new AbortController();
    const events: ContainerdEvent[] = [];
    const iterator = client.events.subscribe([`topic~="/containers/"`, `topic~="/tasks/"`], { signal: ac.signal });
    const first = iterator.next(); // the subscription is open once its first pull is in flight
    const consumed = (async () => {
      const r = await first;
      if (!r.done) events.push(r.value);
      for await (const e of iterator) events.push(e);
    })();
    await new Promise((r) => setTimeout(r, 200));
    await fixture.ctr(['run', '--rm', images.busybox.reference, id, 'true']);
    for (let i = 0; i < 50 && !events.some((e) => e.topic === '/containers/delete'); i++) await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    await consumed;
    const create = events.find((e) => e.type === 'containerd.events.ContainerCreate');
    expect(create?.type === 'containerd.events.ContainerCreate' && create.payload.id).to.equal(id);
    expect(create?.type === 'containerd.events.ContainerCreate' && create.payload.image).to.equal(images.busybox.reference);
    const topics = events.map((e) => e.topic);
    expect(topics).to.include.members(['/containers/create', '/tasks/start', '/tasks/exit', '/containers/delete']);
    expect(topics.indexOf('/containers/create')).to.be.lessThan(topics.indexOf('/containers/delete'));
  });

  it('execs into a running task, and refuses to delete a running task', async () => {
    const id = `ck-exec-${randomBytes(3).toString('hex')}`;
    const spec = await generateSpec([withProcessArgs('sleep', '60')], { id, namespace: fixture.namespace });
    const rootfs = await client.inLease(async (leased) => {
      const mounts = await leased.snapshots.prepare(id, chainId(diffIds));
      await leased.containers.create({ id, spec, snapshotter: 'overlayfs', snapshotKey: id });
      return mounts;
    });
    const io = await createTaskIO(id, { fifoDir: join(fixture.dir, 'fifo') });
    const execIo = await createTaskIO(`${id}-exec`, { fifoDir: join(fixture.dir, 'fifo') });
    try {
      await client.tasks.create(id, { rootfs, stdio: io.paths });
      const waited = client.tasks.wait(id);
      await client.tasks.start(id);
      expect((await client.tasks.pids(id)).length).to.be.greaterThan(0);
      const busy = await client.tasks.delete(id).catch((e: unknown) => e);
      expect(busy, String(busy)).to.be.instanceOf(FailedPreconditionError);

      await client.tasks.exec(
        id,
        'e1',
        { args: ['sh', '-c', 'echo from-exec; exit 7'], cwd: '/', env: spec.process!.env!, user: { uid: 0, gid: 0 } },
        { stdio: execIo.paths },
      );
      const execWait = client.tasks.wait(id, { execId: 'e1' });
      const execOut = text(execIo.stdout!);
      await client.tasks.start(id, { execId: 'e1' });
      expect((await execWait).code).to.equal(7);
      expect(await execOut).to.equal('from-exec\n');
      await client.tasks.deleteProcess(id, 'e1');

      await client.tasks.pause(id);
      expect((await client.tasks.get(id)).status).to.equal('paused');
      await client.tasks.resume(id);
      expect((await client.tasks.get(id)).status).to.equal('running');

      await client.tasks.kill(id, 'SIGKILL');
      expect((await waited).code).to.equal(137);
      await client.tasks.delete(id);
    } finally {
      await io.close();
      await execIo.close();
    }
    // The snapshot first, as ctr does: once the record is gone, containerd's GC may take the snapshot at any moment.
    await client.snapshots.remove(id);
    await client.containers.delete(id);
  });
});
