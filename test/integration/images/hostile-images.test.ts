// Valid images must be read, images that lie refused: crafted images pushed to the real docker-registry with the
// RegistryClient (and a fake registry for a lying Content-Type), then pulled by ImageStore.

import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { ImageStore } from '../../../lib/images/index.js';
import type { Descriptor } from '../../../lib/oci/descriptor.js';
import type { Digest } from '../../../lib/oci/digest.js';
import { MEDIA_TYPES as M } from '../../../lib/oci/media-types.js';
import { RegistryClient } from '../../../lib/registry/index.js';
import { NativeSnapshotter } from '../../../lib/unpack/index.js';
import { runTool } from '../../../lib/util/exec.js';
import { codedRejection } from '../../fixtures/assert.js';
import { type FakeRegistry, sendBody, sha256, startFakeRegistry } from '../../fixtures/fake-registry.js';
import { buildLayer } from '../../fixtures/image-layer.js';
import { hostArchitecture } from '../../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../fixtures/registry.js';
import { makeTempDir } from '../../fixtures/tmp.js';

function descOf(mediaType: string, bytes: Buffer): Descriptor {
  return { mediaType, digest: sha256(bytes) as Digest, size: bytes.length };
}

/** A zstd skippable frame (RFC 8878 §3.1.2): magic 0x184D2A50 + `n`, a 4-byte little-endian size, the data. */
function skippableFrame(n: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(0x184d2a50 + n, 0);
  head.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, data]);
}

