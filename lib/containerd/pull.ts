import { newError } from '../errors/index.js';
import { chainIds } from '../oci/chain-id.js';
import type { Descriptor } from '../oci/descriptor.js';
import { isIndexMediaType, isManifestMediaType } from '../oci/media-types.js';
import { parseImageConfig, parseManifestOrIndex } from '../oci/parse.js';
import { selectPlatform } from '../oci/platform-matcher.js';
import { hostPlatform, type Platform } from '../oci/platform.js';
import { parseNormalizedReference } from '../oci/reference.js';
import { anySignal } from '../util/abort.js';
import { chunksOf } from '../util/stream-chunks.js';
import { logger } from '../util/debug.js';
import type { Fetcher, Resolver } from '../registry/types.js';
import type { ContainerdClient } from './containerd-client.js';
import { isAlreadyExists } from './errors.js';
import { GC_REF_CONTENT, gcChildLabels, gcSnapshotLabel } from './gc-labels.js';
import type { ImageRecord } from './images.js';
import { unpackLayer } from './unpack.js';

const log = logger('containerd:pull');

/** Options of {@link containerdPull}. */
export interface ContainerdPullOptions {
  /** Resolves the reference and hands out the fetcher (RegistryClient satisfies it). Required. */
  resolver: Resolver;
  /** Which platform to pull from an index. Default: this host's. */
  platform?: Platform | string;
  /** Unpack the layers into snapshots (so `ctr run` can use the image at once). Default true. */
  unpack?: boolean;
  /** The snapshotter to unpack into. Default: the client's (`overlayfs`). */
  snapshotter?: string;
  /** Labels of the image record. */
  labels?: Record<string, string>;
  signal?: AbortSignal;
}

/** What {@link containerdPull} recorded. */
export interface ContainerdPullResult {
  image: ImageRecord;
  /** The manifest that was pulled (the platform's one for an index). */
  manifest: Descriptor;
  /** The chain id of the top layer (the parent for a container's rootfs snapshot); set when unpacked. */
  chainId?: string;
}

function refPrefix(desc: Descriptor): string {
  if (isIndexMediaType(desc.mediaType)) return 'index';
  if (isManifestMediaType(desc.mediaType)) return 'manifest';
  if (desc.mediaType.includes('config')) return 'config';
  return 'layer';
}

/** Fetches one blob into containerd's content store (skipped when present; resumed from a partial ingest). */
async function fetchBlob(c: ContainerdClient, fetcher: Fetcher, desc: Descriptor, labels: Record<string, string>, signal?: AbortSignal): Promise<void> {
  await c.content.writeBlob(
    `${refPrefix(desc)}-${desc.digest}`,
    desc,
    (offset) =>
      (async function* bytes() {
        // Chunk by chunk: the stream's own iterator would join what queued up while the writer waited (a copy).
        // Only the size is checked here: containerd hashes every byte it is sent and refuses a commit whose digest
        // differs (ERR_DIGEST_MISMATCH), as when ctr pulls, so the bytes are not hashed a second time on this machine.
        yield* chunksOf(await fetcher.fetch(desc, { offset, signal, verify: 'size' }));
      })(),
    { labels, signal, sourceVerified: true },
  );
}

/**
 * Pulls `ref` into containerd the way `ctr images pull` does, with the registry access injected: inside a lease,
 * fetches the root, the platform's manifest, the config and the layers into containerd's content store with the GC
 * labels that keep them alive (`containerd.io/gc.ref.content.*` on each parent, `containerd.io/distribution.source.*`
 * on each blob), unpacks the layers with Diff.Apply into committed snapshots named by chain id, labels the config
 * with `containerd.io/gc.ref.snapshot.<snapshotter>`, and records (or updates) the image. Afterwards `ctr images ls`
 * lists it and `ctr run` runs it.
 *
 * @throws ERR_INVALID_ARGUMENT without a resolver; the resolver's and fetcher's errors (ERR_REGISTRY_*,
 *   ERR_DIGEST_MISMATCH…); ERR_NO_MATCHING_PLATFORM; ERR_INVALID_MANIFEST; ERR_CONTAINERD_* from containerd;
 *   ERR_DIGEST_MISMATCH when an applied layer's diffID differs from the config's. Rejects with `signal.reason` on abort.
 */
