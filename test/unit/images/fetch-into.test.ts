// fetchInto over a LocalContentStore with a stub Fetcher: the blob is hashed once (the Fetcher's check stands for the
// writer's) only while that is sound; and the helpers a pipelined pull-and-unpack uses (BlobArrivals, lease batching).

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { LocalContentStore } from '../../../lib/content/index.js';
import { createLease, fetchInto } from '../../../lib/images/index.js';
import { BlobArrivals } from '../../../lib/images/pull-unpack.js';
import { type Descriptor, type Digest, parseDigest } from '../../../lib/oci/index.js';
import type { Fetcher } from '../../../lib/registry/index.js';
import { codedRejection } from '../../fixtures/assert.js';
import { makeTempDir } from '../../fixtures/tmp.js';

const digestOf = (bytes: Buffer): Digest => parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);

async function freshStore(): Promise<LocalContentStore> {
  return LocalContentStore.open(join(await makeTempDir('fetch-into'), 'layout'));
}

/** A Fetcher that serves `bytes` (from `offset`) in 1 KiB chunks, recording the offsets asked for. */
function stubFetcher(bytes: Buffer, asked: number[] = []): Fetcher {
  return {
    fetch: async (_d: Descriptor, options = {}) => {
      const offset = options.offset ?? 0;
      asked.push(offset);
      const chunks: Buffer[] = [];
      for (let i = offset; i < bytes.length; i += 1024) chunks.push(bytes.subarray(i, Math.min(i + 1024, bytes.length)));
      return Readable.from(chunks);
    },
  };
}

describe('images: fetchInto and the source-verified writer', () => {
  const blob = Buffer.alloc(5000, 'layer bytes ');
  const descriptor: Descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf(blob), size: blob.length };

  it('commits a fetched blob under its digest with the right bytes', async () => {
    const store = await freshStore();
    await fetchInto(store, stubFetcher(blob), descriptor);
    expect(await readFile(store.blobPath(descriptor.digest))).to.deep.equal(blob);
    expect(await store.listStatuses()).to.deep.equal([]);
  });

  it('a sourceVerified writer from byte 0 records the expected digest; digest() still hashes what is on disk', async () => {
    const store = await freshStore();
    const w = await store.writer({ ref: 'v', expected: { digest: descriptor.digest, size: blob.length }, sourceVerified: true });
    await w.write(blob.subarray(0, 100));
    expect(w.digest()).to.equal(digestOf(blob.subarray(0, 100)));
    await w.write(blob.subarray(100));
    expect(await w.commit(blob.length, descriptor.digest)).to.equal(descriptor.digest);
  });

  it('a sourceVerified writer still checks the size, and hashes when asked to commit under another digest', async () => {
    const store = await freshStore();
    const w = await store.writer({ ref: 'v', expected: { digest: descriptor.digest, size: blob.length }, sourceVerified: true });
    await w.write(blob.subarray(0, 10));
    expect((await codedRejection(w.commit(0))).code).to.equal('ERR_SIZE_MISMATCH');
    // Committing fewer bytes than expected is never trusted: they are hashed, and are not the blob.
    expect((await codedRejection(w.commit(10))).code).to.equal('ERR_DIGEST_MISMATCH');
    const other = Buffer.from('0123456789');
    // Ten bytes that are the blob's prefix are not the blob `other`: found by hashing the file.
    expect((await codedRejection(w.commit(10, digestOf(other)))).code).to.equal('ERR_DIGEST_MISMATCH');
    await w.close();
  });

  it('a resumed prefix is hashed: wrong bytes left in the ingest are caught at commit, not trusted', async () => {
    const store = await freshStore();
    const bad = Buffer.from(blob);
    bad.write('CORRUPT', 10);
    // A crashed earlier attempt left 3000 wrong bytes in the ingest.
    const first = await store.writer({ ref: `fetch-${descriptor.digest}`, expected: { digest: descriptor.digest, size: blob.length } });
    await first.write(bad.subarray(0, 3000));
    await first.close();
    // fetchInto resumes at 3000 (a trusting writer would now commit the corrupt prefix), finds the mismatch by
    // hashing, starts over from byte 0 once, and commits the right bytes.
    const asked: number[] = [];
    await fetchInto(store, stubFetcher(blob, asked), descriptor);
    expect(asked).to.deep.equal([3000, 0]);
    expect(await readFile(store.blobPath(descriptor.digest))).to.deep.equal(blob);
  });

  it('sourceVerified needs an expected digest and size', async () => {
    const store = await freshStore();
    expect((await codedRejection(store.writer({ ref: 'x', sourceVerified: true }))).code).to.equal('ERR_INVALID_ARGUMENT');
    expect((await codedRejection(store.writer({ ref: 'x', expected: { digest: descriptor.digest }, sourceVerified: true }))).code).to.equal(
      'ERR_INVALID_ARGUMENT',
    );
    expect((await codedRejection(store.writer({ ref: 'x', sourceVerified: 'yes' as never }))).code).to.equal('ERR_INVALID_ARGUMENT');
  });

  it('a lease takes concurrent additions one after another, all kept', async () => {
    const root = join(await makeTempDir('fetch-into'), 'layout');
    await LocalContentStore.open(root);
    const lease = await createLease(root);
    const digests = Array.from({ length: 8 }, (_v, i) => digestOf(Buffer.from(String(i))));
    await Promise.all(digests.map((d) => lease.add([d])));
    // Each addition builds on the one before: none is lost from the record GC reads.
    expect([...lease.record.digests].sort()).to.deep.equal([...digests].sort());
    const stored = JSON.parse(await readFile(join(root, 'leases', `${lease.id}.json`), 'utf8')) as { digests: string[] };
    expect(stored.digests.sort()).to.deep.equal([...digests].sort());
    await lease.release();
  });
});

