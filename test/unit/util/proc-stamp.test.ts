import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { isSameProcess, readBootId, stampProcess } from '../../../lib/util/index.js';

describe('util/proc: process stamps', () => {
  it('a stamp names this very process: same pid, start and boot', async () => {
    const stamp = (await stampProcess(process.pid))!;
    expect(stamp.pid).to.equal(process.pid);
    expect(stamp.boot).to.equal(await readBootId());
    expect(await isSameProcess(stamp)).to.equal(true);
  });

  it('another start time, another boot, a gone pid or a bad pid is not the same process', async () => {
    const stamp = (await stampProcess(process.pid))!;
    expect(await isSameProcess({ ...stamp, start: stamp.start + 1 }), 'reused pid').to.equal(false);
    expect(await isSameProcess({ ...stamp, boot: '00000000-0000-4000-8000-000000000000' }), 'other boot').to.equal(false);
    const gone = spawnSync('true').pid!;
    expect(await isSameProcess({ pid: gone, start: 1 }), 'gone').to.equal(false);
    expect(await stampProcess(gone), 'gone').to.equal(undefined);
    expect(await isSameProcess({ pid: 0, start: 0 }), 'pid 0').to.equal(false);
    expect(await stampProcess(-1), 'pid -1').to.equal(undefined);
  });
});
