// LayoutIndex.put of an entry the name already has (a re-pull) leaves index.json untouched: no lock, no rewrite.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { LocalContentStore } from '../../../lib/content/index.js';
import { LayoutIndex } from '../../../lib/images/index.js';
import { type Descriptor, parseDigest } from '../../../lib/oci/index.js';
import { makeTempDir } from '../../fixtures/tmp.js';

describe('images: LayoutIndex.put of an unchanged entry', () => {
  const target: Descriptor = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: parseDigest(`sha256:${'a'.repeat(64)}`), size: 10 };

  it('writes the first time and when the target changes, not when it is the same', async () => {
    const root = join(await makeTempDir('index-put'), 'layout');
    await LocalContentStore.open(root);
    const index = new LayoutIndex(root);
    await index.put('example.com/a:latest', target);
    const first = await stat(index.path);
    // The same target again (an empty annotations map adds nothing): nothing is written (same inode: no rename).
    await index.put('example.com/a:latest', { ...target, annotations: {} });
    expect((await stat(index.path)).ino).to.equal(first.ino);
    const moved: Descriptor = { ...target, digest: parseDigest(`sha256:${'b'.repeat(64)}`) };
    await index.put('example.com/a:latest', moved);
    expect((await stat(index.path)).ino).to.not.equal(first.ino);
    expect((await index.list()).map((r) => [r.name, r.target.digest])).to.deep.equal([['example.com/a:latest', moved.digest]]);
    // Another name for the same target is a change too.
    const before = (await stat(index.path)).ino;
    await index.put('example.com/b:latest', moved);
    expect((await stat(index.path)).ino).to.not.equal(before);
    expect((await index.list()).map((r) => r.name)).to.deep.equal(['example.com/a:latest', 'example.com/b:latest']);
  });
});
