import { getEventListeners } from 'node:events';
import { expect } from 'chai';
import { ContainerdClient } from '../../../lib/containerd/containerd-client.js';
import { onAbort } from '../../../lib/util/abort.js';

describe('util/abort: onAbort', () => {
  it('calls fn once with the reason on abort, and leaves no listener behind', () => {
    const controller = new AbortController();
    const seen: unknown[] = [];
    onAbort(controller.signal, (reason) => seen.push(reason));
    expect(getEventListeners(controller.signal, 'abort')).to.have.length(1);
    const reason = new Error('stop');
    controller.abort(reason);
    expect(seen).to.deep.equal([reason]);
    expect(getEventListeners(controller.signal, 'abort')).to.have.length(0);
  });

  it('calls fn at once, synchronously, for an already-aborted signal', () => {
    const reason = new Error('early');
    const seen: unknown[] = [];
    const remove = onAbort(AbortSignal.abort(reason), (r) => seen.push(r));
    expect(seen).to.deep.equal([reason]);
    remove();
  });

  it('removes its listener when the work ends first (idempotently), so a later abort calls nothing', () => {
    const controller = new AbortController();
    let calls = 0;
    const remove = onAbort(controller.signal, () => calls++);
    remove();
    remove();
    expect(getEventListeners(controller.signal, 'abort')).to.have.length(0);
    controller.abort();
    expect(calls).to.equal(0);
  });

  it('is a no-op without a signal', () => {
    let calls = 0;
    onAbort(undefined, () => calls++)();
    expect(calls).to.equal(0);
  });
});

describe('ContainerdClient options.signal', () => {
  // Connecting is lazy, so no containerd is needed to see the listener's lifetime.
  it('drops its abort listener on close(), so a long-lived signal does not keep the client', async () => {
    const controller = new AbortController();
    const client = new ContainerdClient({ address: '/nonexistent/containerd.sock', signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).to.have.length(1);
    await client.close();
    expect(getEventListeners(controller.signal, 'abort')).to.have.length(0);
  });
});
