// Disk full: a pull into a store on a small tmpfs fails with a typed error and leaves nothing half-written.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { ImageStore } from '../../../lib/images/index.js';
import { RegistryClient } from '../../../lib/registry/index.js';
import { runTool } from '../../../lib/util/index.js';
import { type PushedImages, withPushedImages } from '../../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../fixtures/registry.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

describe('images: disk full', function () {
  this.timeout(120_000);
  let registry: RegistryFixture;
  let pushed: PushedImages;
  let mnt: string;

  before(async () => {
    registry = await startRegistry();
    pushed = await withPushedImages(registry);
    mnt = await makeTempDir('images-tmpfs');
    await runTool('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mnt]);
  });
  after(async () => {
    await registry?.stop();
    if (mnt) await removeTempDir(mnt);
  });

  it('fails with ERR_IO (errno ENOSPC), records nothing, keeps no partial blob or ingest', async () => {
    const client = new RegistryClient({ retry: { baseDelayMs: 1 } });
    try {
      const store = await ImageStore.open(join(mnt, 'content'), { registry: client });
      const err = await store.pull(pushed.layered.reference).catch((e: unknown) => e);
      expect((err as { code?: string }).code).to.equal('ERR_IO');
      expect((err as { details?: { errno?: string } }).details?.errno).to.equal('ENOSPC');
      expect(await store.list()).to.deep.equal([]);
      const report = await store.verify();
      expect(report.corrupt).to.deep.equal([]);
      const big = pushed.layered.image.layers.reduce((a, b) => (b.size > a.size ? b : a));
      expect(await readdir(join(mnt, 'content', 'blobs', 'sha256'))).to.not.include(big.digest.slice(7));
      expect(await store.content.listStatuses()).to.deep.equal([]);
    } finally {
      client.close();
    }
  });
});
