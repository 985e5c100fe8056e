import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { LocalContentStore } from '../../../lib/content/index.js';
import { contentStoreSuite } from '../../content-suite.js';
import { makeTempDir } from '../../fixtures/tmp.js';

contentStoreSuite('LocalContentStore', async () => {
  const root = join(await makeTempDir('content'), 'layout');
  return { store: await LocalContentStore.open(root), root, reopen: () => LocalContentStore.open(root) };
});

describe('LocalContentStore specifics', () => {
  it('refuses a directory whose oci-layout is unusable', async () => {
    const root = await makeTempDir('content');
    await writeFile(join(root, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
    const err = await LocalContentStore.open(root).catch((e: unknown) => e);
    expect((err as { code?: string }).code).to.equal('ERR_INVALID_LAYOUT');
  });

  it('walk skips names under blobs/ that are not valid digests', async () => {
    const root = await makeTempDir('content');
    const store = await LocalContentStore.open(root);
    await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(root, 'blobs', 'sha256', 'not-a-digest'), 'x');
    const seen: string[] = [];
    await store.walk((i) => void seen.push(i.digest));
    expect(seen).to.deep.equal([]);
  });
});
