import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import { ShimManager, TtrpcClient } from '../../../lib/shim/index.js';
import { rejection } from '../../fixtures/assert.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

describe('ShimManager: the events server', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('shim-events-server');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('takes its limits from options.eventsServer, and keeps a dead 0600 socket file on close', async () => {
    const manager = await ShimManager.open({ stateDir: join(dir, 'root'), eventsServer: { maxConnections: 1 } });
    const first = await TtrpcClient.open(manager.eventsSocket);
    try {
      expect(hasCode(await rejection(first.call('x', 'y', new Uint8Array(0))), 'ERR_TTRPC_UNIMPLEMENTED')).to.equal(true);
      const second = await TtrpcClient.open(manager.eventsSocket);
      await second.closed; // over maxConnections: closed at once
      expect(hasCode(await rejection(second.call('x', 'y', new Uint8Array(0))), 'ERR_TTRPC_CONNECTION_CLOSED')).to.equal(true);
    } finally {
      await first.close();
      await manager.close();
    }
    const st = await lstat(join(dir, 'root', 'events.sock'));
    expect(st.isSocket()).to.equal(true);
    expect((st.mode & 0o777).toString(8)).to.equal('600');
  });
});
