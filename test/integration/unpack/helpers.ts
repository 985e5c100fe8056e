import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runTool } from '../../../lib/util/exec.js';
import { sha256Digest } from '../../fixtures/image-layer.js';
import { initLayout, tagManifest, writeBlob } from '../../fixtures/image-layout.js';
import { hostArchitecture } from '../../fixtures/images.js';

/** A layer blob with what a manifest and config say about it. */
export interface LayerBlob {
  blob: Buffer;
  mediaType: string;
  digest: string;
  size: number;
  diffId: string;
}

/** Gzips a tar into a layer blob. */
export function gzipLayer(tar: Buffer): LayerBlob {
  const blob = gzipSync(tar, { level: 1 });
  return { blob, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256Digest(blob), size: blob.length, diffId: sha256Digest(tar) };
}

/** Writes an image of `layers` (gzip) into the OCI layout `dir` under `tag`, for umoci. */
export async function writeImage(dir: string, tag: string, layers: LayerBlob[]): Promise<void> {
  await initLayout(dir);
  const config = {
    architecture: hostArchitecture(),
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  };
  const layerDescs = [];
  for (const layer of layers) layerDescs.push(await writeBlob(dir, layer.mediaType, layer.blob));
  const configDesc = await writeBlob(dir, 'application/vnd.oci.image.config.v1+json', Buffer.from(JSON.stringify(config)));
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: configDesc, layers: layerDescs }),
  );
  const manifestDesc = await writeBlob(dir, 'application/vnd.oci.image.manifest.v1+json', manifest);
  await tagManifest(dir, manifestDesc, tag);
}

/** `umoci raw unpack` of `layoutDir:tag` into `dest` (which must not exist). */
export async function umociUnpack(layoutDir: string, tag: string, dest: string): Promise<void> {
  await runTool('umoci', ['--log', 'error', 'raw', 'unpack', '--image', `${layoutDir}:${tag}`, dest]);
}

/** The layers of an image in a layout, as blobs with their descriptors and diff_ids. */
export async function readImageLayers(layoutDir: string, manifestDigest: string): Promise<Array<LayerBlob & { path: string }>> {
  const blobPath = (digest: string): string => join(layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length));
  const manifest = JSON.parse(await readFile(blobPath(manifestDigest), 'utf8')) as {
    config: { digest: string };
    layers: Array<{ mediaType: string; digest: string; size: number }>;
  };
  const config = JSON.parse(await readFile(blobPath(manifest.config.digest), 'utf8')) as { rootfs: { diff_ids: string[] } };
  return Promise.all(
    manifest.layers.map(async (l, i) => ({ ...l, path: blobPath(l.digest), blob: await readFile(blobPath(l.digest)), diffId: config.rootfs.diff_ids[i]! })),
  );
}
