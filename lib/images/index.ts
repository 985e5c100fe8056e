/**
 * ImageStore and the handler toolkit: named images in an OCI image layout (pull, push, tag, list, get, delete,
 * GC with leases, verify), images built from directories (buildImage), and the handlers (walk, dispatch,
 * filters) pull, GC and export are built from. The same handlers pull into a running containerd
 * (containerdPull, over its content proxy), and the same layer loop unpacks there (containerdUnpack).
 * @module
 */
export {
  ImageStore,
  type ImageStoreEvents,
  type ImageStoreOptions,
  type ImageStoreRegistry,
  type ImagePullOptions,
  type ImageDetails,
  type PulledImage,
  type ImageStoreUnpackOptions,
} from './image-store.js';
export { type PullUnpackOptions, type ImageUnpackOptions, type ImageUnpackResult, type WhenStored } from './pull-unpack.js';
export { SKIP, walk, dispatch, composeHandlers, type Handler, type HandlerContext, type WalkOptions, type DispatchOptions } from './handlers.js';
export { childrenHandler, childrenOf } from './children.js';
export { filterPlatforms, inheritPlatform, limitManifests } from './filters.js';
export { fetchHandler, fetchInto, type FetchHandlerOptions, type FetchStore, type PullProgress, type PullStatus } from './fetch.js';
export { LayoutIndex, type NamedImage, type IndexCallOptions } from './image-index.js';
export { Lease, createLease, activeLeases, pruneLeases, DEFAULT_LEASE_TTL_MS, type StoreLeaseRecord } from './leases.js';
export { collectGarbage, verifyStore, type GcOptions, type GcResult, type VerifyOptions, type VerifyResult } from './gc.js';
export { importLayout, type ImportLayoutOptions, type ImportLayoutResult } from './import-layout.js';
export { exportArchive, type ArchiveFormat, type ExportArchiveOptions, type ExportSource } from './archive.js';
export { importArchive, readArchive, type ArchiveSink, type ImportArchiveOptions, type ImportArchiveResult } from './archive-import.js';
export { containerdExport, containerdImport, type ContainerdImportOptions, type ContainerdImportResult } from './containerd-archive.js';
export { containerdPull, type ContainerdPullOptions, type ContainerdPullResult } from './containerd-pull.js';
export { containerdUnpack, containerdUnpackLayers, type ContainerdUnpackLayersOptions, type ContainerdUnpackOptions } from './containerd-unpack.js';
export { readImage, type ReadImageOptions } from './read-image.js';
export {
  buildImage,
  type BuildImageOptions,
  type BuildImageResult,
  type BuildLayer,
  type BuildLease,
  type ImageBuildStore,
  type ImageNames,
} from './build-image.js';
export type { BlobSink, WrittenLayer } from './build-blobs.js';
