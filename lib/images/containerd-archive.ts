/**
 * Image archives into and out of a running containerd (`ctr images import` / `ctr images export`), with the same
 * readers and writers as the ImageStore's `load`/`save`, over containerd's content store.
 * @module
 */
import type { Readable, Writable } from 'node:stream';
import type { ContainerdClient, ContentProxy } from '../containerd/index.js';
import { AlreadyExistsError, NotFoundError } from '../errors/index.js';
import { configPlatform, type Descriptor, imageContentSize, isIndexMediaType, isManifestMediaType, type Platform, parseManifestOrIndex } from '../oci/index.js';
import { type ExportArchiveOptions, type ExportSource, exportArchive } from './archive.js';
import { type ImportArchiveResult, readArchive } from './archive-import.js';
import { containerdUnpack } from './containerd-unpack.js';
import type { ImageDetails } from './image-store.js';

/** Options of {@link containerdImport}. */
export interface ContainerdImportOptions {
  /** Repository for entries named by a bare tag (`--name`). */
  name?: string;
  /** Unpack each imported image for `platform` into `snapshotter`, so `ctr run` can use it at once. Default true. */
  unpack?: boolean;
  /** Default: this host's. */
  platform?: Platform | string;
  /** Default: the client's (`overlayfs`). */
  snapshotter?: string;
  signal?: AbortSignal;
}

// The containerd client's helpers, loaded on first use: importing them up front (gRPC, generated protobuf) would add
// ~0.2 s to every `import … from 'containerkit/images'`, containerd or not.
const containerdHelpers = async (): Promise<typeof import('../containerd/index.js')> => import('../containerd/index.js');

/** What {@link containerdImport} recorded; `unnamed` roots are not kept (containerd's GC reclaims them). */
export type ContainerdImportResult = ImportArchiveResult;

// Sets the GC labels of `root` and every present manifest below it, so the image record keeps the whole tree.
async function labelTree(content: ContentProxy, root: Descriptor, signal?: AbortSignal): Promise<void> {
  const { gcChildLabels } = await containerdHelpers();
  const pending = [root];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const d = pending.pop()!;
    if (seen.has(d.digest) || !(isIndexMediaType(d.mediaType) || isManifestMediaType(d.mediaType))) continue;
    seen.add(d.digest);
    const bytes = await content.readAll(d.digest, { signal }).catch((err: unknown) => {
      if (err instanceof NotFoundError && d !== root) return undefined; // another platform, not in the archive
      throw err;
    });
    if (bytes === undefined) continue;
    const doc = parseManifestOrIndex(bytes, { expected: d, strictMediaTypes: false });
    if (doc.kind === 'index') {
      await content.setLabels(d.digest, gcChildLabels({ kind: 'index', manifests: doc.index.manifests }), { signal });
      pending.push(...doc.index.manifests);
    } else {
      await content.setLabels(d.digest, gcChildLabels({ kind: 'manifest', manifest: doc.manifest }), { signal });
    }
  }
}

/**
 * Imports an image tarball (OCI archive or `docker save` output, as `ImageStore.load` reads) into containerd, as
 * `ctr images import`: inside a lease, writes every blob through containerd's content API (verified), sets the GC
 * labels from each index and manifest to its children, records (or updates) each named image and, unless
 * `unpack: false`, unpacks it. Afterwards `ctr images ls` lists the images and `ctr run` runs them.
 * @throws as `ImageStore.load` (ERR_DIGEST_MISMATCH, ERR_INVALID_ARGUMENT…); ERR_CONTAINERD_* from containerd;
 *   ERR_NO_MATCHING_PLATFORM when unpacking an image without the platform's manifest.
 */
export async function containerdImport(client: ContainerdClient, input: Readable, options: ContainerdImportOptions = {}): Promise<ContainerdImportResult> {
  const { name, unpack = true, platform, snapshotter, signal } = options;
  signal?.throwIfAborted();
  return client.inLease(async (c) => {
    const named: Array<{ name: string; target: Descriptor }> = [];
    const result = await readArchive(
      { content: c.content, name: async (n, target) => void named.push({ name: n, target }), keep: async () => undefined },
      input,
      { signal, ...(name === undefined ? {} : { name }) },
    );
    for (const { name: imageName, target } of named) {
      await labelTree(c.content, target, signal);
      await c.images.create({ name: imageName, target }, { signal }).catch(async (err: unknown) => {
        if (!(err instanceof AlreadyExistsError)) throw err;
        await c.images.update(imageName, { target }, { signal });
      });
      if (unpack) {
        await containerdUnpack(c, imageName, {
          signal,
          ...(platform === undefined ? {} : { platform }),
          ...(snapshotter === undefined ? {} : { snapshotter }),
        });
      }
    }
    return result;
  });
}

/** The images of a containerd, as the archive writer reads them. */
function containerdSource(client: ContainerdClient): ExportSource {
  return {
    content: client.content,
    async get(ref, options = {}): Promise<ImageDetails> {
      const { resolveImage } = await containerdHelpers();
      const { record, manifestDescriptor, manifest, config } = await resolveImage(client, ref, options);
      const size = imageContentSize(manifestDescriptor, manifest);
      return { name: record.name, target: record.target, manifestDescriptor, manifest, config, platform: configPlatform(config), size };
    },
  };
}

/**
 * Writes containerd's images `refs` to `out` as an image tarball (`ctr images export`): the same OCI layout plus
 * docker `manifest.json` (or `format: 'docker'`) that `ImageStore.save` writes, streamed from containerd's content.
 * @throws ERR_CONTAINERD_NOT_FOUND for an unknown image or missing content; as `ImageStore.save` otherwise.
 */
export function containerdExport(client: ContainerdClient, refs: readonly string[], out: Writable, options: ExportArchiveOptions = {}): Promise<void> {
  return exportArchive(containerdSource(client), refs, out, options);
}