describe('images: valid images are read, images that lie are refused', function () {
  this.timeout(120_000);
  let registry: RegistryFixture;
  let client: RegistryClient;
  let work: string;
  let seq = 0;

  before(async () => {
    registry = await startRegistry();
    client = new RegistryClient({ retry: { baseDelayMs: 1 } });
    work = await makeTempDir('hostile-images');
  });
  after(async () => {
    client?.close();
    await registry?.stop();
  });

  const freshStore = (registryClient = client): Promise<ImageStore> => ImageStore.open(join(work, `store-${++seq}`), { registry: registryClient });
  const stored = (store: ImageStore, digest: string): Promise<boolean> =>
    store.content.info(digest).then(
      () => true,
      () => false,
    );

  /** Pushes blobs, then manifests (children first), with the RegistryClient; `tag` names the last one. */
  async function push(repo: string, blobs: Array<[Descriptor, Buffer]>, manifests: Array<[Descriptor, Buffer]>, tag = 'latest'): Promise<string> {
    const ref = `${registry.host}/${repo}`;
    for (const [d, bytes] of blobs) await client.pushBlob(ref, d, bytes);
    for (const [i, [d, bytes]] of manifests.entries())
      await client.pushManifest(i === manifests.length - 1 ? `${ref}:${tag}` : `${ref}@${d.digest}`, bytes, d.mediaType);
    return `${ref}:${tag}`;
  }

  /** A config for `diffIds`, with `fields` over the host's platform; and its descriptor. */
  function configOf(diffIds: string[], fields: Record<string, unknown> = {}): [Descriptor, Buffer] {
    const bytes = Buffer.from(JSON.stringify({ architecture: hostArchitecture(), os: 'linux', ...fields, rootfs: { type: 'layers', diff_ids: diffIds } }));
    return [descOf(M.OCI_CONFIG, bytes), bytes];
  }

  it('unpacks a zstd layer with skippable frames before, between and after its data frames (digest and diff_id checked)', async () => {
    const big = randomBytes(300 * 1024);
    const layer = await buildLayer([
      { type: 'dir', path: 'data' },
      { type: 'file', path: 'data/hello.txt', content: 'hello from zstd\n' },
      { type: 'file', path: 'data/big.bin', content: big },
    ]);
    // Two data frames made by the zstd tool from the two halves of the tar, and metadata frames around them.
    const half = Math.floor(layer.tar.length / 2);
    const frames: Buffer[] = [];
    for (const [i, part] of [layer.tar.subarray(0, half), layer.tar.subarray(half)].entries()) {
      const input = join(work, `part-${i}.tar`);
      await writeFile(input, part);
      await runTool('zstd', ['-q', '-f', '-3', '-o', `${input}.zst`, input]);
      frames.push(await readFile(`${input}.zst`));
    }
    const blob = Buffer.concat([
      skippableFrame(0, Buffer.from('{"zstd:chunked":"toc at the start"}')),
      frames[0]!,
      skippableFrame(9, randomBytes(1000)),
      frames[1]!,
      skippableFrame(15, Buffer.alloc(0)),
    ]);
    expect(blob.readUInt32LE(0)).to.equal(0x184d2a50);
    const layerDesc = descOf(M.OCI_LAYER_ZSTD, blob);
    const [configDesc, config] = configOf([layer.diffId]);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: M.OCI_MANIFEST, config: configDesc, layers: [layerDesc] }));
    const ref = await push(
      'zstd-skippable',
      [
        [layerDesc, blob],
        [configDesc, config],
      ],
      [[descOf(M.OCI_MANIFEST, manifest), manifest]],
    );

    const store = await freshStore();
    const snapshotter = new NativeSnapshotter(join(work, `native-${seq}`));
    const pulled = await store.pull(ref, { unpack: { snapshotter } });
    // One layer: its chain ID is its diff_id, which the unpack verified over the decompressed tar.
    expect(pulled.unpack!.chainId).to.equal(layer.diffId);
    const root = await snapshotter.directory(layer.diffId);
    expect(await readFile(join(root, 'data/hello.txt'), 'utf8')).to.equal('hello from zstd\n');
    expect((await readFile(join(root, 'data/big.bin'))).equals(big)).to.equal(true);
    expect(await store.verify()).to.deep.include({ corrupt: [], missing: [] });
  });

  it('refuses a manifest whose repeated "layers" key means two images: ERR_DUPLICATE_JSON_KEY, nothing stored or named', async () => {
    const real = await buildLayer([{ type: 'file', path: 'real.txt', content: 'real\n' }]);
    const realDesc = descOf(M.OCI_LAYER_GZIP, real.gzip);
    const [configDesc, config] = configOf([real.diffId]);
    const decoy = { ...realDesc, digest: sha256('a layer the registry never checks') };
    // Go (the registry) and JSON.parse keep the last "layers"; a first-wins parser would read the decoy.
    const text = `{"schemaVersion":2,"mediaType":"${M.OCI_MANIFEST}","config":${JSON.stringify(configDesc)},"layers":[${JSON.stringify(decoy)}],"layers":[${JSON.stringify(realDesc)}]}`;
    const manifest = Buffer.from(text);
    const manifestDesc = descOf(M.OCI_MANIFEST, manifest);
    const ref = await push(
      'dup-manifest',
      [
        [realDesc, real.gzip],
        [configDesc, config],
      ],
      [[manifestDesc, manifest]],
    );

    const store = await freshStore();
    const err = await codedRejection(store.pull(ref));
    expect(err.code).to.equal('ERR_DUPLICATE_JSON_KEY');
    expect(err.details['field']).to.equal('layers');
    expect(await stored(store, manifestDesc.digest)).to.equal(false);
    expect(await store.list()).to.deep.equal([]);
  });

  it('refuses a config with a repeated key (at depth): ERR_DUPLICATE_JSON_KEY, the config never stored, no name', async () => {
    const layer = await buildLayer([{ type: 'file', path: 'x.txt', content: 'x\n' }]);
    const layerDesc = descOf(M.OCI_LAYER_GZIP, layer.gzip);
    const [, plain] = configOf([layer.diffId], { config: { Env: ['PATH=/bin'], User: 'nobody' } });
    const config = Buffer.from(plain.toString('utf8').replace('"User":"nobody"', '"User":"root","User":"nobody"'));
    const configDesc = descOf(M.OCI_CONFIG, config);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: M.OCI_MANIFEST, config: configDesc, layers: [layerDesc] }));
    const ref = await push(
      'dup-config',
      [
        [layerDesc, layer.gzip],
        [configDesc, config],
      ],
      [[descOf(M.OCI_MANIFEST, manifest), manifest]],
    );

    const store = await freshStore();
    const err = await codedRejection(store.pull(ref));
    expect(err.code).to.equal('ERR_DUPLICATE_JSON_KEY');
    expect(err.details['field']).to.equal('config.User');
    expect(await stored(store, configDesc.digest)).to.equal(false);
    expect(await store.list()).to.deep.equal([]);
  });

  it('refuses a config for another platform than its index entry: ERR_PLATFORM_MISMATCH, the config never stored, no name', async () => {
    const layer = await buildLayer([{ type: 'file', path: 'y.txt', content: 'y\n' }]);
    const layerDesc = descOf(M.OCI_LAYER_GZIP, layer.gzip);
    const [configDesc, config] = configOf([layer.diffId], { architecture: 's390x' });
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: M.OCI_MANIFEST, config: configDesc, layers: [layerDesc] }));
    const manifestDesc = descOf(M.OCI_MANIFEST, manifest);
    const index = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: M.OCI_INDEX, manifests: [{ ...manifestDesc, platform: { os: 'linux', architecture: 'amd64' } }] }),
    );
    const ref = await push(
      'wrong-platform',
      [
        [layerDesc, layer.gzip],
        [configDesc, config],
      ],
      [
        [manifestDesc, manifest],
        [descOf(M.OCI_INDEX, index), index],
      ],
    );

    const store = await freshStore();
    const err = await codedRejection(store.pull(ref, { platform: 'linux/amd64' }));
    expect(err.code).to.equal('ERR_PLATFORM_MISMATCH');
    expect(err.details).to.deep.include({ field: 'architecture', expected: 'linux/amd64', actual: 'linux/s390x' });
    expect(await stored(store, configDesc.digest)).to.equal(false);
    expect(await store.list()).to.deep.equal([]);
  });

  describe('a registry whose Content-Type contradicts the descriptor', () => {
    let fake: FakeRegistry;
    let fakeClient: RegistryClient;
    before(async () => {
      fake = await startFakeRegistry();
      fakeClient = new RegistryClient({ retry: { baseDelayMs: 1 } });
    });
    after(async () => {
      fakeClient?.close();
      await fake?.stop();
    });
    beforeEach(() => fake.reset());

    /** The tag answers (HEAD and GET) as `tagType`; the digest is served as `digestType`. */
    function serve(bytes: Buffer, tagType: string, digestType: string): string {
      const digest = sha256(bytes);
      const headers = (type: string): Record<string, string> => ({ 'Content-Type': type, 'Docker-Content-Digest': digest });
      for (const method of ['HEAD', 'GET']) fake.route(method, '/v2/img/manifests/latest', (_req, res) => sendBody(res, 200, bytes, headers(tagType)));
      fake.route('GET', `/v2/img/manifests/${digest}`, (_req, res) => sendBody(res, 200, bytes, headers(digestType)));
      return digest;
    }

    const [configDesc] = configOf([]);
    const ociManifest = { schemaVersion: 2, mediaType: M.OCI_MANIFEST, config: configDesc, layers: [] };
    const cases: Array<{ name: string; body: unknown; tagType: string; digestType: string }> = [
      { name: 'a manifest served by digest as an index', body: ociManifest, tagType: M.OCI_MANIFEST, digestType: M.OCI_INDEX },
      {
        name: 'an index tagged as a manifest',
        body: { schemaVersion: 2, mediaType: M.OCI_INDEX, manifests: [] },
        tagType: M.OCI_MANIFEST,
        digestType: M.OCI_MANIFEST,
      },
      { name: 'a manifest tagged as an index', body: ociManifest, tagType: M.OCI_INDEX, digestType: M.OCI_INDEX },
      {
        name: 'a manifest without mediaType tagged as Docker, served as OCI',
        body: { schemaVersion: 2, config: { ...configDesc, mediaType: M.DOCKER_CONFIG }, layers: [] },
        tagType: M.DOCKER_MANIFEST,
        digestType: M.OCI_MANIFEST,
      },
    ];
    for (const c of cases) {
      it(`refuses ${c.name}: ERR_MEDIA_TYPE_MISMATCH, nothing stored or named`, async () => {
        const bytes = Buffer.from(JSON.stringify(c.body));
        const digest = serve(bytes, c.tagType, c.digestType);
        const store = await freshStore(fakeClient);
        expect((await codedRejection(store.pull(`${fake.host}/img:latest`))).code).to.equal('ERR_MEDIA_TYPE_MISMATCH');
        expect(await stored(store, digest)).to.equal(false);
        expect(await store.list()).to.deep.equal([]);
        // The RegistryClient alone refuses it as well, given the descriptor the tag resolved to.
        const descriptor = { mediaType: c.tagType, digest: digest as Digest, size: bytes.length };
        expect((await codedRejection(fakeClient.fetchManifest(`${fake.host}/img@${digest}`, { descriptor }))).code).to.equal('ERR_MEDIA_TYPE_MISMATCH');
      });
    }

    it('accepts a generic Content-Type (application/json) for a manifest its descriptor types', async () => {
      const bytes = Buffer.from(JSON.stringify(ociManifest));
      const digest = serve(bytes, M.OCI_MANIFEST, 'application/json');
      const fetched = await fakeClient.fetchManifest(`${fake.host}/img@${digest}`, {
        descriptor: { mediaType: M.OCI_MANIFEST, digest: digest as Digest, size: bytes.length },
      });
      expect(fetched.parsed.kind).to.equal('manifest');
    });
  });
});
