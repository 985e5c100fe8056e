// The conformance suite every ContentStore implementation runs (like containerd's content testsuite): give it a
// name and a factory that opens a fresh store; it registers mocha tests.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { ContentStore } from '../lib/content/index.js';
import type { Digest } from '../lib/oci/index.js';

const run = promisify(execFile);

export interface ContentSuiteStore {
  store: ContentStore;
  /** The directory holding the store (the cross-process race spawns children on it). */
  root: string;
  /** Opens a second handle on the same storage (another "process" in-process). */
  reopen?: () => Promise<ContentStore>;
}

function digestOf(bytes: Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
}

function pattern(size: number, seed = 0): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

/** Registers the ContentStore conformance tests for one implementation. */
export function contentStoreSuite(name: string, factory: () => Promise<ContentSuiteStore>): void {
  describe(`ContentStore conformance: ${name}`, () => {
    let s: ContentSuiteStore;
    beforeEach(async () => {
      s = await factory();
    });

    it('writes, commits and reads back a blob; info, readerAt (random access and streams) and walk see it', async () => {
      const bytes = pattern(300_000);
      const w = await s.store.writer({ ref: 'one', expected: { digest: digestOf(bytes), size: bytes.length } });
      await w.write(bytes.subarray(0, 1000));
      await w.write(bytes.subarray(1000));
      expect(w.digest()).to.equal(digestOf(bytes));
      expect(await w.commit(bytes.length, digestOf(bytes))).to.equal(digestOf(bytes));
      const info = await s.store.info(digestOf(bytes));
      expect(info.size).to.equal(bytes.length);
      const r = await s.store.readerAt(digestOf(bytes));
      expect(r.size).to.equal(bytes.length);
      expect((await r.read(12345, 100)).equals(bytes.subarray(12345, 12445))).to.equal(true);
      expect((await r.read(bytes.length - 10, 100)).length).to.equal(10);
      const tail = await buffer(r.stream(299_990));
      expect(tail.equals(bytes.subarray(299_990))).to.equal(true);
      await r.close();
      const seen: string[] = [];
      await s.store.walk((i) => void seen.push(i.digest));
      expect(seen).to.deep.equal([digestOf(bytes)]);
      expect(await s.store.listStatuses()).to.deep.equal([]);
    });

    it('nothing is readable before commit, and a wrong digest or size never becomes a blob', async () => {
      const bytes = pattern(5000);
      const w = await s.store.writer({ ref: 'bad' });
      await w.write(bytes);
      expect(await codeOf(s.store.info(digestOf(bytes)))).to.equal('ERR_NOT_FOUND');
      expect(await codeOf(w.commit(bytes.length, digestOf(pattern(5000, 1))))).to.equal('ERR_DIGEST_MISMATCH');
      expect(await codeOf(w.commit(bytes.length + 1))).to.equal('ERR_SIZE_MISMATCH');
      const blobs: string[] = [];
      await s.store.walk((i) => void blobs.push(i.digest));
      expect(blobs).to.deep.equal([]);
      await w.close();
      await s.store.abort('bad');
      expect(await codeOf(s.store.status('bad'))).to.equal('ERR_NOT_FOUND');
    });

    it('resumes: a writer reopened with the same ref continues from its offset', async () => {
      const bytes = pattern(100_000, 7);
      const w1 = await s.store.writer({ ref: 'resume', expected: { digest: digestOf(bytes), size: bytes.length } });
      await w1.write(bytes.subarray(0, 40_000));
      await w1.close();
      const st = await s.store.status('resume');
      expect(st.offset).to.equal(40_000);
      expect(st.expected).to.equal(digestOf(bytes));
      expect(st.total).to.equal(bytes.length);
      const store2 = s.reopen ? await s.reopen() : s.store;
      const w2 = await store2.writer({ ref: 'resume', expected: { digest: digestOf(bytes), size: bytes.length } });
      expect((await w2.status()).offset).to.equal(40_000);
      await w2.write(bytes.subarray(40_000));
      await w2.commit();
      expect((await s.store.info(digestOf(bytes))).size).to.equal(bytes.length);
    });

    it('one writer per ref: a second one fails with ERR_INGEST_LOCKED, or waits with lockTimeoutMs', async () => {
      const w1 = await s.store.writer({ ref: 'excl' });
      expect(await codeOf(s.store.writer({ ref: 'excl' }))).to.equal('ERR_INGEST_LOCKED');
      expect(await codeOf(s.store.abort('excl'))).to.equal('ERR_INGEST_LOCKED');
      const waiting = s.store.writer({ ref: 'excl', lockTimeoutMs: 5000 });
      setTimeout(() => void w1.close(), 100);
      const w2 = await waiting;
      await w2.close();
    });

    it('commit of a digest already present is ERR_ALREADY_EXISTS and leaves one blob; so is opening with it expected', async () => {
      const bytes = pattern(2000, 3);
      const a = await s.store.writer({ ref: 'a' });
      const b = await s.store.writer({ ref: 'b' });
      await a.write(bytes);
      await b.write(bytes);
      await a.commit(bytes.length, digestOf(bytes));
      expect(await codeOf(b.commit(bytes.length, digestOf(bytes)))).to.equal('ERR_ALREADY_EXISTS');
      expect(await codeOf(s.store.writer({ ref: 'c', expected: { digest: digestOf(bytes) } }))).to.equal('ERR_ALREADY_EXISTS');
      expect(await s.store.listStatuses()).to.deep.equal([]);
      expect((await s.store.info(digestOf(bytes))).size).to.equal(2000);
    });

    it('rejects invalid digests before they become paths, and delete removes a blob', async () => {
      for (const bad of ['sha256:../../etc/passwd', 'sha256:ABC', '../x', 'md5:abcd']) {
        expect(await codeOf(s.store.info(bad))).to.match(/ERR_INVALID_DIGEST|ERR_UNSUPPORTED_DIGEST_ALGORITHM/);
        expect(await codeOf(s.store.readerAt(bad))).to.match(/ERR_INVALID_DIGEST|ERR_UNSUPPORTED_DIGEST_ALGORITHM/);
      }
      const bytes = pattern(10);
      const w = await s.store.writer({ ref: 'd' });
      await w.write(bytes);
      await w.commit();
      await s.store.delete(digestOf(bytes));
      expect(await codeOf(s.store.delete(digestOf(bytes)))).to.equal('ERR_NOT_FOUND');
      expect(await codeOf(s.store.readerAt(digestOf(bytes)))).to.equal('ERR_NOT_FOUND');
    });

    it('honours an already-aborted signal', async () => {
      const c = new AbortController();
      c.abort();
      expect(await codeOf(s.store.writer({ ref: 'x', signal: c.signal }))).to.not.equal(undefined);
      expect(await codeOf(s.store.info(digestOf(pattern(1)), { signal: c.signal }))).to.not.equal('ERR_NOT_FOUND');
    });

    it('the directory stays a valid OCI layout', async () => {
      const layout = JSON.parse(await readFile(join(s.root, 'oci-layout'), 'utf8')) as { imageLayoutVersion: string };
      expect(layout.imageLayoutVersion).to.equal('1.0.0');
      const index = JSON.parse(await readFile(join(s.root, 'index.json'), 'utf8')) as { schemaVersion: number; manifests: unknown[] };
      expect(index.schemaVersion).to.equal(2);
      expect(index.manifests).to.be.an('array');
    });

    it('two processes writing the same content under the same ref and under different refs end with one intact blob', async function () {
      this.timeout(60_000);
      const size = 2_000_000;
      const bytes = pattern(size, 5);
      const child = (ref: string): Promise<string> =>
        run(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'content-writer-child.ts'), s.root, String(size), ref, '5']).then((r) =>
          r.stdout.trim(),
        );
      const outcomes = await Promise.all([child('same'), child('same'), child('other-1'), child('other-2')]);
      // Each either committed or found the blob already there; at least one committed.
      for (const o of outcomes) expect(o).to.be.oneOf(['committed', 'ERR_ALREADY_EXISTS']);
      expect(outcomes).to.include('committed');
      const r = await s.store.readerAt(digestOf(bytes));
      expect(digestOf(await r.read(0, size))).to.equal(digestOf(bytes));
      await r.close();
      expect(await readdir(join(s.root, 'blobs', 'sha256'))).to.have.length(1);
      // The ingest of the later 'same' writer found the blob committed: no ingest is left over anywhere.
      expect((await s.store.listStatuses()).map((x) => x.ref)).to.deep.equal([]);
    });
  });
}
