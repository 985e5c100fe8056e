import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { expect } from 'chai';
import { ContainerdClient } from '../../../lib/containerd/index.js';
import { AlreadyExistsError, type ContainerkitError, hasCode, NotFoundError, UnavailableError } from '../../../lib/errors/index.js';
import { type ContainerdFixture, startContainerd } from '../../fixtures/containerd.js';

const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('ContainerdClient against a real containerd (basics, content)', function () {
  this.timeout(120_000);
  let fixture: ContainerdFixture;
  let client: ContainerdClient;

  before(async () => {
    fixture = await startContainerd();
    client = new ContainerdClient({ address: fixture.address, namespace: fixture.namespace });
  });

  after(async () => {
    await client?.close();
    await fixture?.stop();
  });

  it('reports the version ctr reports, and the loaded plugins', async () => {
    const version = await client.version();
    const ctrVersion = await fixture.ctr(['version']);
    expect(ctrVersion).to.include(version.version);
    expect(version.revision).to.be.a('string').and.not.equal('');
    const snapshotters = await client.plugins(['type==io.containerd.snapshotter.v1']);
    expect(snapshotters.map((p) => p.id)).to.include('overlayfs');
    expect(snapshotters.every((p) => p.type === 'io.containerd.snapshotter.v1')).to.equal(true);
    const server = await client.introspection.server();
    expect(server.uuid).to.match(/^[0-9a-f-]{36}$/);
  });

  it('creates, lists and deletes namespaces, visible to ctr', async () => {
    const name = `ck-ns-${randomBytes(3).toString('hex')}`;
    await client.namespaces.create(name, { team: 'a' });
    expect((await fixture.ctr(['namespaces', 'ls', '-q'])).split('\n')).to.include(name);
    const listed = await client.namespaces.list();
    expect(listed.find((n) => n.name === name)?.labels).to.deep.equal({ team: 'a' });
    const err = await client.namespaces.create(name).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AlreadyExistsError);
    expect((err as AlreadyExistsError).code).to.equal('ERR_CONTAINERD_ALREADY_EXISTS');
    await client.namespaces.delete(name);
    expect((await fixture.ctr(['namespaces', 'ls', '-q'])).split('\n')).to.not.include(name);
  });

  it('maps an unknown container to a typed NotFound with the method in details', async () => {
    const err = await client.containers.get('no-such-container').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NotFoundError);
    expect((err as NotFoundError).code).to.equal('ERR_CONTAINERD_NOT_FOUND');
    expect((err as NotFoundError).details).to.include({ grpcCode: 5, method: '/containerd.services.containers.v1.Containers/Get' });
    const taskErr = await client.tasks.get('no-such-container').catch((e: unknown) => e);
    expect(taskErr).to.be.instanceOf(NotFoundError);
  });

  it('rejects with the reason of an already-aborted signal, without calling', async () => {
    const reason = new Error('stop before start');
    const ac = new AbortController();
    ac.abort(reason);
    const err = await client.version({ signal: ac.signal }).catch((e: unknown) => e);
    expect(err).to.equal(reason);
    const err2 = await client.containers.create({ id: 'never', spec: { ociVersion: '1.0.2' } }, { signal: ac.signal }).catch((e: unknown) => e);
    expect(err2).to.equal(reason);
    expect(await fixture.ctr(['containers', 'ls', '-q'])).to.not.include('never');
  });

  it('rejects a call that times out with ERR_DEADLINE_EXCEEDED', async () => {
    const err = await client.events
      .subscribe([], { timeoutMs: 200 })
      [Symbol.asyncIterator]()
      .next()
      .catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_DEADLINE_EXCEEDED')).to.equal(true);
    expect((err as ContainerkitError).details).to.include({ transport: 'grpc', timeoutMs: 200 });
  });

  it('fails a call on a closed client with a coded Unavailable error, not grpc-js\'s bare "Channel has been shut down"', async () => {
    const other = new ContainerdClient({ address: fixture.address, namespace: fixture.namespace });
    expect((await other.version()).version).to.be.a('string');
    await other.close();
    const err = await other.tasks.kill('any-task', 9).catch((e: unknown) => e);
    expect(err, String(err)).to.be.instanceOf(UnavailableError);
    expect((err as UnavailableError).code).to.equal('ERR_CONTAINERD_UNAVAILABLE');
    expect((err as UnavailableError).message).to.equal(`containerd /containerd.services.tasks.v1.Tasks/Kill: the client for ${fixture.address} is closed`);
    expect((err as UnavailableError).cause).to.have.property('message', 'Channel has been shut down');
  });

  it('gives a clear Unavailable error when the socket does not exist', async () => {
    const missing = join(fixture.dir, 'no-such.sock');
    const other = new ContainerdClient({ address: missing });
    try {
      const err = await other.version({ timeoutMs: 10_000 }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(UnavailableError);
      expect((err as UnavailableError).code).to.equal('ERR_CONTAINERD_UNAVAILABLE');
      expect((err as UnavailableError).message).to.include(missing);
      expect((err as UnavailableError).details.address).to.equal(missing);
    } finally {
      await other.close();
    }
  });

  it('writes a small blob, reads it back, lists and deletes it', async () => {
    const data = Buffer.from(`hello containerd ${randomBytes(8).toString('hex')}\n`);
    const digest = sha256(data);
    const wrote = await client.content.writeBlob(`test-${digest}`, { digest, size: data.length }, () => data, { labels: { 'containerd.io/gc.root': 'x' } });
    expect(wrote).to.equal(true);
    const info = await client.content.info(digest);
    expect(info).to.include({ digest, size: data.length });
    expect(info.labels).to.deep.equal({ 'containerd.io/gc.root': 'x' });
    expect((await client.content.readAll(digest)).equals(data)).to.equal(true);
    expect((await client.content.readAll(digest, { offset: 6, size: 10 })).toString()).to.equal(data.subarray(6, 16).toString());
    expect((await client.content.list()).map((i) => i.digest)).to.include(digest);
    expect(await fixture.ctr(['content', 'ls', '-q'])).to.include(digest);
    // A second write of the same blob is skipped: containerd answers AlreadyExists at STAT.
    expect(await client.content.writeBlob(`test2-${digest}`, { digest, size: data.length }, () => data)).to.equal(false);
    const updated = await client.content.setLabels(digest, { extra: 'y' });
    expect(updated.labels).to.deep.equal({ 'containerd.io/gc.root': 'x', extra: 'y' });
    await client.content.delete(digest);
    const err = await client.content.info(digest).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NotFoundError);
  });

  it('resumes a write aborted mid-way from the offset containerd reports', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const digest = sha256(data);
    const ref = `resume-${digest}`;
    const first = await client.content.writer({ ref, expected: { digest, size: data.length } });
    expect((await first.status()).offset).to.equal(0);
    await first.write(data.subarray(0, 1_500_000));
    expect((await first.status()).offset).to.equal(1_500_000);
    await first.close(); // the stream ends without a commit: the ingest stays
    const status = await client.content.status(ref);
    expect(status).to.include({ ref, offset: 1_500_000, total: data.length });
    expect((await client.content.listStatuses()).map((s) => s.ref)).to.include(ref);

    const second = await client.content.writer({ ref, expected: { digest, size: data.length } });
    const { offset } = await second.status();
    expect(offset).to.equal(1_500_000);
    await second.write(data.subarray(offset));
    // A GC root label: a GC pass (scheduled by earlier deletions) must not take the blob before it is read back.
    const committed = await second.commit(data.length, digest, { labels: { 'containerd.io/gc.root': 'test' } });
    expect(committed).to.equal(digest);
    expect((await client.content.readAll(digest)).equals(data)).to.equal(true);
    const gone = await client.content.status(ref).catch((e: unknown) => e);
    expect(gone).to.be.instanceOf(NotFoundError);
    await client.content.delete(digest);
  });

  it('writes a blob of many requests from one buffer the caller refills after every write, byte for byte', async () => {
    const data = randomBytes(7 * 1024 * 1024 + 333);
    const digest = sha256(data);
    const w = await client.content.writer({ ref: `refill-${digest}`, expected: { digest, size: data.length } });
    // The writer may still be sending earlier requests when write() returns: each must carry the bytes it was given.
    const scratch = Buffer.alloc(100_003);
    for (let at = 0; at < data.length; at += scratch.length) {
      const n = data.copy(scratch, 0, at, at + scratch.length);
      await w.write(scratch.subarray(0, n));
      scratch.fill(0xee);
    }
    expect(await w.commit(data.length, digest, { labels: { 'containerd.io/gc.root': 'test' } })).to.equal(digest);
    expect((await client.content.readAll(digest)).equals(data)).to.equal(true);
    await client.content.delete(digest);
  });

  it('maps a commit containerd refuses for its digest to ERR_DIGEST_MISMATCH (its Content/Write answer as cause), and stores no blob under the wrong digest', async () => {
    const data = randomBytes(1000);
    const ref = `wrong-${randomBytes(4).toString('hex')}`;
    const wrong = sha256(Buffer.from('something else'));
    const err = await client.content.writeBlob(ref, { digest: wrong, size: data.length }, () => data).catch((e: unknown) => e);
    // containerd's FailedPrecondition ("unexpected commit digest") is the digest mismatch it is, with containerd's answer kept.
    expect(err).to.include({ code: 'ERR_DIGEST_MISMATCH' });
    expect((err as { details: Record<string, unknown> }).details).to.include({ expected: wrong, actual: sha256(data) });
    const cause = (err as { cause: { code: string; details: Record<string, unknown> } }).cause;
    expect(cause.code).to.equal('ERR_CONTAINERD_FAILED_PRECONDITION');
    expect(cause.details).to.include({ grpcCode: 9, method: '/containerd.services.content.v1.Content/Write' });
    expect(await client.content.info(wrong).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
    // The refused bytes stay in their ingest (as containerd keeps them) until aborted.
    expect((await client.content.status(ref)).offset).to.equal(data.length);
    await client.content.abort(ref);
    expect(await client.content.status(ref).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
  });

  it('rejects a write with the reason of its signal when aborted mid-way, and one to a missing socket as Unavailable', async () => {
    const controller = new AbortController();
    const reason = new Error('stop writing');
    const data = randomBytes(32 * 1024 * 1024);
    const source = async function* (): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < data.length; at += 1 << 20) {
        if (at === 4 << 20) controller.abort(reason);
        yield data.subarray(at, at + (1 << 20));
      }
    };
    const ref = `aborted-${randomBytes(4).toString('hex')}`;
    const err = await client.content
      .writeBlob(ref, { digest: sha256(data), size: data.length }, () => source(), { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(err).to.equal(reason);
    expect((await client.content.status(ref)).offset).to.be.below(data.length);
    await client.content.abort(ref);

    const missing = join(fixture.dir, 'no-such.sock');
    const other = new ContainerdClient({ address: missing });
    try {
      const down = await other.content.writeBlob('x', { digest: sha256(data), size: data.length }, () => data).catch((e: unknown) => e);
      expect(down).to.be.instanceOf(UnavailableError);
      expect((down as UnavailableError).message).to.include(missing);
    } finally {
      await other.close();
    }
  });

  it('a lease protects unreferenced content from GC until it is deleted', async () => {
    const leased = randomBytes(64);
    const loose = randomBytes(64);
    const lease = await client.leases.create();
    await client.withLease(lease.id).content.writeBlob('leased', { digest: sha256(leased), size: 64 }, () => leased);
    await client.content.writeBlob('loose', { digest: sha256(loose), size: 64 }, () => loose);
    expect(await client.leases.listResources(lease.id)).to.deep.include({ id: sha256(leased), type: 'content' });
    // Deleting an image with sync runs a GC pass before it returns.
    const desc = { mediaType: 'application/octet-stream', digest: sha256(leased) as never, size: 64 };
    await client.images.create({ name: 'example.test/gc:trigger', target: desc });
    await client.images.delete('example.test/gc:trigger', { sync: true });
    expect((await client.content.info(sha256(leased))).size).to.equal(64);
    expect(await client.content.info(sha256(loose)).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
    await client.leases.delete(lease.id, { sync: true });
    expect(await client.content.info(sha256(leased)).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
  });

  it('aborts an ingest', async () => {
    const ref = `abort-${randomBytes(4).toString('hex')}`;
    const w = await client.content.writer({ ref });
    await w.write(Buffer.from('partial'));
    await w.close();
    expect((await client.content.status(ref)).offset).to.equal(7);
    await client.content.abort(ref);
    expect(await client.content.status(ref).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
  });
});
