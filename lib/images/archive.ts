/**
 * Export of stored images as a tar stream: an OCI image layout (`oci-layout`, `index.json`, `blobs/…`) plus a
 * docker `manifest.json`, as ctr and Docker ≥ 25 write, so `docker load`, `ctr import`, `skopeo oci-archive:` and
 * `skopeo docker-archive:` all read it. Blobs stream from the store into the tar; nothing is buffered whole.
 * @module
 */
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack as tarPack } from 'tar-stream';
import type { ContentStore } from '../content/index.js';
import { newError } from '../errors/index.js';
import { ANNOTATIONS, type Descriptor, familiarName, familiarString, hostPlatform, normalizeReference, type Platform } from '../oci/index.js';
import { childrenOf } from './children.js';
import { SKIP, walk } from './handlers.js';
import type { NamedImage } from './image-index.js';
import type { ImageDetails } from './image-store.js';

/** Archive flavours: `oci` keeps whole indexes (every platform present); `docker` exports the platform manifest. */
export type ArchiveFormat = 'oci' | 'docker';

/** Options of {@link exportArchive}. */
export interface ExportArchiveOptions {
  /** Default `oci`. */
  format?: ArchiveFormat;
  /** Platform of the `manifest.json` entries (and, with `docker`, the only one exported). Default: the host's. */
  platform?: Platform | string;
  signal?: AbortSignal;
}

/** What the exporter needs of an image store. */
export interface ExportSource {
  readonly content: Pick<ContentStore, 'info' | 'readerAt'>;
  get(ref: string, options?: { platform?: Platform | string; signal?: AbortSignal }): Promise<ImageDetails>;
}

function blobName(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}

/**
 * Writes the images `refs` to `out` as a tar (see the module comment) and ends `out`.
 * @throws ERR_IMAGE_NOT_FOUND; ERR_INVALID_ARGUMENT for a bad format or no refs; ERR_NOT_FOUND for missing content.
 */
export async function exportArchive(source: ExportSource, refs: readonly string[], out: Writable, options: ExportArchiveOptions = {}): Promise<void> {
  const { format = 'oci', platform = hostPlatform(), signal } = options;
  if (format !== 'oci' && format !== 'docker') throw newError('ERR_INVALID_ARGUMENT', 'options.format must be "oci" or "docker"');
  if (refs.length === 0) throw newError('ERR_INVALID_ARGUMENT', 'at least one image reference is needed');
  const images: Array<{ record: NamedImage; details: ImageDetails; root: Descriptor }> = [];
  for (const ref of refs) {
    const details = await source.get(normalizeReference(ref).toString(), { platform, signal });
    const root = format === 'docker' ? details.manifestDescriptor : details.target;
    images.push({ record: { name: details.name, target: details.target }, details, root });
  }
  // Every blob under the roots that the store holds (an index's other platforms may be absent: skipped).
  const blobs = new Map<string, Descriptor>();
  for (const { root } of images) {
    await walk(
      async (d, ctx) => {
        if (blobs.has(d.digest)) return SKIP;
        const present = await source.content.info(d.digest, ctx).then(
          () => true,
          () => false,
        );
        if (!present) return SKIP;
        blobs.set(d.digest, d);
        return childrenOf(source.content, d, ctx);
      },
      [root],
      { signal },
    );
  }
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: images.map(({ record, root }) => {
      const ref = normalizeReference(record.name);
      const { annotations: _drop, platform: _p, ...plain } = root;
      return { ...plain, annotations: { [ANNOTATIONS.CONTAINERD_IMAGE_NAME]: record.name, [ANNOTATIONS.REF_NAME]: ref.tag ?? record.name } };
    }),
  };
  const manifestJson = images.map(({ details }) => ({
    Config: blobName(details.manifest.config.digest),
    RepoTags: [familiarString(normalizeReference(details.name))],
    Layers: details.manifest.layers.map((l) => blobName(l.digest)),
  }));
  const pack = tarPack();
  const writing = pipeline(pack, out, { signal });
  const add = (name: string, body: string): Promise<void> =>
    new Promise((resolve, reject) => pack.entry({ name, mode: 0o644, mtime: new Date(0) }, body, (err) => (err ? reject(err) : resolve())));
  try {
    await add('oci-layout', `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}\n`);
    for (const d of blobs.values()) {
      signal?.throwIfAborted();
      const reader = await source.content.readerAt(d.digest, { signal });
      try {
        const entry = pack.entry({ name: blobName(d.digest), size: reader.size, mode: 0o644, mtime: new Date(0) });
        await pipeline(reader.stream(0, { signal }), entry, { signal });
      } finally {
        await reader.close();
      }
    }
    await add('index.json', `${JSON.stringify(index)}\n`);
    await add('manifest.json', `${JSON.stringify(manifestJson)}\n`);
    if (format === 'docker') {
      const repositories: Record<string, Record<string, string>> = {};
      for (const { details } of images) {
        const ref = normalizeReference(details.name);
        const top = details.config.rootfs.diff_ids.at(-1);
        if (ref.tag !== undefined && top !== undefined) (repositories[familiarName(ref)] ??= {})[ref.tag] = top.slice(top.indexOf(':') + 1);
      }
      await add('repositories', `${JSON.stringify(repositories)}\n`);
    }
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    await writing.catch(() => undefined);
    throw err;
  }
  await writing;
}
