// applyLayer writes a regular file one of three ways by size: finished on the main thread (≤ 64 KiB), written on
// the pool after being collected (≤ 256 KiB), or streamed. Each way must leave the same content, mode and times.

import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { expect } from 'chai';
import { pack } from 'tar-stream';
import { applyLayer } from '../../../lib/unpack/index.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const MTIME = new Date('2021-02-03T04:05:06Z');
const isRoot = process.geteuid?.() === 0;

interface FileSpec {
  name: string;
  size: number;
  mode: number;
}

// Sizes around both limits; modes that need a chmod after the create (setuid, setgid, sticky) and ones that do not.
const FILES: FileSpec[] = [
  { name: 'empty', size: 0, mode: 0o644 },
  { name: 'tiny-setuid', size: 1, mode: 0o4755 },
  { name: 'sync-limit', size: 64 * 1024, mode: 0o2750 },
  { name: 'above-sync-limit', size: 64 * 1024 + 1, mode: 0o1777 },
  { name: 'collect-limit', size: 256 * 1024, mode: 0o600 },
  { name: 'streamed', size: 256 * 1024 + 1, mode: 0o4711 },
];

function contentOf(spec: FileSpec): Buffer {
  const out = Buffer.alloc(spec.size);
  for (let i = 0; i < out.length; i++) out[i] = (i * 31 + spec.name.length) & 0xff;
  return out;
}

async function layerOf(files: FileSpec[], owner: number, links: string[] = []): Promise<Buffer> {
  const tarball = pack();
  const done = buffer(tarball);
  tarball.entry({ name: 'd/', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: MTIME });
  for (const spec of files) tarball.entry({ name: `d/${spec.name}`, mode: spec.mode, uid: owner, gid: owner, mtime: MTIME, size: spec.size }, contentOf(spec));
  // `d/<name>.link` is a hardlink to `d/<name>`.
  for (const name of links) tarball.entry({ name: `d/${name}.link`, type: 'link', linkname: `d/${name}`, mode: 0o644, mtime: MTIME });
  tarball.finalize();
  return done;
}

describe('unpack: regular files by size (main-thread, pool, streamed writes)', function () {
  this.timeout(30_000);
  let work: string;

  before(async () => {
    work = await makeTempDir('unpack-file-paths');
  });
  after(async () => {
    await removeTempDir(work);
  });

  it('gives every file its content, mode (special bits kept), owner and mtime whichever way it was written', async () => {
    // As root the owner differs from ours, so the fchown (and the chmod after it) is exercised too.
    const owner = isRoot ? 4321 : (process.geteuid?.() ?? 0);
    const root = join(work, 'rootfs');
    await applyLayer(root, Readable.from([await layerOf(FILES, owner)]), { concurrency: 4 });
    for (const spec of FILES) {
      const path = join(root, 'd', spec.name);
      const st = await lstat(path);
      expect(st.isFile(), spec.name).to.equal(true);
      expect(st.mode & 0o7777, `${spec.name} mode`).to.equal(spec.mode);
      expect(st.size, `${spec.name} size`).to.equal(spec.size);
      expect(st.mtimeMs, `${spec.name} mtime`).to.equal(MTIME.getTime());
      expect(st.uid, `${spec.name} uid`).to.equal(owner);
      expect(st.gid, `${spec.name} gid`).to.equal(owner);
      expect((await readFile(path)).equals(contentOf(spec)), `${spec.name} content`).to.equal(true);
    }
  });

  it("replaces a lower layer's file instead of writing through it (a hardlink to it keeps the old content)", async () => {
    const root = join(work, 'replace');
    const small = FILES.slice(0, 4);
    await applyLayer(
      root,
      Readable.from([
        await layerOf(
          small,
          0,
          small.map((s) => s.name),
        ),
      ]),
    );
    const upper = small.map((s) => ({ ...s, size: s.size + 3, mode: 0o640 }));
    await applyLayer(root, Readable.from([await layerOf(upper, 0)]));
    for (const [i, spec] of upper.entries()) {
      const path = join(root, 'd', spec.name);
      expect((await lstat(path)).mode & 0o7777, `${spec.name} mode`).to.equal(0o640);
      expect((await readFile(path)).equals(contentOf(spec)), `${spec.name} content`).to.equal(true);
      const link = await lstat(`${path}.link`);
      expect(link.mode & 0o7777, `${spec.name}.link mode`).to.equal(small[i]!.mode);
      expect((await readFile(`${path}.link`)).equals(contentOf(small[i]!)), `${spec.name}.link content`).to.equal(true);
    }
  });
});
