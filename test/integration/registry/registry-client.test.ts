// RegistryClient against the real docker-registry (distribution 2.8) fixture; request counts come from its access log.

import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { expect } from 'chai';
import type { Descriptor } from '../../../lib/oci/descriptor.js';
import { RegistryClient } from '../../../lib/registry/registry-client.js';
import type { RegistryAuth } from '../../../lib/registry/types.js';
import { runTool } from '../../../lib/util/exec.js';
import { type ContainerdFixture, startContainerd } from '../../fixtures/containerd.js';
import { basicAuth } from '../../fixtures/http.js';
import {
  type BuiltImage,
  buildLayeredImage,
  layoutRoot,
  layoutSource,
  type PushedImages,
  pushImageWithSkopeo,
  withPushedImages,
} from '../../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../fixtures/registry.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

function blobPath(layoutDir: string, digest: string): string {
  return join(layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

describe('registry: RegistryClient against docker-registry', function () {
  this.timeout(60_000);
  let registry: RegistryFixture;
  let pushed: PushedImages;
  let client: RegistryClient;
  let work: string;
  let built: BuiltImage;

  before(async () => {
    registry = await startRegistry();
    pushed = await withPushedImages(registry);
    client = new RegistryClient({ retry: { baseDelayMs: 1 } });
    work = await makeTempDir('registry-client');
    built = await buildLayeredImage(join(work, 'layout'), { tag: 'v1' });
  });
  after(async () => {
    client?.close();
    await registry?.stop();
    if (work) await removeTempDir(work);
  });

  it('pulls an image pushed by skopeo by tag, byte-identical, with one HEAD to resolve', async () => {
    // Another tool's push: skopeo with --preserve-digests.
    const busybox = { ...pushed.busybox, reference: `${registry.host}/by-skopeo/busybox:latest` };
    busybox.digest = await pushImageWithSkopeo(busybox.image.layoutDir, 'latest', registry.host, 'by-skopeo/busybox', 'latest');
    registry.clearAccessLog();
    const resolved = await client.resolve(busybox.reference);
    expect(resolved.name).to.equal(busybox.reference);
    expect(resolved.descriptor).to.deep.equal({ mediaType: MANIFEST_TYPE, digest: busybox.digest, size: busybox.image.manifestSize });
    expect(await registry.countRequests({ method: 'HEAD', path: '/v2/by-skopeo/busybox/manifests/latest' })).to.equal(1);
    expect(await registry.countRequests({ method: 'GET' })).to.equal(0);

    const manifest = await client.fetchManifest(busybox.reference);
    expect(manifest.bytes.equals(busybox.image.manifest)).to.equal(true);
    if (manifest.parsed.kind !== 'manifest') throw new Error('expected a manifest');
    const fetcher = client.fetcher(busybox.reference);
    for (const desc of [manifest.parsed.manifest.config, ...manifest.parsed.manifest.layers]) {
      const got = await buffer(await fetcher.fetch(desc));
      expect(got.equals(await readFile(blobPath(busybox.image.layoutDir, desc.digest)))).to.equal(true);
    }
    const config = await client.fetchImageConfig(busybox.reference, manifest.parsed.manifest.config);
    expect(config.rootfs.diff_ids).to.deep.equal(busybox.image.layers.map((l) => l.diffId));
  });

  it('pulls by digest and verifies the body', async () => {
    const { layered } = pushed;
    const ref = `${registry.host}/layered@${layered.digest}`;
    const resolved = await client.resolve(ref);
    expect(resolved.descriptor.digest).to.equal(layered.digest);
    const fetched = await client.fetchManifest(ref);
    expect(fetched.bytes.equals(layered.image.manifest)).to.equal(true);
    const viaFetcher = await buffer(await client.fetcher(ref).fetch(resolved.descriptor));
    expect(viaFetcher.equals(layered.image.manifest)).to.equal(true);
  });

  it('maps distribution errors: MANIFEST_UNKNOWN, NAME_UNKNOWN, BLOB_UNKNOWN', async () => {
    const noTag = await client.fetchManifest(`${registry.host}/busybox:nope`).catch((e: unknown) => e as Record<string, unknown>);
    expect(noTag).to.include({ code: 'ERR_REGISTRY_NOT_FOUND', status: 404, registryCode: 'MANIFEST_UNKNOWN', temporary: false });
    const noRepo = await client.resolve(`${registry.host}/nothing/here:latest`).catch((e: unknown) => e as Record<string, unknown>);
    expect(noRepo).to.include({ code: 'ERR_REGISTRY_NOT_FOUND' });
    const missing = { mediaType: 'application/octet-stream', digest: `sha256:${'0'.repeat(64)}`, size: 1 } as Descriptor;
    const noBlob = await client.fetchBlob(`${registry.host}/busybox`, missing).catch((e: unknown) => e as Record<string, unknown>);
    expect(noBlob).to.include({ code: 'ERR_REGISTRY_NOT_FOUND', registryCode: 'BLOB_UNKNOWN' });
    expect(await client.blobExists(`${registry.host}/busybox`, missing)).to.equal(false);
  });

  it('pushes a new image that skopeo reads and copies, and containerd pulls', async () => {
    const ref = `${registry.host}/pushed/layered:v1`;
    registry.clearAccessLog();
    const result = await client.pushImage(ref, await layoutRoot(built.layoutDir, built.tag), layoutSource(built.layoutDir));
    expect([...result.blobs.values()].every((r) => r === 'uploaded')).to.equal(true);
    expect(result.blobs.size).to.equal(4);
    // Children first: every blob PUT comes before the manifest PUT.
    const log = await registry.accessLog();
    const manifestAt = log.findIndex((e) => e.method === 'PUT' && e.path === '/v2/pushed/layered/manifests/v1');
    const lastBlobAt = log.map((e) => e.method === 'PUT' && e.path.includes('/blobs/uploads/')).lastIndexOf(true);
    expect(manifestAt).to.be.greaterThan(lastBlobAt);

    const inspect = JSON.parse((await runTool('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`])).stdout) as { Digest: string; Layers: string[] };
    expect(inspect.Digest).to.equal(built.manifestDigest);
    expect(inspect.Layers).to.deep.equal(built.layers.map((l) => l.digest));
    const copy = join(work, 'skopeo-copy');
    await runTool('skopeo', ['--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', '--preserve-digests', `docker://${ref}`, `oci:${copy}:v1`]);
    for (const layer of built.layers) {
      expect((await readFile(blobPath(copy, layer.digest))).equals(await readFile(blobPath(built.layoutDir, layer.digest)))).to.equal(true);
    }

    let containerd: ContainerdFixture | undefined;
    try {
      containerd = await startContainerd();
      await containerd.ctr(['images', 'pull', '--plain-http', ref]);
      const listed = await containerd.ctr(['images', 'ls']);
      expect(listed).to.contain(ref).and.contain(built.manifestDigest);
    } finally {
      await containerd?.stop();
    }
  });

  it('pushes a blob in chunks (POST, PATCH with Content-Range…, PUT ?digest=)', async () => {
    const layer = built.layers[0]!;
    const desc: Descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest as Descriptor['digest'], size: layer.size };
    registry.clearAccessLog();
    const chunk = 256 * 1024;
    const outcome = await client.pushBlob(`${registry.host}/chunked`, desc, () => createReadStream(blobPath(built.layoutDir, layer.digest)), {
      chunkSize: chunk,
    });
    expect(outcome).to.equal('uploaded');
    expect(await registry.countRequests({ method: 'PATCH', path: /^\/v2\/chunked\/blobs\/uploads\//, status: 202 })).to.equal(Math.ceil(layer.size / chunk));
    expect(await registry.countRequests({ method: 'PUT', path: /^\/v2\/chunked\/blobs\/uploads\//, status: 201 })).to.equal(1);
    const back = await buffer(await client.fetchBlob(`${registry.host}/chunked`, desc));
    expect(back.equals(await readFile(blobPath(built.layoutDir, layer.digest)))).to.equal(true);
    // Pushing again is a HEAD and nothing else.
    registry.clearAccessLog();
    expect(await client.pushBlob(`${registry.host}/chunked`, desc, Buffer.alloc(0))).to.equal('exists');
    expect((await registry.accessLog()).map((e) => e.method)).to.deep.equal(['HEAD']);
  });

  it('mounts a blob from another repository without uploading it', async () => {
    const layer = pushed.busybox.image.layers[0]!;
    const desc: Descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest as Descriptor['digest'], size: layer.size };
    registry.clearAccessLog();
    const outcome = await client.pushBlob(`${registry.host}/mounted`, desc, () => createReadStream(blobPath(pushed.busybox.image.layoutDir, layer.digest)), {
      mountFrom: 'busybox',
    });
    expect(outcome).to.equal('mounted');
    const log = await registry.accessLog();
    expect(log.filter((e) => e.method === 'POST' && e.uri.includes('mount=') && e.uri.includes('from=busybox') && e.status === 201)).to.have.length(1);
    expect(log.filter((e) => e.method === 'PATCH' || (e.method === 'PUT' && e.path.includes('/blobs/')))).to.have.length(0);
    expect(await client.blobExists(`${registry.host}/mounted`, desc)).to.equal(true);
  });

  it('lists 250 tags, and pages through the catalog by Link', async () => {
    const { busybox } = pushed;
    const tags = Array.from({ length: 250 }, (_, i) => `t${String(i).padStart(3, '0')}`);
    const m = JSON.parse(busybox.image.manifest.toString()) as { config: Descriptor; layers: Descriptor[] };
    for (const d of [m.config, ...m.layers]) expect(await client.mountBlob(`${registry.host}/many`, d, 'busybox', Buffer.alloc(0))).to.equal('mounted');
    for (const tag of tags) await client.pushManifest(`${registry.host}/many:${tag}`, busybox.image.manifest, MANIFEST_TYPE);
    registry.clearAccessLog();
    const listed: string[] = [];
    for await (const tag of client.tags(`${registry.host}/many`, { pageSize: 50 })) listed.push(tag);
    expect(listed.sort()).to.deep.equal(tags);
    // distribution 2.8 ignores `n` on tags/list and answers in one page without a Link (paging by Link is covered
    // against the fake registry); the client must still get every tag.
    expect(await registry.countRequests({ method: 'GET', path: '/v2/many/tags/list' })).to.equal(1);

    // The catalog does page in 2.8: busybox, layered, pushed/layered, chunked, mounted, many = 6 repositories.
    registry.clearAccessLog();
    const repos: string[] = [];
    for await (const repo of client.catalog(registry.host, { pageSize: 2 })) repos.push(repo);
    expect(repos).to.include.members(['busybox', 'layered', 'many', 'mounted', 'chunked', 'pushed/layered']);
    const pages = await registry.countRequests({ method: 'GET', path: '/v2/_catalog' });
    expect(pages).to.be.within(Math.ceil(repos.length / 2), Math.ceil(repos.length / 2) + 1);
  });

  it('deletes a manifest and a blob', async () => {
    const ref = `${registry.host}/deleteme:v1`;
    await client.pushImage(ref, await layoutRoot(built.layoutDir, built.tag), layoutSource(built.layoutDir), { mountFrom: 'pushed/layered' });
    await client.deleteManifest(`${registry.host}/deleteme@${built.manifestDigest}`);
    const gone = await client.fetchManifest(`${registry.host}/deleteme@${built.manifestDigest}`).catch((e: unknown) => e as Record<string, unknown>);
    expect(gone).to.include({ code: 'ERR_REGISTRY_NOT_FOUND' });
    const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: built.configDigest, size: 1 } as Descriptor;
    expect(await client.blobExists(`${registry.host}/deleteme`, config)).to.equal(true);
    await client.deleteBlob(`${registry.host}/deleteme`, built.configDigest);
    expect(await client.blobExists(`${registry.host}/deleteme`, config)).to.equal(false);
    expect(await registry.countRequests({ method: 'DELETE', status: 202 })).to.equal(2);
  });

  it('reports progress per descriptor as events and as an async iterable', async () => {
    const layer = pushed.busybox.image.layers[0]!;
    const desc = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.size } as Descriptor;
    const controller = new AbortController();
    const seen: number[] = [];
    const iterated = (async () => {
      for await (const event of client.progress({ signal: controller.signal })) if (event.status === 'done') return event;
      return undefined;
    })();
    client.events.on('progress', (e) => seen.push(e.complete));
    await buffer(await client.fetchBlob(pushed.busybox.reference, desc));
    const done = await iterated;
    controller.abort();
    client.events.removeAllListeners('progress');
    expect(done).to.include({ direction: 'fetch', complete: layer.size, total: layer.size, status: 'done' });
    expect(seen.at(-1)).to.equal(layer.size);
  });
});

describe('registry: RegistryClient with basic auth (htpasswd)', function () {
  this.timeout(60_000);
  let registry: RegistryFixture;
  let pushed: PushedImages;
  const stub = (password: string): RegistryAuth & { challenges: number } => ({
    challenges: 0,
    async authorization() {
      return undefined;
    },
    async challenge(_host, www) {
      this.challenges++;
      return String(www).startsWith('Basic') ? basicAuth('alice', password) : undefined;
    },
  });

  before(async () => {
    registry = await startRegistry({ auth: { username: 'alice', password: 'right-password' } });
    pushed = await withPushedImages(registry);
  });
  after(async () => registry?.stop());

  it('answers the Basic challenge with the right password', async () => {
    const auth = stub('right-password');
    const client = new RegistryClient({ auth });
    try {
      const resolved = await client.resolve(pushed.busybox.reference);
      expect(resolved.descriptor.digest).to.equal(pushed.busybox.digest);
      expect(auth.challenges).to.equal(1);
    } finally {
      client.close();
    }
  });

  it('fails with ERR_REGISTRY_UNAUTHORIZED on a wrong password, without looping', async () => {
    const auth = stub('wrong-password');
    const client = new RegistryClient({ auth, retry: { maxAttempts: 1 } });
    try {
      registry.clearAccessLog();
      const err = (await client.fetchManifest(pushed.busybox.reference).then(
        () => new Error('resolved'),
        (e: unknown) => e,
      )) as Error & { code: string };
      expect(err.code).to.equal('ERR_REGISTRY_UNAUTHORIZED');
      expect(err.message).to.not.contain('wrong-password');
      expect(auth.challenges).to.equal(1);
      expect(await registry.countRequests({ method: 'GET', status: 401 })).to.equal(2);
    } finally {
      client.close();
    }
  });
});
