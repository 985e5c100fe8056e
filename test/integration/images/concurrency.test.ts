// 8 concurrent pulls of one image from two processes into one store: each process downloads each blob at most once.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ImageStore } from '../../../lib/images/index.js';
import { useRegistryWithImages } from '../../fixtures/images.js';
import { makeTempDir } from '../../fixtures/tmp.js';

const run = promisify(execFile);

describe('images: concurrent pulls from two processes', function () {
  this.timeout(120_000);
  const served = useRegistryWithImages();

  it('ends with one consistent image and at most one download of each blob per process', async () => {
    const root = join(await makeTempDir('images-conc'), 'content');
    await ImageStore.open(root);
    served.registry.clearAccessLog();
    const child = (): Promise<string> =>
      run(process.execPath, [
        '--import',
        'tsx',
        join(import.meta.dirname, '..', '..', 'fixtures', 'pull-child.ts'),
        root,
        served.images.layered.reference,
        '4',
      ]).then((r) => r.stdout.trim());
    const digests = await Promise.all([child(), child()]);
    expect(digests).to.deep.equal([served.images.layered.digest, served.images.layered.digest]);
    const gets = (await served.registry.accessLog()).filter((e) => e.method === 'GET' && e.path.includes('/blobs/'));
    const perBlob = new Map<string, number>();
    for (const g of gets) perBlob.set(g.path, (perBlob.get(g.path) ?? 0) + 1);
    for (const [path, count] of perBlob) expect(count, path).to.be.at.most(2);
    // Writers wait for each other on the ingest lock, so in practice each blob crosses the wire once overall.
    expect(perBlob.size).to.equal(4);
    const store = await ImageStore.open(root);
    expect(await store.verify()).to.deep.include({ corrupt: [], missing: [] });
    expect((await store.list()).map((r) => r.name)).to.deep.equal([`${served.registry.host}/layered:latest`]);
    expect(await store.content.listStatuses()).to.deep.equal([]);
  });
});
