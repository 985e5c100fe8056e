import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import type { ProgressEvent } from '../../../lib/registry/progress.js';
import { RegistryClient } from '../../../lib/registry/registry-client.js';
import { type EventIteratorOptions, eventIterator } from '../../../lib/util/event-iterator.js';

function fromEmitter(emitter: EventEmitter, options: EventIteratorOptions = {}): AsyncIterableIterator<number> {
  return eventIterator<number>((push, end) => {
    emitter.on('n', push);
    emitter.on('close', end);
    return () => {
      emitter.off('n', push);
      emitter.off('close', end);
    };
  }, options);
}

async function drain<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

describe('util/eventIterator', () => {
  it('keeps values pushed before the first next(), in order, and ends on the producer end()', async () => {
    const emitter = new EventEmitter();
    const it = fromEmitter(emitter);
    emitter.emit('n', 1);
    emitter.emit('n', 2);
    emitter.emit('close');
    emitter.emit('n', 3); // after the end: dropped
    expect(await drain(it)).to.deep.equal([1, 2]);
    expect(emitter.listenerCount('n') + emitter.listenerCount('close')).to.equal(0);
  });

  it('wakes a waiting next() on a push', async () => {
    const emitter = new EventEmitter();
    const it = fromEmitter(emitter);
    const pending = it.next();
    emitter.emit('n', 7);
    expect(await pending).to.deep.equal({ value: 7, done: false });
    await it.return!();
  });

  it('removes its listeners when the consumer breaks out', async () => {
    const emitter = new EventEmitter();
    const it = fromEmitter(emitter);
    emitter.emit('n', 1);
    for await (const v of it) {
      expect(v).to.equal(1);
      break;
    }
    expect(emitter.listenerCount('n')).to.equal(0);
    expect(await it.next()).to.deep.equal({ value: undefined, done: true });
  });

  it('on abort rejects with signal.reason after the queued values (default), and unsubscribes', async () => {
    const emitter = new EventEmitter();
    const controller = new AbortController();
    const it = fromEmitter(emitter, { signal: controller.signal });
    emitter.emit('n', 1);
    controller.abort(new Error('enough'));
    expect(await it.next()).to.deep.equal({ value: 1, done: false });
    expect(await it.next().catch((e: Error) => e.message)).to.equal('enough');
    expect(emitter.listenerCount('n')).to.equal(0);
  });

  it("with onAbort 'end' ends quietly on abort", async () => {
    const emitter = new EventEmitter();
    const controller = new AbortController();
    const it = fromEmitter(emitter, { signal: controller.signal, onAbort: 'end' });
    emitter.emit('n', 1);
    controller.abort();
    expect(await drain(it)).to.deep.equal([1]);
  });

  it('never subscribes for an already-aborted signal', async () => {
    const emitter = new EventEmitter();
    const it = fromEmitter(emitter, { signal: AbortSignal.abort(new Error('early')) });
    expect(emitter.listenerCount('n')).to.equal(0);
    expect(await it.next().catch((e: Error) => e.message)).to.equal('early');
  });

  it('removes its abort listener from a long-lived signal when it ends otherwise', async () => {
    const emitter = new EventEmitter();
    const controller = new AbortController();
    const it = fromEmitter(emitter, { signal: controller.signal });
    emitter.emit('close');
    await drain(it);
    // A second abort listener would be called here and the iterator would turn to rejecting.
    controller.abort(new Error('later'));
    expect(await it.next()).to.deep.equal({ value: undefined, done: true });
  });
});

describe('RegistryClient.progress()', () => {
  it('yields events emitted between the call and the first next(), and ends quietly on abort', async () => {
    const client = new RegistryClient();
    const controller = new AbortController();
    const iterable = client.progress({ signal: controller.signal });
    const event = {
      direction: 'fetch',
      repository: 'r',
      descriptor: { mediaType: 'x', digest: 'sha256:' + '0'.repeat(64), size: 1 },
      complete: 1,
      total: 1,
    } as ProgressEvent;
    client.events.emit('progress', event);
    controller.abort();
    expect(await drain(iterable)).to.deep.equal([event]);
    expect(client.events.listenerCount('progress')).to.equal(0);
    client.close();
  });
});
