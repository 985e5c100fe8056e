// The shared Task conformance suite on the shim backend: ShimManager containers on containerd-shim-runc-v2.
import { expect } from 'chai';
import { taskSuite } from '../../task-suite.js';
import { ManagerFixture } from './manager-fixture.js';

taskSuite('shim', async () => {
  const fx = await ManagerFixture.create();
  const manager = await fx.manager();
  return {
    async createTask(id, args, stdio) {
      const bundle = await fx.bundle(id, args, (spec) => {
        spec.process!.terminal = stdio.terminal === true;
      });
      return manager.start(id, bundle, { stdio });
    },
    async cleanup() {
      const failures: unknown[] = [];
      for (const c of manager.list()) await c.remove({ force: true }).catch((err: unknown) => failures.push(err));
      // Closes the manager, then reports (and clears) any shim, socket, FIFO or runc state still there.
      const left = await fx.cleanup();
      expect(failures, 'remove failures').to.deep.equal([]);
      expect(left, 'left behind').to.deep.equal([]);
    },
  };
});