export async function containerdPull(client: ContainerdClient, ref: string, options: ContainerdPullOptions): Promise<ContainerdPullResult> {
  const { resolver, platform = hostPlatform(), unpack = true, snapshotter = client.snapshots.defaultSnapshotter, labels = {}, signal } = options ?? ({} as ContainerdPullOptions);
  if (typeof resolver?.resolve !== 'function') throw newError('ERR_INVALID_ARGUMENT', 'options.resolver must be a Resolver');
  signal?.throwIfAborted();
  return client.inLease(async (c) => {
    const resolved = await resolver.resolve(ref, { signal });
    const name = resolved.name;
    const fetcher = resolver.fetcher(ref);
    const parsed = parseNormalizedReference(name);
    const source = { [`containerd.io/distribution.source.${parsed.domain}`]: parsed.path };
    const root = resolved.descriptor;
    log('pulling %s (%s)', name, root.digest);

    await fetchBlob(c, fetcher, root, source, signal);
    let manifestDesc = root;
    let doc = parseManifestOrIndex(await c.content.readAll(root.digest, { signal }), { expected: root });
    if (doc.kind === 'index') {
      const chosen = selectPlatform(doc.index.manifests, platform);
      const i = doc.index.manifests.indexOf(chosen);
      await fetchBlob(c, fetcher, chosen, source, signal);
      await c.content.setLabels(root.digest, { [`${GC_REF_CONTENT}.m.${i}`]: chosen.digest }, { signal });
      manifestDesc = chosen;
      doc = parseManifestOrIndex(await c.content.readAll(chosen.digest, { signal }), { expected: chosen });
      if (doc.kind !== 'manifest') throw newError('ERR_UNSUPPORTED_MEDIA_TYPE', `nested index ${chosen.digest} in ${name} is not supported`);
    }
    const manifest = doc.manifest;
    // Every blob is fetched at once; each layer is applied as soon as it and the layers below it are in, so
    // fetching and unpacking overlap (as ctr's unpacker does).
    const stop = new AbortController();
    const fetchSignal = anySignal(signal, stop.signal);
    const fetches = [manifest.config, ...manifest.layers].map((d) => fetchBlob(c, fetcher, d, source, fetchSignal));
    const settled = Promise.allSettled(fetches);
    let top: string | undefined;
    try {
      await fetches[0];
      // A config for another platform than the index entry that selected it is refused (ERR_PLATFORM_MISMATCH).
      const selectedFor = manifestDesc.platform === undefined ? {} : { platform: manifestDesc.platform };
      const config = parseImageConfig(await c.content.readAll(manifest.config.digest, { signal }), { expected: manifest.config, ...selectedFor });
      const diffIds = config.rootfs.diff_ids;
      if (diffIds.length !== manifest.layers.length) {
        throw newError('ERR_INVALID_MANIFEST', `${name}: ${manifest.layers.length} layers but ${diffIds.length} diff_ids`);
      }
      if (unpack) {
        const chain = chainIds(diffIds);
        for (let i = 0; i < chain.length; i++) {
          await fetches[i + 1];
          await unpackLayer(c, manifest.layers[i]!, diffIds[i]!, chain[i]!, i === 0 ? '' : chain[i - 1]!, snapshotter, signal);
        }
        top = chain.at(-1);
      }
      await Promise.all(fetches);
    } catch (err) {
      stop.abort(err);
      throw err;
    } finally {
      await settled; // no fetch outlives the pull (or its lease)
    }
    await c.content.setLabels(manifestDesc.digest, gcChildLabels({ kind: 'manifest', manifest }), { signal });
    if (top !== undefined) await c.content.setLabels(manifest.config.digest, gcSnapshotLabel(snapshotter, top), { signal });

    let image: ImageRecord;
    try {
      image = await c.images.create({ name, target: root, labels }, { signal });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      image = await c.images.update(name, { target: root, labels }, { signal });
    }
    return { image, manifest: manifestDesc, ...(top !== undefined ? { chainId: top } : {}) };
  });
}
