import { PassThrough, Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { expect } from 'chai';
import { chunksOf } from '../../../lib/util/stream-chunks.js';

describe('util: chunksOf', () => {
  it('yields each chunk as it was pushed, the same Buffer, even when several queued up while the consumer waited', async () => {
    const pushed = [Buffer.alloc(1000, 1), Buffer.alloc(2000, 2), Buffer.alloc(3000, 3)];
    const stream = new PassThrough({ highWaterMark: 1 << 20 });
    const got: Buffer[] = [];
    const consumer = (async () => {
      for await (const chunk of chunksOf(stream)) {
        got.push(chunk);
        await tick(); // a slow sink: the rest queue up meanwhile
      }
    })();
    for (const b of pushed) stream.write(b);
    stream.end();
    await consumer;
    // A Readable's own iterator hands over what is buffered joined into one new Buffer (a copy).
    expect(got.length).to.equal(3);
    got.forEach((chunk, i) => {
      expect(chunk.equals(pushed[i]!)).to.equal(true);
    });
  });

  it('pauses the stream once its high-water mark is queued, and resumes as the consumer catches up', async () => {
    let produced = 0;
    const stream = new Readable({
      highWaterMark: 4096,
      read() {
        produced++;
        this.push(produced <= 64 ? Buffer.alloc(1024, produced) : null);
      },
    });
    const it = chunksOf(stream)[Symbol.asyncIterator]();
    await it.next();
    for (let i = 0; i < 20; i++) await tick();
    // Bounded by the high-water mark (plus the stream's own buffer), not the whole 64 chunks.
    expect(produced).to.be.below(20);
    let total = 1;
    while (!(await it.next()).done) total++;
    expect(total).to.equal(64);
  });

  it("rejects with the stream's error, and destroys the stream when the consumer stops early", async () => {
    const failing = new PassThrough();
    const boom = new Error('bad bytes');
    const consumed = (async () => {
      for await (const _ of chunksOf(failing));
    })();
    failing.write(Buffer.from('x'));
    failing.destroy(boom);
    let caught: unknown;
    await consumed.catch((err: unknown) => (caught = err));
    expect(caught).to.equal(boom);

    const early = new PassThrough();
    early.write(Buffer.from('a'));
    early.write(Buffer.from('b'));
    for await (const _ of chunksOf(early)) break;
    expect(early.destroyed).to.equal(true);
  });
});
