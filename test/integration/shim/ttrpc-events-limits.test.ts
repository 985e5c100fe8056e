import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { ShimHarness } from './ttrpc-harness.js';

// The events server's limits against the real containerd-shim-runc-v2: closing a shim's idle connection loses no
// event, because the shim's publisher reconnects on ErrClosed and forwards again.

describe('shim events server limits against containerd-shim-runc-v2', function () {
  this.timeout(60_000);
  let harness: ShimHarness;

  beforeEach(async () => {
    harness = await ShimHarness.create({ idleTimeoutMs: 200 });
  });
  afterEach(async () => {
    await harness.cleanup();
    expect(harness.leftovers()).to.deep.equal([]);
  });

  it("delivers the exit event after the server closed the shim's idle events connection", async () => {
    const shim = await harness.startShim('idle1', ['sleep', '60']);
    await shim.task.create({ id: shim.id, bundle: shim.bundle, stdout: shim.stdoutPath, stderr: shim.stderrPath });
    await shim.task.start(shim.id);
    await harness.waitForEvent((e) => e.type === 'start');
    expect(harness.server.connections).to.equal(1); // the shim's publisher keeps one connection
    // The shim's connection goes idle and is closed by the server (polled: the close is the server's to time).
    while (harness.server.connections > 0) await sleep(20);
    const before = harness.events.length;
    await shim.task.kill(shim.id, 'SIGKILL');
    const exit = await harness.waitForEvent((e) => e.type === 'exit');
    expect(exit).to.deep.include({ containerId: shim.id, code: 137 });
    expect(harness.events.length).to.be.greaterThan(before);
    await shim.task.delete(shim.id);
    await shim.task.shutdown(shim.id);
    await harness.waitForNoShims();
  });
});
