import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { ContainerkitError } from '../../../lib/errors/index.js';
import { DigestCalculator, DigestVerifier, digestBuffer, digestFile } from '../../../lib/util/digest-stream.js';
import { codedRejection } from '../../fixtures/assert.js';

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const sha512 = (data: Uint8Array): string => createHash('sha512').update(data).digest('hex');

/** Splits `data` into chunks of `size` bytes, as a stream would deliver them. */
function chunked(data: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) parts.push(data.subarray(at, at + size));
  return Readable.from(parts, { objectMode: false });
}

/** A writable that keeps everything written to it. */
function collector(): { sink: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      cb();
    },
  });
  return { sink, bytes: () => Buffer.concat(parts) };
}

describe('util/digest-stream', () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ck-digest-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('DigestVerifier', () => {
    it('passes every byte through unchanged when digest and size match', async () => {
      const verifier = new DigestVerifier({ algorithm: 'sha256', hex: sha256(data), size: data.length });
      const { sink, bytes } = collector();
      await pipeline(chunked(data, 65536), verifier, sink);
      expect(bytes().equals(data)).to.equal(true);
      expect(verifier.bytesReceived).to.equal(data.length);
    });

    it('works without a size', async () => {
      const { sink, bytes } = collector();
      await pipeline(chunked(data, 1 << 20), new DigestVerifier({ algorithm: 'sha256', hex: sha256(data) }), sink);
      expect(bytes().length).to.equal(data.length);
    });

    it('verifies sha512', async () => {
      const { sink } = collector();
      await pipeline(chunked(data, 100_000), new DigestVerifier({ algorithm: 'sha512', hex: sha512(data), size: data.length }), sink);
      const wrong = sha512(Buffer.from('other'));
      const err = await codedRejection(pipeline(chunked(data, 100_000), new DigestVerifier({ algorithm: 'sha512', hex: wrong }), collector().sink));
      expect(err.code).to.equal('ERR_DIGEST_MISMATCH');
      expect(err.details.actualDigest).to.equal(`sha512:${sha512(data)}`);
    });

    it('a wrong digest rejects a pipeline into a file before the file stream finishes', async () => {
      const wrong = sha256(Buffer.from('not the data'));
      const file = join(dir, 'blob.tmp');
      const out = createWriteStream(file);
      let finished = false;
      out.on('finish', () => {
        finished = true;
      });
      const err = await codedRejection(pipeline(chunked(data, 65536), new DigestVerifier({ algorithm: 'sha256', hex: wrong, size: data.length }), out));
      expect(err.code).to.equal('ERR_DIGEST_MISMATCH');
      expect(err.details).to.include({
        expectedDigest: `sha256:${wrong}`,
        actualDigest: `sha256:${sha256(data)}`,
        expectedSize: data.length,
        actualSize: data.length,
      });
      // The error came from _flush, before the readable side ended: the file stream never reached 'finish'.
      expect(finished).to.equal(false);
    });

    it('detects overflow as soon as it happens, on a source that never ends', async () => {
      const size = 1024 * 1024;
      const chunk = Buffer.alloc(64 * 1024, 7);
      let produced = 0;
      const endless = new Readable({
        read() {
          produced += chunk.length;
          this.push(chunk);
        },
      });
      let passed = 0;
      const sink = new Writable({
        write(c: Buffer, _enc, cb) {
          passed += c.length;
          cb();
        },
      });
      const err = await codedRejection(pipeline(endless, new DigestVerifier({ algorithm: 'sha256', hex: sha256(Buffer.alloc(0)), size }), sink));
      expect(err.code).to.equal('ERR_SIZE_MISMATCH');
      expect(err.details.expectedSize).to.equal(size);
      expect(err.details.actualSize as number).to.be.greaterThan(size);
      // Nothing beyond the expected size reached the consumer, and the source was stopped early.
      expect(passed).to.be.at.most(size);
      expect(produced).to.be.lessThan(size * 4);
    });

    it('does not pass on the chunk that overflows', async () => {
      const { sink, bytes } = collector();
      const err = await codedRejection(pipeline(chunked(data, 1000), new DigestVerifier({ algorithm: 'sha256', hex: sha256(data), size: 2500 }), sink));
      expect(err.code).to.equal('ERR_SIZE_MISMATCH');
      expect(err.details.actualSize).to.equal(3000);
      expect(bytes().equals(data.subarray(0, 2000))).to.equal(true);
    });

    it('a short stream fails with ERR_SIZE_MISMATCH at the end', async () => {
      const short = data.subarray(0, 50);
      const err = await codedRejection(
        pipeline(chunked(short, 20), new DigestVerifier({ algorithm: 'sha256', hex: sha256(short), size: 100 }), collector().sink),
      );
      expect(err.code).to.equal('ERR_SIZE_MISMATCH');
      expect(err.details).to.include({ expectedSize: 100, actualSize: 50, actualDigest: `sha256:${sha256(short)}` });
    });

    it('an empty stream matches the empty digest', async () => {
      const { sink } = collector();
      await pipeline(Readable.from([]), new DigestVerifier({ algorithm: 'sha256', hex: sha256(Buffer.alloc(0)), size: 0 }), sink);
    });

    it('rejects malformed expectations before any byte flows', () => {
      const bad = (fn: () => unknown): string => {
        try {
          fn();
        } catch (e) {
          return (e as ContainerkitError).code;
        }
        return 'no error';
      };
      const hex = sha256(data);
      expect(bad(() => new DigestVerifier({ algorithm: 'md5' as 'sha256', hex }))).to.equal('ERR_UNSUPPORTED_DIGEST_ALGORITHM');
      expect(bad(() => new DigestVerifier({ algorithm: 'sha256', hex: hex.toUpperCase() }))).to.equal('ERR_INVALID_DIGEST');
      expect(bad(() => new DigestVerifier({ algorithm: 'sha512', hex }))).to.equal('ERR_INVALID_DIGEST');
      expect(bad(() => new DigestVerifier({ algorithm: 'sha256', hex, size: -1 }))).to.equal('ERR_INVALID_ARGUMENT');
      expect(bad(() => new DigestVerifier({ algorithm: 'sha256', hex }, { highWaterMark: 0 }))).to.equal('ERR_INVALID_ARGUMENT');
    });
  });

  describe('DigestCalculator', () => {
    it('passes bytes through and reports digest and size after the end', async () => {
      const calc = new DigestCalculator();
      expect(() => calc.digest())
        .to.throw(ContainerkitError)
        .with.property('code', 'ERR_FAILED_PRECONDITION');
      const { sink, bytes } = collector();
      await pipeline(chunked(data, 65536), calc, sink);
      expect(bytes().equals(data)).to.equal(true);
      expect(calc.digest()).to.equal(`sha256:${sha256(data)}`);
      expect(calc.size).to.equal(data.length);
      expect(calc.result()).to.deep.equal({ algorithm: 'sha256', hex: sha256(data), size: data.length });
    });

    it('computes sha512', async () => {
      const calc = new DigestCalculator('sha512');
      await pipeline(chunked(data, 65536), calc, collector().sink);
      expect(calc.hex).to.equal(sha512(data));
    });
  });

  describe('digestBuffer', () => {
    it('hashes with sha256 by default, and sha512 on request', () => {
      expect(digestBuffer(data)).to.deep.equal({ algorithm: 'sha256', hex: sha256(data), size: data.length });
      expect(digestBuffer(data, 'sha512').hex).to.equal(sha512(data));
      // A known answer: sha256 of "abc" (FIPS 180-2).
      expect(digestBuffer(Buffer.from('abc')).hex).to.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    });
  });

  describe('digestFile', () => {
    let file: string;
    before(async () => {
      file = join(dir, 'data.bin');
      await writeFile(file, data);
    });

    it('matches the digest of the bytes, across chunk sizes', async () => {
      expect(await digestFile(file)).to.deep.equal({ algorithm: 'sha256', hex: sha256(data), size: data.length });
      // A chunk size that does not divide the file exercises the short last read.
      expect(await digestFile(file, { highWaterMark: 4096 + 3 })).to.deep.equal({ algorithm: 'sha256', hex: sha256(data), size: data.length });
      expect((await digestFile(file, { algorithm: 'sha512' })).hex).to.equal(sha512(data));
      expect(await readFile(file)).to.have.length(data.length);
    });

    it('hashes an empty file', async () => {
      const empty = join(dir, 'empty');
      await writeFile(empty, '');
      expect(await digestFile(empty)).to.deep.equal({ algorithm: 'sha256', hex: sha256(Buffer.alloc(0)), size: 0 });
    });

    it('a missing file is ERR_NOT_FOUND, a directory ERR_INVALID_ARGUMENT', async () => {
      expect((await codedRejection(digestFile(join(dir, 'nope')))).code).to.equal('ERR_NOT_FOUND');
      expect((await codedRejection(digestFile(dir))).code).to.equal('ERR_INVALID_ARGUMENT');
    });

    it('validates options before any work', async () => {
      expect((await codedRejection(digestFile(join(dir, 'nope'), { algorithm: 'sha1' as 'sha256' }))).code).to.equal('ERR_UNSUPPORTED_DIGEST_ALGORITHM');
      expect((await codedRejection(digestFile(join(dir, 'nope'), { highWaterMark: 1.5 }))).code).to.equal('ERR_INVALID_ARGUMENT');
    });

    it('an already-aborted signal rejects with its reason and opens nothing', async () => {
      const reason = new Error('early');
      // A missing file would be ERR_NOT_FOUND if the open were attempted.
      const err = await digestFile(join(dir, 'nope'), { signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
      expect(err).to.equal(reason);
    });

    it('aborting mid-read rejects with signal.reason', async () => {
      const big = join(dir, 'big.bin');
      await writeFile(big, Buffer.alloc(32 * 1024 * 1024));
      expect((await stat(big)).size).to.equal(32 * 1024 * 1024);
      const controller = new AbortController();
      const reason = new Error('stop');
      // 512 reads of 64 KiB each go through the thread pool; the abort lands after the first one.
      const run = digestFile(big, { highWaterMark: 64 * 1024, signal: controller.signal });
      setImmediate(() => controller.abort(reason));
      const err = await run.catch((e: unknown) => e);
      expect(err).to.equal(reason);
    });
  });
});
