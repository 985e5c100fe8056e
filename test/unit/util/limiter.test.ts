import { expect } from 'chai';
import { KeyedLimiter, Semaphore } from '../../../lib/util/limiter.js';

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
      for (const bad of [0, -1, 1.5, NaN]) expect(() => new Semaphore(bad)).to.throw().with.property('code', 'ERR_INVALID_ARGUMENT');
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
});
