import { createHash } from 'node:crypto';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { LocalContentStore } from '../../../lib/content/index.js';
import { collectGarbage, createLease, LayoutIndex } from '../../../lib/images/index.js';
import { sleep } from '../../../lib/util/index.js';
import { makeTempDir } from '../../fixtures/tmp.js';

async function put(store: LocalContentStore, text: string): Promise<string> {
  const bytes = Buffer.from(text);
  const w = await store.writer({ ref: `t-${text}` });
  await w.write(bytes);
  await w.commit();
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

describe('images: leases and GC', () => {
  it('a live lease protects its digests; an expired one does not; unreferenced blobs are swept', async () => {
    const root = join(await makeTempDir('images-gc'), 'layout');
    const store = await LocalContentStore.open(root);
    const index = new LayoutIndex(root);
    const kept = await put(store, 'kept');
    const brief = await put(store, 'brief');
    const loose = await put(store, 'loose');
    const lease = await createLease(root, { digests: [kept] });
    await createLease(root, { digests: [brief], ttlMs: 20 });
    await sleep(50);
    const result = await collectGarbage(store, index);
    expect(result.removed.sort()).to.deep.equal([brief, loose].sort());
    expect(result.kept).to.equal(1);
    await lease.release();
    expect((await collectGarbage(store, index)).removed).to.deep.equal([kept]);
  });

  it('dry run removes nothing; stale ingests go, held and fresh ones stay', async () => {
    const root = join(await makeTempDir('images-gc'), 'layout');
    const store = await LocalContentStore.open(root);
    const index = new LayoutIndex(root);
    const blob = await put(store, 'x');
    expect((await collectGarbage(store, index, { dryRun: true })).removed).to.deep.equal([blob]);
    expect((await store.info(blob)).size).to.equal(1);
    const stale = await store.writer({ ref: 'stale' });
    await stale.write(Buffer.from('abc'));
    await stale.close();
    const old = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    const { ingestDir } = await import('../../../lib/content/layout.js');
    await utimes(join(ingestDir(root, 'stale'), 'data'), old, old);
    const held = await store.writer({ ref: 'held' });
    const fresh = await store.writer({ ref: 'fresh' });
    await fresh.close();
    const result = await collectGarbage(store, index);
    expect(result.ingests).to.deep.equal(['stale']);
    expect((await store.listStatuses()).map((s) => s.ref).sort()).to.deep.equal(['fresh', 'held']);
    await held.close();
  });
});
