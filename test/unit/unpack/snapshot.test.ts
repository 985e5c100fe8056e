import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ContainerkitError } from '../../../lib/errors/index.js';
import { chainId, chainIds } from '../../../lib/oci/index.js';
import { OverlaySnapshotter } from '../../../lib/unpack/index.js';
import { mountToolArgs } from '../../../lib/util/mount.js';

// sha256("a"), sha256("b"), sha256("c") and their chain IDs, computed with sha256sum.
const A = 'sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb';
const B = 'sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d';
const C = 'sha256:2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6';
const AB = 'sha256:51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676';
const ABC = 'sha256:2fce7f8ce91bcf0a1428b36e1024639fdbd9469eea762dba98aa749631885106';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ContainerkitError ? err.code : 'not a ContainerkitError';
  }
  return undefined;
}

describe('unpack: chain IDs', () => {
  it('chainID(0) is the first diff_id, then sha256 of "<parent chain> <diff_id>"', () => {
    expect(chainId([A])).to.equal(A);
    expect(chainId([A, B])).to.equal(AB);
    expect(chainId([A, B, C])).to.equal(ABC);
    expect(chainIds([A, B, C])).to.deep.equal([A, AB, ABC]);
  });

  it('refuses an empty list and malformed diff_ids', () => {
    expect(codeOf(() => chainId([]))).to.equal('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => chainId([A, 'sha256:xyz']))).to.equal('ERR_INVALID_DIGEST');
  });
});

describe('unpack: mount(8) arguments', () => {
  it('passes overlay options through and turns a bind type into -o bind', () => {
    expect(mountToolArgs({ type: 'overlay', source: 'overlay', options: ['workdir=/w', 'upperdir=/u', 'lowerdir=/a:/b'] }, '/m')).to.deep.equal([
      '-t',
      'overlay',
      '-o',
      'workdir=/w,upperdir=/u,lowerdir=/a:/b',
      '--',
      'overlay',
      '/m',
    ]);
    expect(mountToolArgs({ type: 'bind', source: '/s', options: ['ro'] }, '/m')).to.deep.equal(['-o', 'bind,ro', '--', '/s', '/m']);
    expect(mountToolArgs({ type: 'bind', source: '/s', options: ['rbind', 'rw'] }, '/m')).to.deep.equal(['-o', 'rbind,rw', '--', '/s', '/m']);
  });

  it('refuses commas in options and empty fields', () => {
    expect(codeOf(() => mountToolArgs({ type: 'overlay', source: 'overlay', options: ['lowerdir=/a,upperdir=/x'] }, '/m'))).to.equal('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => mountToolArgs({ type: '', source: 'x', options: [] }, '/m'))).to.equal('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => mountToolArgs({ type: 'tmpfs', source: 'x', options: [] }, ''))).to.equal('ERR_INVALID_ARGUMENT');
  });
});

describe('unpack: overlay snapshot metadata and mounts (no mount but the probe of open)', function () {
  this.timeout(60_000);
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'containerkit-snapshot-unit-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stacks lowerdirs top to bottom under short numeric names, and persists across instances', async () => {
    const snap = await OverlaySnapshotter.open(root);
    expect(await snap.prepare('k1')).to.deep.equal([{ type: 'bind', source: join(root, 'snapshots/1/fs'), options: ['rbind', 'rw'] }]);
    await snap.commit(A, 'k1');
    await snap.prepare('k2', A);
    await snap.commit(AB, 'k2');
    const mounts = await snap.prepare('ctr', AB, { labels: { app: 'x' } });
    expect(mounts).to.deep.equal([
      {
        type: 'overlay',
        source: 'overlay',
        options: [
          `workdir=${join(root, 'snapshots/3/work')}`,
          `upperdir=${join(root, 'snapshots/3/fs')}`,
          `lowerdir=${join(root, 'snapshots/2/fs')}:${join(root, 'snapshots/1/fs')}`,
        ],
      },
    ]);
    // A view's own empty directory is its bottom layer, so each mount names the snapshot it belongs to.
    expect(await snap.view('v1', A)).to.deep.equal([
      { type: 'overlay', source: 'overlay', options: [`lowerdir=${join(root, 'snapshots/1/fs')}:${join(root, 'snapshots/4/fs')}`, 'ro'] },
    ]);
    expect((await snap.view('v2', AB))[0]!.options).to.deep.equal([
      `lowerdir=${join(root, 'snapshots/2/fs')}:${join(root, 'snapshots/1/fs')}:${join(root, 'snapshots/5/fs')}`,
      'ro',
    ]);

    const reopened = await OverlaySnapshotter.open(root);
    expect(await reopened.mounts('ctr')).to.deep.equal(mounts);
    expect(await reopened.stat('ctr')).to.include({ name: 'ctr', kind: 'active', parent: AB });
    expect((await reopened.stat('ctr')).labels).to.deep.equal({ app: 'x' });
    expect((await reopened.walk()).map((s) => s.name)).to.deep.equal([AB, A, 'ctr', 'v1', 'v2']);
  });

  it('fails with a typed error when the lowerdir list would overflow one page, leaving nothing behind', async () => {
    const snap = await OverlaySnapshotter.open(root);
    let parent: string | undefined;
    let layers = 0;
    let failure: unknown;
    // ~40 bytes per layer path here: well under 200 layers exceed 4 KiB, far more than 64-hex names would allow.
    for (; layers < 200; layers++) {
      try {
        await snap.prepare(`k${layers}`, parent);
      } catch (err) {
        failure = err;
        break;
      }
      await snap.commit(`c${layers}`, `k${layers}`);
      parent = `c${layers}`;
    }
    expect(failure).to.be.instanceOf(ContainerkitError);
    expect((failure as ContainerkitError).code).to.equal('ERR_FAILED_PRECONDITION');
    expect(layers).to.be.greaterThan(60);
    expect((await snap.walk()).map((s) => s.name)).to.not.include(`k${layers}`);
  });
});
