// buildImage with real parts: a layout store skopeo and umoci read, the project's unpacker, runc through the spec
// builder, and the local content store's writers (abort and GC hooked in through a thin wrapper).

import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Ingester, Writer } from '../../../lib/content/index.js';
import { type BuildImageResult, buildImage, createLease, type ImageBuildStore, ImageStore } from '../../../lib/images/index.js';
import { generateSpec, OCIRuntime, withImageConfig } from '../../../lib/runtime/index.js';
import { Unpacker } from '../../../lib/unpack/index.js';
import { runTool } from '../../../lib/util/index.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';
import { compareTrees } from '../../fixtures/tree-compare.js';

const CREATED = new Date('2024-01-02T03:04:05Z');
const BUSYBOX = '/bin/busybox';

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

/** A tiny root: busybox-static as /bin/busybox, /bin/sh and a few applets as symlinks, a message file. */
async function makeRoot(dir: string): Promise<void> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  await copyFile(BUSYBOX, join(dir, 'bin', 'busybox'));
  for (const applet of ['sh', 'cat', 'echo', 'ls']) await symlink('busybox', join(dir, 'bin', applet));
  for (const d of ['etc', 'proc', 'sys', 'dev', 'tmp']) await mkdir(join(dir, d), { recursive: true });
  await writeFile(join(dir, 'etc', 'message'), 'hello from a built image\n');
}

function digestOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function blobs(store: ImageStore): Promise<string[]> {
  const out: string[] = [];
  await store.content.walk((info) => void out.push(info.digest));
  return out.sort();
}

/** Applies every layer of `image` with the project's unpacker into `dest`, each verified by digest and diff_id. */
async function unpackWith(store: ImageStore, image: BuildImageResult, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  const unpacker = new Unpacker();
  for (const [i, layer] of image.manifest.layers.entries()) {
    await unpacker.applyLayerFile(dest, store.content.blobPath(layer.digest), layer, image.diffIds[i]);
  }
}

/** The store with its content writers wrapped: `hook` runs at each writer's first write or before its commit. */
function hooked(store: ImageStore, hook: { onWrite?: (w: Writer) => void; beforeCommit?: (w: Writer) => Promise<void> }): ImageBuildStore {
  const writer: Ingester['writer'] = async (options) => {
    const inner = await store.content.writer(options);
    let wrote = false;
    return Object.assign(Object.create(inner) as Writer, {
      ref: inner.ref,
      write: async (data: Uint8Array, o?: { signal?: AbortSignal }) => {
        if (!wrote) hook.onWrite?.(inner);
        wrote = true;
        return inner.write(data, o);
      },
      commit: async (size?: number, digest?: string, o?: { signal?: AbortSignal }) => {
        await hook.beforeCommit?.(inner);
        return inner.commit(size, digest, o);
      },
      close: () => inner.close(),
      status: () => inner.status(),
      digest: () => inner.digest(),
      truncate: (size: 0) => inner.truncate(size),
    });
  };
  const content = { writer, readerAt: store.content.readerAt.bind(store.content), abort: store.content.abort.bind(store.content) };
  return { content, index: store.index };
}

