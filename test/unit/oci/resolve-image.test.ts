import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { chainIds } from '../../../lib/oci/chain-id.js';
import type { Descriptor } from '../../../lib/oci/descriptor.js';
import type { Digest } from '../../../lib/oci/digest.js';
import { MEDIA_TYPES as M } from '../../../lib/oci/media-types.js';
import type { Platform } from '../../../lib/oci/platform.js';
import { platformMatcher } from '../../../lib/oci/platform-matcher.js';
import { type BlobReader, MAX_INDEX_DEPTH, resolveImageTarget } from '../../../lib/oci/resolve-image.js';
import { codedRejection } from '../../fixtures/assert.js';
import { sha } from './parse-helpers.js';

/** An in-memory blob store: documents go in as JSON, the reader hands their bytes back and counts the reads. */
class Blobs {
  readonly bytes = new Map<string, Buffer>();
  readonly reads: string[] = [];
  readonly read: BlobReader = async (d) => {
    this.reads.push(d.digest);
    const b = this.bytes.get(d.digest);
    if (b === undefined) throw new Error(`no blob ${d.digest}`);
    return b;
  };

  put(mediaType: string, doc: unknown, extra: Partial<Descriptor> = {}): Descriptor {
    const b = Buffer.from(JSON.stringify(doc));
    const digest = `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;
    this.bytes.set(digest, b);
    return { mediaType, digest, size: b.length, ...extra };
  }

  config(platform: Platform, diffIds: string[]): Descriptor {
    return this.put(M.OCI_CONFIG, { ...platform, rootfs: { type: 'layers', diff_ids: diffIds } });
  }

  manifest(config: Descriptor, layerCount: number, extra: Partial<Descriptor> = {}): Descriptor {
    const layers = Array.from({ length: layerCount }, (_, i) => ({ mediaType: M.OCI_LAYER_GZIP, digest: sha(`blob${i}`), size: 10 }));
    return this.put(M.OCI_MANIFEST, { schemaVersion: 2, mediaType: M.OCI_MANIFEST, config, layers }, extra);
  }

  index(manifests: Descriptor[], extra: Partial<Descriptor> = {}): Descriptor {
    return this.put(M.OCI_INDEX, { schemaVersion: 2, mediaType: M.OCI_INDEX, manifests }, extra);
  }
}

const AMD64: Platform = { os: 'linux', architecture: 'amd64' };
const ARM64: Platform = { os: 'linux', architecture: 'arm64', variant: 'v8' };
const diffIds = [sha('layer0'), sha('layer1')];

describe('oci: resolveImageTarget (target → platform manifest → config → chain ID)', () => {
  it('resolves a plain manifest to its config and the chain IDs of its layers', async () => {
    const blobs = new Blobs();
    const manifest = blobs.manifest(blobs.config(AMD64, diffIds), 2);
    const r = await resolveImageTarget(manifest, blobs.read, { platform: 'linux/amd64' });
    expect(r.target).to.equal(manifest);
    expect(r.manifestDescriptor).to.equal(manifest);
    expect(r.manifest.layers).to.have.length(2);
    expect(r.config.rootfs.diff_ids).to.deep.equal(diffIds);
    expect(r.chainIds).to.deep.equal(chainIds(diffIds));
    expect(r.chainId).to.equal(chainIds(diffIds)[1]);
  });

  it('picks the best entry of an index for the platform (platform matcher rules), and reads no other', async () => {
    const blobs = new Blobs();
    const amd = blobs.manifest(blobs.config(AMD64, diffIds), 2, { platform: AMD64 });
    const arm = blobs.manifest(blobs.config(ARM64, diffIds.slice(0, 1)), 1, { platform: ARM64 });
    const attestation = { ...blobs.manifest(blobs.config(AMD64, []), 0), annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } };
    const index = blobs.index([attestation, amd, arm]);
    const r = await resolveImageTarget(index, blobs.read, { platform: 'linux/arm64' });
    expect(r.target).to.equal(index);
    expect(r.manifestDescriptor.digest).to.equal(arm.digest);
    expect(r.chainId).to.equal(diffIds[0]);
    expect(blobs.reads).to.not.include(amd.digest);
    // A matcher is accepted as well as a string; amd64/v3 falls back to the plain amd64 entry.
    const viaMatcher = await resolveImageTarget(index, blobs.read, { platform: platformMatcher({ ...AMD64, variant: 'v3' }) });
    expect(viaMatcher.manifestDescriptor.digest).to.equal(amd.digest);
  });

  it('refuses an index without the platform: ERR_NO_MATCHING_PLATFORM naming what is on offer', async () => {
    const blobs = new Blobs();
    const index = blobs.index([blobs.manifest(blobs.config(AMD64, diffIds), 2, { platform: AMD64 })]);
    const err = await codedRejection(resolveImageTarget(index, blobs.read, { platform: 'linux/s390x' }));
    expect(err.code).to.equal('ERR_NO_MATCHING_PLATFORM');
    expect(err.details).to.deep.include({ wanted: 'linux/s390x', available: ['linux/amd64'] });
  });

  it('refuses a config for another platform than its index entry promised: ERR_PLATFORM_MISMATCH', async () => {
    const blobs = new Blobs();
    const index = blobs.index([blobs.manifest(blobs.config({ os: 'linux', architecture: 's390x' }, diffIds), 2, { platform: AMD64 })]);
    const err = await codedRejection(resolveImageTarget(index, blobs.read, { platform: 'linux/amd64' }));
    expect(err.code).to.equal('ERR_PLATFORM_MISMATCH');
    expect(err.details).to.deep.include({ field: 'architecture', expected: 'linux/amd64', actual: 'linux/s390x' });
  });

  it(`follows nested indexes up to ${MAX_INDEX_DEPTH} deep, and refuses one more with ERR_INVALID_MANIFEST without reading below it`, async () => {
    const blobs = new Blobs();
    const manifest = blobs.manifest(blobs.config(AMD64, diffIds), 2, { platform: AMD64 });
    let top = blobs.index([manifest]);
    for (let depth = 2; depth <= MAX_INDEX_DEPTH; depth++) top = blobs.index([{ ...top, platform: AMD64 }]);
    const deepest = await resolveImageTarget(top, blobs.read, { platform: AMD64 });
    expect(deepest.manifestDescriptor.digest).to.equal(manifest.digest);
    expect(deepest.chainId).to.equal(chainIds(diffIds)[1]);

    const tooDeep = blobs.index([{ ...top, platform: AMD64 }]);
    blobs.reads.length = 0;
    const err = await codedRejection(resolveImageTarget(tooDeep, blobs.read, { platform: AMD64 }));
    expect(err.code).to.equal('ERR_INVALID_MANIFEST');
    expect(err.message).to.match(/nested indexes/);
    expect(blobs.reads).to.have.length(MAX_INDEX_DEPTH + 1); // the indexes only: no manifest, no config
  });

  it('accepts an image without layers (FROM scratch): no chain IDs, no chain ID', async () => {
    const blobs = new Blobs();
    const manifest = blobs.manifest(blobs.config(AMD64, []), 0);
    const r = await resolveImageTarget(manifest, blobs.read, { platform: AMD64 });
    expect(r.manifest.layers).to.deep.equal([]);
    expect(r.chainIds).to.deep.equal([]);
    expect(r).to.not.have.property('chainId');
  });

  for (const [layers, ids] of [
    [2, 1],
    [1, 2],
    [0, 1],
    [1, 0],
  ] as const) {
    it(`refuses ${layers} layers with ${ids} diff_ids: ERR_INVALID_MANIFEST on rootfs.diff_ids`, async () => {
      const blobs = new Blobs();
      const manifest = blobs.manifest(blobs.config(AMD64, diffIds.slice(0, ids)), layers);
      const err = await codedRejection(resolveImageTarget(manifest, blobs.read, { platform: AMD64 }));
      expect(err.code).to.equal('ERR_INVALID_MANIFEST');
      expect(err.details).to.deep.equal({ field: 'rootfs.diff_ids', layers, diffIds: ids });
    });
  }

  it('checks every document against the descriptor it was reached by (size), and refuses oversized ones unread', async () => {
    const blobs = new Blobs();
    const manifest = blobs.manifest(blobs.config(AMD64, diffIds), 2);
    const lying = await codedRejection(resolveImageTarget({ ...manifest, size: manifest.size + 1 }, blobs.read, { platform: AMD64 }));
    expect(lying.code).to.equal('ERR_SIZE_MISMATCH');
    blobs.reads.length = 0;
    const huge = await codedRejection(resolveImageTarget({ ...manifest, size: 64 * 1024 * 1024 }, blobs.read, { platform: AMD64 }));
    expect(huge.code).to.equal('ERR_MANIFEST_TOO_LARGE');
    expect(blobs.reads).to.deep.equal([]);
  });

  it('rejects with signal.reason once aborted, before the next read', async () => {
    const blobs = new Blobs();
    const manifest = blobs.manifest(blobs.config(AMD64, diffIds), 2);
    const controller = new AbortController();
    const reason = new Error('stop');
    const read: BlobReader = async (d) => {
      const b = await blobs.read(d);
      controller.abort(reason);
      return b;
    };
    let caught: unknown;
    await resolveImageTarget(manifest, read, { platform: AMD64, signal: controller.signal }).catch((e: unknown) => (caught = e));
    expect(caught).to.equal(reason);
    expect(blobs.reads).to.have.length(1);
  });
});
