import { join } from 'node:path';
import { expect } from 'chai';
import { LocalContentStore } from '../../../lib/content/index.js';
import { composeHandlers, dispatch, filterPlatforms, type Handler, LayoutIndex, limitManifests, SKIP, walk } from '../../../lib/images/index.js';
import type { Descriptor, Digest } from '../../../lib/oci/index.js';
import { sleep } from '../../../lib/util/index.js';
import { makeTempDir } from '../../fixtures/tmp.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
const BLOB = 'application/octet-stream';

function d(n: number, mediaType = BLOB, platform?: { os: string; architecture: string }): Descriptor {
  return { mediaType, digest: `sha256:${n.toString(16).padStart(64, '0')}` as Digest, size: n, ...(platform ? { platform } : {}) };
}

// A tree: 1 → (2 → (4, 5), 3 → 6)
const tree = new Map<number, number[]>([
  [1, [2, 3]],
  [2, [4, 5]],
  [3, [6]],
]);
const childrenOfTree: Handler = (desc) => (tree.get(desc.size) ?? []).map((n) => d(n));

describe('images: handlers', () => {
  it('walk visits depth-first, in order, one at a time', async () => {
    const seen: number[] = [];
    await walk(
      composeHandlers((desc) => void seen.push(desc.size), childrenOfTree),
      [d(1)],
    );
    expect(seen).to.deep.equal([1, 2, 4, 5, 3, 6]);
  });

  it('SKIP prunes a subtree and stops the chain', async () => {
    const seen: number[] = [];
    const skip2: Handler = (desc) => (desc.size === 2 ? SKIP : undefined);
    await walk(
      composeHandlers(skip2, (desc) => void seen.push(desc.size), childrenOfTree),
      [d(1)],
    );
    expect(seen).to.deep.equal([1, 3, 6]);
  });

  it('dispatch visits everything with at most `concurrency` calls at once', async () => {
    let active = 0;
    let peak = 0;
    const seen: number[] = [];
    const handler: Handler = async (desc) => {
      active++;
      peak = Math.max(peak, active);
      await sleep(10);
      seen.push(desc.size);
      active--;
      return childrenOfTree(desc, { signal: new AbortController().signal });
    };
    await dispatch(handler, [d(1)], { concurrency: 2 });
    expect(seen.sort()).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(peak).to.equal(2);
  });

  it('dispatch: the first error cancels the rest and is what it rejects with', async () => {
    const aborted: number[] = [];
    const handler: Handler = async (desc, { signal }) => {
      if (desc.size === 4) throw new Error('boom');
      if (desc.size === 5) {
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        aborted.push(5);
      }
      return childrenOfTree(desc, { signal });
    };
    const err = await dispatch(handler, [d(1)], { concurrency: 4 }).catch((e: unknown) => e);
    expect((err as Error).message).to.equal('boom');
    expect(aborted).to.deep.equal([5]);
  });

  it('dispatch rejects an aborted signal and a bad concurrency', async () => {
    const c = new AbortController();
    c.abort(new Error('stop'));
    expect(((await dispatch(childrenOfTree, [d(1)], { signal: c.signal }).catch((e: unknown) => e)) as Error).message).to.equal('stop');
    expect(((await dispatch(childrenOfTree, [d(1)], { concurrency: 0 }).catch((e: unknown) => e)) as { code: string }).code).to.equal('ERR_INVALID_ARGUMENT');
  });

  it('filterPlatforms and limitManifests prune an index', async () => {
    const entries = [d(10, BLOB, { os: 'linux', architecture: 'arm64' }), d(11, BLOB, { os: 'linux', architecture: 'amd64' }), d(12)];
    const base: Handler = () => entries;
    expect(await filterPlatforms(base, 'linux/amd64')(d(1, INDEX), { signal: new AbortController().signal })).to.deep.equal([entries[1]]);
    expect(await filterPlatforms(base, 'linux/amd64')(d(1), { signal: new AbortController().signal })).to.deep.equal(entries);
    expect(await limitManifests(base, 'linux/arm64', 1)(d(1, INDEX), { signal: new AbortController().signal })).to.deep.equal([entries[0]]);
  });
});

describe('images: LayoutIndex', () => {
  it('puts, lists and removes names; concurrent updates are all kept; non-canonical names are refused', async () => {
    const root = join(await makeTempDir('images'), 'layout');
    await LocalContentStore.open(root);
    const index = new LayoutIndex(root);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => index.put(`docker.io/library/img${i}:latest`, d(i + 1, 'application/vnd.oci.image.manifest.v1+json'))),
    );
    expect((await index.list()).map((r) => r.name).sort()).to.deep.equal(Array.from({ length: 10 }, (_, i) => `docker.io/library/img${i}:latest`).sort());
    expect(await index.remove('docker.io/library/img3:latest')).to.equal(true);
    expect(await index.remove('docker.io/library/img3:latest')).to.equal(false);
    expect(await index.list()).to.have.length(9);
    const err = await index.put('latest', d(1)).catch((e: unknown) => e);
    expect((err as { code: string }).code).to.equal('ERR_INVALID_REFERENCE');
  });
});