describe('images: buildImage', function () {
  this.timeout(120_000);
  let work: string;
  let rootfs: string;
  let store: ImageStore;
  let v1: BuildImageResult;

  before(async () => {
    work = await makeTempDir('build-image');
    rootfs = join(work, 'rootfs');
    await makeRoot(rootfs);
    store = await ImageStore.open(join(work, 'store'));
    v1 = await buildImage(store, 'example.test/app:v1', {
      layers: [{ directory: rootfs, comment: 'busybox root' }],
      config: {
        Cmd: ['sh', '-c', 'cat /etc/message; echo "cwd $(pwd) as $(id -u)"'],
        Env: ['PATH=/bin', 'GREETING=hi'],
        WorkingDir: '/tmp',
        Labels: { stage: 'one' },
      },
      created: CREATED,
    });
  });

  after(async () => {
    await removeTempDir(work);
  });

  it('names the image in the layout; skopeo inspects it and umoci unpacks the same tree', async () => {
    expect(v1.name).to.equal('example.test/app:v1');
    expect((await store.get(v1.name)).manifestDescriptor.digest).to.equal(v1.manifestDescriptor.digest);
    const { stdout } = await runTool('skopeo', ['inspect', `oci:${store.root}:${v1.name}`]);
    const inspected = JSON.parse(stdout) as { Digest: string; Layers: string[]; Env: string[]; Created: string; Labels: Record<string, string> };
    expect(inspected.Digest).to.equal(v1.manifestDescriptor.digest);
    expect(inspected.Layers).to.deep.equal([v1.layers[0]!.descriptor.digest]);
    expect(inspected.Env).to.deep.equal(['PATH=/bin', 'GREETING=hi']);
    expect(inspected.Labels).to.deep.equal({ stage: 'one' });
    expect(inspected.Created).to.equal('2024-01-02T03:04:05Z');
    const raw = JSON.parse((await runTool('skopeo', ['inspect', '--config', `oci:${store.root}:${v1.name}`])).stdout) as {
      rootfs: { diff_ids: string[] };
      history: unknown[];
    };
    expect(raw.rootfs.diff_ids).to.deep.equal(v1.diffIds);
    expect(raw.history).to.deep.equal([{ created: '2024-01-02T03:04:05Z', created_by: 'containerkit buildImage', comment: 'busybox root' }]);
    const umoci = join(work, 'umoci');
    await runTool('umoci', ['--log', 'error', 'raw', 'unpack', '--image', `${store.root}:${v1.name}`, umoci]);
    expect(await compareTrees(rootfs, umoci)).to.deep.equal([]);
  });

  it("the project's unpacker reproduces the directory (digests and diff_ids verified)", async () => {
    const dest = join(work, 'unpacked-v1');
    await unpackWith(store, v1, dest);
    expect(await compareTrees(rootfs, dest)).to.deep.equal([]);
    expect((await store.verify()).missing).to.deep.equal([]);
  });

  it('runs with runc through generateSpec + withImageConfig: the Cmd prints its output', async () => {
    const bundle = join(work, 'bundle');
    await unpackWith(store, v1, join(bundle, 'rootfs'));
    const id = `ck-build-${process.pid}`;
    const spec = await generateSpec([withImageConfig(v1.config)], { rootfs: join(bundle, 'rootfs'), id });
    await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
    const runtime = new OCIRuntime({ root: join(work, 'runc') });
    const result = await runtime.run(id, bundle, { stdio: 'pipe' });
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.equal('hello from a built image\ncwd /tmp as 0\n');
  });

  it('appends a layer (a diff against the first tree) onto a base: layers, history and config kept, Cmd replaced', async () => {
    const tree = join(work, 'rootfs-v2');
    await runTool('cp', ['-a', rootfs, tree]);
    await rm(join(tree, 'etc', 'message'));
    await writeFile(join(tree, 'etc', 'extra'), 'second layer\n');
    const later = new Date('2024-02-03T00:00:00Z');
    const v2 = await buildImage(store, 'example.test/app:v2', {
      base: 'example.test/app:v1',
      layers: [{ directory: tree, lower: rootfs, createdBy: 'add extra, drop message' }],
      config: { Cmd: ['cat', '/etc/extra'], Labels: { stage: 'two' } },
      created: later,
    });
    expect(v2.manifest.layers.map((l) => l.digest)).to.deep.equal([...v1.manifest.layers.map((l) => l.digest), v2.layers[0]!.descriptor.digest]);
    expect(v2.diffIds).to.deep.equal([...v1.diffIds, v2.layers[0]!.diffId]);
    expect(v2.config.history).to.deep.equal([...v1.config.history!, { created: '2024-02-03T00:00:00Z', created_by: 'add extra, drop message' }]);
    expect(v2.config.config).to.deep.equal({ ...v1.config.config, Cmd: ['cat', '/etc/extra'], Labels: { stage: 'two' } });
    expect(v2.config.created).to.equal('2024-02-03T00:00:00Z');
    expect(v2.chainId).to.not.equal(v1.chainId);
    // The diff layer holds only the change (a whiteout, the new file, their parent dir), not busybox again.
    expect(v2.layers[0]!.descriptor.size).to.be.below(1024);
    const dest = join(work, 'unpacked-v2');
    await unpackWith(store, v2, dest);
    expect(await compareTrees(tree, dest)).to.deep.equal([]);
    const names = (await store.list()).map((r) => r.name);
    expect(names).to.include.members(['example.test/app:v1', 'example.test/app:v2']);
    await runTool('umoci', ['--log', 'error', 'raw', 'unpack', '--image', `${store.root}:${v2.name}`, join(work, 'umoci-v2')]);
    expect(await compareTrees(tree, join(work, 'umoci-v2'))).to.deep.equal([]);
  });

  it('appending onto a Docker schema 2 base makes an OCI image (base layers under their OCI types) that skopeo lists', async () => {
    const configBytes = Buffer.from(JSON.stringify(v1.config));
    const config = { mediaType: 'application/vnd.docker.container.image.v1+json', digest: digestOf(configBytes), size: configBytes.length };
    const layers = v1.manifest.layers.map((l) => ({ ...l, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }));
    const manifestBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config, layers }));
    for (const bytes of [configBytes, manifestBytes]) {
      const w = await store.content.writer({ ref: `docker-base-${digestOf(bytes)}` });
      await w.write(bytes);
      await w.commit(bytes.length, digestOf(bytes)).catch((err: { code?: string }) => {
        if (err.code !== 'ERR_ALREADY_EXISTS') throw err;
      });
    }
    await store.index.put('example.test/docker-base:1', {
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      digest: digestOf(manifestBytes) as never,
      size: manifestBytes.length,
    });
    const tree = join(work, 'docker-extra');
    await mkdir(tree);
    await writeFile(join(tree, 'extra'), 'x\n');
    const built = await buildImage(store, 'example.test/on-docker:1', { base: 'example.test/docker-base:1', layers: [{ directory: tree }], created: CREATED });
    expect(built.manifestDescriptor.mediaType).to.equal('application/vnd.oci.image.manifest.v1+json');
    expect(built.configDescriptor.mediaType).to.equal('application/vnd.oci.image.config.v1+json');
    expect(built.manifest.layers.map((l) => l.mediaType)).to.deep.equal([
      'application/vnd.oci.image.layer.v1.tar+gzip',
      'application/vnd.oci.image.layer.v1.tar+gzip',
    ]);
    expect(built.manifest.layers[0]!.digest).to.equal(v1.manifest.layers[0]!.digest);
    expect(built.config.config).to.deep.equal(v1.config.config);
    const inspected = JSON.parse((await runTool('skopeo', ['inspect', `oci:${store.root}:${built.name}`])).stdout) as { Layers: string[] };
    expect(inspected.Layers).to.deep.equal(built.manifest.layers.map((l) => l.digest));
  });

  it('is reproducible: the same tree and created give the same digests; another created or compression does not', async () => {
    const again = await buildImage(store, 'example.test/again', {
      layers: [{ directory: rootfs, comment: 'busybox root' }],
      config: v1.config.config!,
      created: CREATED,
    });
    expect(again.name).to.equal('example.test/again:latest');
    expect(again.manifestDescriptor).to.deep.equal(v1.manifestDescriptor);
    const other = await buildImage(store, 'example.test/again:later', {
      layers: [{ directory: rootfs, comment: 'busybox root' }],
      config: v1.config.config!,
      created: new Date('2025-01-01T00:00:00Z'),
    });
    expect(other.manifestDescriptor.digest).to.not.equal(v1.manifestDescriptor.digest);
    expect(other.layers[0]!.descriptor.digest).to.equal(v1.layers[0]!.descriptor.digest);
    const plain = await buildImage(store, 'example.test/plain', { layers: [{ directory: rootfs }], compression: 'none', created: CREATED });
    expect(plain.layers[0]!.descriptor.mediaType).to.equal('application/vnd.oci.image.layer.v1.tar');
    expect(plain.layers[0]!.descriptor.digest).to.equal(plain.layers[0]!.diffId);
    expect(plain.diffIds).to.deep.equal(v1.diffIds);
    await runTool('skopeo', ['inspect', `oci:${store.root}:${plain.name}`]);
  });

  it('a missing directory or base, or bad options, fail typed before anything is written', async () => {
    const before = await blobs(store);
    expect(await codeOf(buildImage(store, 'example.test/bad:1', { layers: [{ directory: rootfs }, { directory: join(work, 'nope') }] }))).to.equal(
      'ERR_NOT_FOUND',
    );
    expect(await codeOf(buildImage(store, 'example.test/bad:2', { base: 'example.test/missing:1', layers: [{ directory: rootfs }] }))).to.equal(
      'ERR_IMAGE_NOT_FOUND',
    );
    expect(await codeOf(buildImage(store, 'example.test/bad:3', {}))).to.equal('ERR_INVALID_ARGUMENT');
    expect(await codeOf(buildImage(store, 'example.test/bad:4', { layers: [{ directory: rootfs }], config: { Cmnd: ['x'] } as never }))).to.equal(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await codeOf(buildImage(store, 'Bad Name!', { layers: [{ directory: rootfs }] }))).to.equal('ERR_INVALID_REFERENCE');
    expect(await codeOf(buildImage(store, 'example.test/bad:5', { layers: [{ directory: rootfs }], platform: { os: 'linux' } as never }))).to.equal(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await codeOf(buildImage({ content: store.content, index: {} } as never, 'example.test/bad:6', { layers: [{ directory: rootfs }] }))).to.equal(
      'ERR_INVALID_ARGUMENT',
    );
    const aborted = AbortSignal.abort(new Error('before'));
    expect(await codeOf(buildImage(store, 'example.test/bad:7', { layers: [{ directory: rootfs }], signal: aborted }))).to.equal('Error: before');
    expect(await blobs(store)).to.deep.equal(before);
    expect((await store.list()).map((r) => r.name).filter((n) => n.startsWith('example.test/bad'))).to.deep.equal([]);
  });

  it('an abort while a layer streams leaves no blob, no ingest and no name', async () => {
    const big = join(work, 'big');
    await mkdir(big);
    // Random bytes do not compress: the layer takes many writes, and the abort lands after the first.
    await writeFile(join(big, 'random.bin'), (await import('node:crypto')).randomBytes(8 << 20));
    const before = await blobs(store);
    const controller = new AbortController();
    const reason = new Error('stop the build');
    const wrapped = hooked(store, { onWrite: () => controller.abort(reason) });
    let caught: unknown;
    await buildImage(wrapped, 'example.test/aborted:1', { layers: [{ directory: big }], signal: controller.signal }).catch((err: unknown) => (caught = err));
    expect(caught).to.equal(reason);
    expect(await blobs(store)).to.deep.equal(before);
    expect(await store.content.listStatuses()).to.deep.equal([]);
    expect(await store.index.get('example.test/aborted:1')).to.equal(undefined);
  });

  it('with a lease, a GC running between the layer commit and the name keeps every blob', async () => {
    const tree = join(work, 'gc-tree');
    await mkdir(tree);
    await writeFile(join(tree, 'only-here'), `unique ${process.pid}\n`);
    const lease = await createLease(store.root);
    try {
      // The GC runs before the config is committed: the new layer is committed but not yet named by anything.
      const wrapped = hooked(store, { beforeCommit: async (w) => void (w.ref.startsWith('build-sha256:') && (await store.gc())) });
      const built = await buildImage(wrapped, 'example.test/leased:1', { layers: [{ directory: tree }], lease });
      expect((await store.verify()).missing).to.deep.equal([]);
      expect(await blobs(store)).to.include(built.layers[0]!.descriptor.digest);
    } finally {
      await lease.release();
    }
    // Without the lease the same GC sweeps the fresh layer, and the named image lacks it.
    await writeFile(join(tree, 'only-here'), `unique ${process.pid} again\n`);
    const wrapped = hooked(store, { beforeCommit: async (w) => void (w.ref.startsWith('build-sha256:') && (await store.gc())) });
    const unleased = await buildImage(wrapped, 'example.test/unleased:1', { layers: [{ directory: tree }] });
    expect((await store.verify()).missing).to.include(unleased.layers[0]!.descriptor.digest);
    await store.delete(unleased.name);
    expect(await readdir(join(store.root, 'leases')).catch(() => [])).to.deep.equal([]);
  });
});
