/**
 * The `big` test image of PERFORMANCE.md, shared by the scenarios that need it (registry-pull, unpack): a layer of
 * 8 × 25 MB random files (200 MB that gzip cannot shrink, written at level 1) and a layer of 20,000 × 1 KiB files
 * in 200 directories (gzip level 6). Each writer streams its layer to a file and returns the diff_id (sha256 of
 * the uncompressed tar), computed on the way.
 */
import { randomFill } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { DigestCalculator, digestFile } from '../lib/util/digest-stream.js';
import { initLayout, tagManifest, writeBlob } from '../test/fixtures/image-layout.js';
import { hostArchitecture } from '../test/fixtures/images.js';
import { ScenarioFailure, SIDES, type Side, type SideCommand, type SideResult } from './scenario.js';

const randomFillAsync = promisify(randomFill);
const RANDOM_FILES = 8;
const RANDOM_FILE_BYTES = 25_000_000;
const SMALL_FILES = 20_000;
const SMALL_DIRS = 200;
const GZIP_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

/**
 * Streams a tar of 8 × 25 MB random files to `path`, gzip level 1 (skopeo would compress an uncompressed layer on
 * push, changing its digest; random bytes stay ~200 MB either way). Returns the layer's diff_id.
 */
export async function writeRandomLayer(path: string, signal: AbortSignal): Promise<string> {
  const tarball = pack();
  const tarHash = new DigestCalculator();
  const done = pipeline(tarball, tarHash, createGzip({ level: 1 }), createWriteStream(path), { signal });
  for (let i = 0; i < RANDOM_FILES; i++) {
    const content = Buffer.allocUnsafe(RANDOM_FILE_BYTES);
    await randomFillAsync(content);
    await new Promise<void>((resolve, reject) =>
      tarball.entry({ name: `random/file-${i}.bin`, size: content.length, mode: 0o644 }, content, (err) => (err ? reject(err) : resolve())),
    );
  }
  tarball.finalize();
  await done;
  return tarHash.digest();
}

/** Streams a gzip tar of 20,000 × 1 KiB files in 200 directories to `path`. Returns the layer's diff_id. */
export async function writeSmallFilesLayer(path: string, signal: AbortSignal): Promise<string> {
  const tarball = pack();
  const tarHash = new DigestCalculator();
  const done = pipeline(tarball, tarHash, createGzip({ level: 6 }), createWriteStream(path), { signal });
  const perDir = SMALL_FILES / SMALL_DIRS;
  for (let d = 0; d < SMALL_DIRS; d++) {
    tarball.entry({ name: `small/d${d}/`, type: 'directory', mode: 0o755 });
    for (let f = 0; f < perDir; f++) {
      const content = Buffer.alloc(1024, `${d}/${f} `);
      tarball.entry({ name: `small/d${d}/f${f}`, size: content.length, mode: 0o644 }, content);
    }
  }
  tarball.finalize();
  await done;
  return tarHash.digest();
}

/** One layer of the built image. */
export interface BigImageLayer {
  mediaType: string;
  digest: string;
  size: number;
  diffId: string;
  /** The blob's path inside the layout. */
  path: string;
}

/**
 * Builds the two-layer `big` image into the OCI layout `dir` under `tag`, with a config whose diff_ids are the
 * layers' real ones (so it unpacks with verification). Returns the layers, bottom first.
 */
export async function buildBigLayout(dir: string, tag: string, signal: AbortSignal): Promise<BigImageLayer[]> {
  await initLayout(dir);
  const layers: BigImageLayer[] = [];
  for (const [name, write] of [
    ['random.tar.gz', writeRandomLayer],
    ['small.tar.gz', writeSmallFilesLayer],
  ] as const) {
    const file = join(dir, name);
    const diffId = await write(file, signal);
    // Layers are big: write them once and move them into the layout under their digest.
    const { hex, size } = await digestFile(file);
    const path = join(dir, 'blobs', 'sha256', hex);
    await rename(file, path);
    layers.push({ mediaType: GZIP_LAYER, digest: `sha256:${hex}`, size, diffId, path });
  }
  const config = { architecture: hostArchitecture(), os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } };
  const configDesc = await writeBlob(dir, 'application/vnd.oci.image.config.v1+json', Buffer.from(JSON.stringify(config)));
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: configDesc,
    layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
  };
  const manifestDesc = await writeBlob(dir, 'application/vnd.oci.image.manifest.v1+json', Buffer.from(JSON.stringify(manifest)));
  await tagManifest(dir, manifestDesc, tag);
  return layers;
}

/** The blobs of an OCI layout as name → size, for comparing what two pulls produced. */
export async function blobSet(dir: string): Promise<Map<string, number>> {
  const blobs = join(dir, 'blobs', 'sha256');
  const out = new Map<string, number>();
  for (const name of await readdir(blobs)) out.set(name, (await stat(join(blobs, name))).size);
  return out;
}

/** The peer of the pull scenarios: `skopeo copy` of `reference` into an OCI layout at `dest` (plain HTTP). */
export function skopeoPull(reference: string, dest: string): SideCommand {
  return { kind: 'process', argv: ['skopeo', '--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', `docker://${reference}`, `oci:${dest}:latest`] };
}

/** Fails the pair unless both sides exited 0 and wrote exactly the `expected` blobs (name → size) under `dest`. */
export async function verifySameBlobs(dest: Record<Side, string>, results: Record<Side, SideResult>, expected: Map<string, number>): Promise<void> {
  for (const side of SIDES) {
    if (results[side].exitCode !== 0) throw new ScenarioFailure(`${side} exited ${results[side].exitCode}: ${results[side].stderr.slice(-500)}`);
    const got = await blobSet(dest[side]);
    const same = got.size === expected.size && [...expected].every(([name, size]) => got.get(name) === size);
    if (!same) throw new ScenarioFailure(`${side} wrote blobs ${JSON.stringify([...got])}, expected ${JSON.stringify([...expected])}`);
  }
}