describe('images: BlobArrivals', () => {
  const d = (n: number): { digest: string } => ({ digest: `sha256:${String(n).repeat(64)}` });

  it('whenStored resolves once the blob is stored, at once for one already stored', async () => {
    const arrivals = new BlobArrivals();
    let done = false;
    const waiting = arrivals.whenStored(d(1)).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).to.equal(false);
    arrivals.stored(d(2).digest);
    await new Promise((r) => setImmediate(r));
    expect(done).to.equal(false);
    arrivals.stored(d(1).digest);
    await waiting;
    expect(done).to.equal(true);
    await arrivals.whenStored(d(2));
  });

  it('close wakes every waiter; an abort rejects with the reason', async () => {
    const arrivals = new BlobArrivals();
    const controller = new AbortController();
    const reason = new Error('stop');
    const aborted = arrivals.whenStored(d(3), controller.signal).then(
      () => 'resolved',
      (err: unknown) => err,
    );
    controller.abort(reason);
    expect(await aborted).to.equal(reason);
    const woken = arrivals.whenStored(d(4));
    arrivals.close();
    await woken;
    await arrivals.whenStored(d(5));
    // An already-aborted signal wins, even for a blob that needs no wait.
    expect(await arrivals.whenStored(d(5), AbortSignal.abort(reason)).catch((err: unknown) => err)).to.equal(reason);
  });

  it('follow reads a blob while it is written: from the ingest as bytes are reported, then from the blob', async () => {
    const store = await freshStore();
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 'abcdefgh');
    const desc: Descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(big), size: big.length };
    const arrivals = new BlobArrivals();
    const it = arrivals.follow(store, desc)[Symbol.asyncIterator]();
    const w = await store.writer({ ref: 'live', expected: { digest: desc.digest, size: big.length }, sourceVerified: true });
    // Nothing reported yet: the reader waits.
    let first: IteratorResult<Buffer> | undefined;
    const pending = it.next().then((r) => (first = r));
    await new Promise((r) => setTimeout(r, 20));
    expect(first).to.equal(undefined);
    await w.write(big.subarray(0, 1024 * 1024 + 5));
    arrivals.written(desc.digest, 'live', 1024 * 1024 + 5);
    await pending;
    const got: Buffer[] = [first!.value as Buffer];
    got.push((await it.next()).value as Buffer); // the 5 bytes past the first MiB
    expect(Buffer.concat(got)).to.deep.equal(big.subarray(0, 1024 * 1024 + 5));
    await w.write(big.subarray(1024 * 1024 + 5));
    arrivals.written(desc.digest, 'live', big.length);
    await w.commit(big.length);
    arrivals.stored(desc.digest);
    for (let r = await it.next(); !r.done; r = await it.next()) got.push(r.value);
    expect(Buffer.concat(got)).to.deep.equal(big);
  });

  it('follow fails when the download starts over after it took bytes, and rejects with the abort reason', async () => {
    const store = await freshStore();
    const blob = Buffer.alloc(5000, 'layer bytes ');
    const desc: Descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(blob), size: blob.length };
    const arrivals = new BlobArrivals();
    const w = await store.writer({ ref: 'again', expected: { digest: desc.digest, size: blob.length }, sourceVerified: true });
    await w.write(blob.subarray(0, 1000));
    arrivals.written(desc.digest, 'again', 1000);
    const it = arrivals.follow(store, desc)[Symbol.asyncIterator]();
    expect(((await it.next()).value as Buffer).length).to.equal(1000);
    const next = it.next();
    arrivals.written(desc.digest, 'again', 0);
    expect((await codedRejection(next)).code).to.equal('ERR_DIGEST_MISMATCH');
    await w.close();

    const controller = new AbortController();
    const reason = new Error('stop');
    const waiting = arrivals
      .follow(store, { ...desc, digest: digestOf(Buffer.from('other')) }, controller.signal)
      [Symbol.asyncIterator]()
      .next();
    controller.abort(reason);
    expect(await waiting.catch((err: unknown) => err)).to.equal(reason);
  });
});
