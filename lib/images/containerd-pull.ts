/**
 * Pull into a running containerd, as `ctr images pull`, through the same handlers `ImageStore.pull` uses: the fetch
 * handler over containerd's content store (the content proxy is a `ContentStore`), the children handler, the
 * platform filter, and the one image resolver.
 * @module
 */

// gc-labels.ts is pure (no gRPC): importing it does not load the containerd client.
import { gcChildLabels } from '../containerd/gc-labels.js';
import type { ContainerdClient, ContentProxy, ImageRecord } from '../containerd/index.js';
import { AlreadyExistsError, newError } from '../errors/index.js';
import { type Descriptor, hostPlatform, isIndexMediaType, type Platform, type PullResult, parseNormalizedReference, resolveImageTarget } from '../oci/index.js';
import type { Resolver } from '../registry/index.js';
import { logger } from '../util/debug.js';
import { childrenHandler } from './children.js';
import { containerdUnpackLayers } from './containerd-unpack.js';
import { fetchHandler, type PullProgress } from './fetch.js';
import { fetchAlongside, reportArrivals } from './fetch-alongside.js';
import { inheritPlatform, limitManifests } from './filters.js';
import { composeHandlers, type Handler, SKIP } from './handlers.js';
import { BlobArrivals } from './pull-unpack.js';

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
  /** How many blobs to fetch at once. Default 4. */
  concurrency?: number;
  /** Called with progress per descriptor, as `ImageStore.pull`'s. */
  onProgress?: (event: PullProgress) => void;
  signal?: AbortSignal;
}

/** What {@link containerdPull} returns: the {@link PullResult} every backend returns, and containerd's image record. */
export interface ContainerdPullResult extends PullResult {
  /** The image record as containerd stored it (labels, times). */
  image: ImageRecord;
}

/**
 * Sets the GC reference labels of a parent blob for the children the walk keeps (`containerd.io/gc.ref.content.*`),
 * so containerd's GC keeps them while the parent lives; containerd's own pull labels the same way.
 */
function labelChildren(handler: Handler, content: ContentProxy): Handler {
  return async (descriptor, context) => {
    const children = await handler(descriptor, context);
    if (!children || children === SKIP || children.length === 0) return children;
    const [config, ...layers] = children;
    const labels = isIndexMediaType(descriptor.mediaType)
      ? gcChildLabels({ kind: 'index', manifests: children })
      : gcChildLabels({ kind: 'manifest', manifest: { config: config!, layers } });
    await content.setLabels(descriptor.digest, labels, { signal: context.signal });
    return children;
  };
}

/**
 * Pulls `ref` into containerd the way `ctr images pull` does, with the registry access injected. Inside a lease:
 * walks the image with the handlers `ImageStore.pull` uses over containerd's content store (each blob fetched
 * once, resumed from a partial ingest, written in 1 MiB requests; the fetcher checks sizes and containerd the
 * digests at commit, so each byte is hashed once), labelling blobs for GC (`containerd.io/gc.ref.content.*` on each
 * parent, `containerd.io/distribution.source.*` on each blob). Meanwhile it resolves the image with
 * `resolveImageTarget` and, unless `unpack: false`, applies each layer with Diff.Apply once it and the layers below
 * it are in, into committed snapshots named by chain ID, labelling the config
 * `containerd.io/gc.ref.snapshot.<snapshotter>`. Then records (or updates) the image: `ctr images ls` lists it and
 * `ctr run` runs it.
 *
 * @throws ERR_INVALID_ARGUMENT without a resolver; the resolver's and fetcher's errors (ERR_REGISTRY_*…);
 *   ERR_DIGEST_MISMATCH (a blob, or an applied layer's diff_id); as `resolveImageTarget` (ERR_NO_MATCHING_PLATFORM,
 *   ERR_PLATFORM_MISMATCH, ERR_INVALID_MANIFEST…); ERR_CONTAINERD_* from containerd. Rejects with `signal.reason` on
 *   abort.
 */
export async function containerdPull(client: ContainerdClient, ref: string, options: ContainerdPullOptions): Promise<ContainerdPullResult> {
  const {
    resolver,
    platform = hostPlatform(),
    unpack = true,
    snapshotter = client.snapshots.defaultSnapshotter,
    labels = {},
    concurrency = 4,
    onProgress,
    signal,
  } = options ?? ({} as ContainerdPullOptions);
  if (typeof resolver?.resolve !== 'function') throw newError('ERR_INVALID_ARGUMENT', 'options.resolver must be a Resolver');
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw newError('ERR_INVALID_ARGUMENT', 'options.concurrency must be an integer >= 1');
  signal?.throwIfAborted();
  return client.inLease(async (c) => {
    const resolved = await resolver.resolve(ref, { signal });
    const { name, descriptor: root } = resolved;
    const parsed = parseNormalizedReference(name);
    log('pulling %s (%s)', name, root.digest);
    const arrivals = new BlobArrivals();
    const fetch = fetchHandler(c.content, resolver.fetcher(ref), {
      storeVerifiesDigest: true,
      labels: { [`containerd.io/distribution.source.${parsed.domain}`]: parsed.path },
      ...(onProgress === undefined ? {} : { onProgress }),
    });
    const handler = composeHandlers(
      reportArrivals(fetch, arrivals),
      labelChildren(inheritPlatform(limitManifests(childrenHandler(c.content), platform, 1)), c.content),
    );
    const pulled = await fetchAlongside(
      handler,
      root,
      arrivals,
      async (s) => {
        const read = async (d: Descriptor): Promise<Buffer> => {
          await arrivals.whenStored(d, s);
          return c.content.readAll(d.digest, { signal: s });
        };
        const image = await resolveImageTarget(root, read, { platform, signal: s });
        const chainId = unpack ? await containerdUnpackLayers(c, image, { snapshotter, whenStored: arrivals.whenStored, signal: s }) : undefined;
        return { image, chainId };
      },
      { concurrency, signal },
    );
    let record: ImageRecord;
    try {
      record = await c.images.create({ name, target: root, labels }, { signal });
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
      record = await c.images.update(name, { target: root, labels }, { signal });
    }
    const { manifestDescriptor, config } = pulled.image;
    return { name, target: root, manifestDescriptor, config, ...(pulled.chainId === undefined ? {} : { chainId: pulled.chainId }), image: record };
  });
}
