import { expect } from 'chai';
import { forEachLimit, KeyedLimiter, Semaphore } from '../../../lib/util/limiter.js';

describe('util/limiter', () => {
  describe('Semaphore', () => {
    it('holds at most max and serves waiters in order', async () => {
      const sem = new Semaphore(2);
      const a = await sem.acquire();
      const b = await sem.acquire();
      const order: string[] = [];
      const c = sem.acquire().then((r) => (order.push('c'), r));
      const d = sem.acquire().then((r) => (order.push('d'), r));
      expect([sem.active, sem.waiting]).to.deep.equal([2, 2]);
      a();
      a(); // a second call gives back nothing more
      (await c)();
      b();
      (await d)();
      expect(order).to.deep.equal(['c', 'd']);
      expect([sem.active, sem.waiting]).to.deep.equal([0, 0]);
    });

    it('hands a released slot to the waiter, not to a caller arriving before the waiter wakes', async () => {
      const sem = new Semaphore(1);
      const release = await sem.acquire();
      const granted: string[] = [];
      const waiter = sem.acquire().then((r) => (granted.push('waiter'), r));
      release();
      // Synchronously after the release: the slot is already the waiter's, so this one must queue.
      const newcomer = sem.acquire().then((r) => (granted.push('newcomer'), r));
      await new Promise((resolve) => setImmediate(resolve));
      expect(granted).to.deep.equal(['waiter']);
      expect(sem.active).to.equal(1);
      (await waiter)();
      (await newcomer)();
      expect(granted).to.deep.equal(['waiter', 'newcomer']);
      expect(sem.active).to.equal(0);
    });

    it('tryAcquire takes a free slot at once, and none while all are held or a caller waits', async () => {
      const sem = new Semaphore(1);
      const first = sem.tryAcquire();
      expect(first).to.be.a('function');
      expect(sem.tryAcquire()).to.equal(undefined);
      const waiter = sem.acquire();
      first!();
      // The slot went to the waiter, so it is not free for tryAcquire.
      expect(sem.tryAcquire()).to.equal(undefined);
      (await waiter)();
      const again = sem.tryAcquire();
      expect(sem.active).to.equal(1);
      again!();
      expect(sem.active).to.equal(0);
    });

    it('never runs more than max at once under run()', async () => {
      const sem = new Semaphore(3);
      let running = 0;
      let peak = 0;
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          sem.run(async () => {
            running++;
            peak = Math.max(peak, running);
            for (let k = 0; k < 3 + (i % 4); k++) await Promise.resolve();
            running--;
          }),
        ),
      );
      expect(peak).to.equal(3);
      expect(sem.active).to.equal(0);
    });

    it('releases the slot when run() throws', async () => {
      const sem = new Semaphore(1);
      expect(await sem.run(() => Promise.reject(new Error('boom'))).catch((e: Error) => e.message)).to.equal('boom');
      expect(sem.active).to.equal(0);
    });

    it('rejects with signal.reason when aborted while waiting, and leaves the queue', async () => {
      const sem = new Semaphore(1);
      const release = await sem.acquire();
      const controller = new AbortController();
      const waiting = sem.acquire(controller.signal);
      controller.abort(new Error('gone'));
      expect(await waiting.catch((e: Error) => e.message)).to.equal('gone');
      expect(sem.waiting).to.equal(0);
      release();
      expect(sem.active).to.equal(0);
    });

    it('rejects an already-aborted signal without taking a slot', async () => {
      const sem = new Semaphore(1);
      expect(await sem.acquire(AbortSignal.abort(new Error('early'))).catch((e: Error) => e.message)).to.equal('early');
      expect(sem.active).to.equal(0);
    });

    it('validates max', () => {
      for (const bad of [0, -1, 1.5, NaN])
        expect(() => new Semaphore(bad))
          .to.throw()
          .with.property('code', 'ERR_INVALID_ARGUMENT');
      expect(new Semaphore(Infinity).active).to.equal(0);
    });
  });

  describe('KeyedLimiter', () => {
    it('limits per key and forgets idle keys, aborted waiters included', async () => {
      const limiter = new KeyedLimiter(1);
      const h = await limiter.acquire('h');
      const other = await limiter.acquire('other');
      expect([limiter.active('h'), limiter.active('other'), limiter.size]).to.deep.equal([1, 1, 2]);
      const controller = new AbortController();
      const waiting = limiter.acquire('h', controller.signal);
      controller.abort(new Error('gone'));
      expect(await waiting.catch((e: Error) => e.message)).to.equal('gone');
      other();
      h();
      expect(limiter.size).to.equal(0);
      expect(await limiter.acquire('x', AbortSignal.abort(new Error('early'))).catch((e: Error) => e.message)).to.equal('early');
      expect(limiter.size).to.equal(0);
    });
  });

  describe('forEachLimit', () => {
    it('runs every item, at most limit at once', async () => {
      let running = 0;
      let peak = 0;
      const done: number[] = [];
      await forEachLimit([0, 1, 2, 3, 4, 5, 6], 2, async (i) => {
        running++;
        peak = Math.max(peak, running);
        for (let k = 0; k < 2 + (i % 3); k++) await Promise.resolve();
        running--;
        done.push(i);
      });
      expect(peak).to.equal(2);
      expect([...done].sort()).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
    });

    it('starts nothing after the first failure, and rejects with it once the started ones settle', async () => {
      const started: number[] = [];
      let settled = 0;
      const err = await forEachLimit([0, 1, 2, 3, 4], 2, async (i) => {
        started.push(i);
        await Promise.resolve();
        settled++;
        if (i === 0) throw new Error('first');
        if (i === 1) throw new Error('second');
      }).catch((e: Error) => e);
      expect((err as Error).message).to.equal('first');
      expect(started).to.deep.equal([0, 1]);
      expect(settled).to.equal(2);
    });

    it('validates limit', async () => {
      for (const bad of [0, 1.5, Infinity])
        expect(await forEachLimit([1], bad, async () => undefined).catch((e: { code: string }) => e.code)).to.equal('ERR_INVALID_ARGUMENT');
    });
  });
});
