/**
 * ImageStore and the handler toolkit: named images in an OCI image layout (pull, push, tag, list, get, delete,
 * GC with leases, verify), images built from directories (buildImage), and the handlers (walk, dispatch,
 * filters) pull, GC and export are built from. The same handlers pull into a running containerd
 * (containerdPull, over its content proxy), and the same layer loop unpacks there (containerdUnpack).
 * @module
 */

export { type ArchiveFormat, type ExportArchiveOptions, type ExportSource, exportArchive } from './archive.js';
export { type ArchiveSink, type ImportArchiveOptions, type ImportArchiveResult, importArchive, readArchive } from './archive-import.js';
export type { BlobSink, WrittenLayer } from './build-blobs.js';
export {
  type BuildImageOptions,
  type BuildImageResult,
  type BuildLayer,
  type BuildLease,
  buildImage,
  type ImageBuildStore,
  type ImageNames,
} from './build-image.js';
export { childrenHandler, childrenOf } from './children.js';
export { type ContainerdImportOptions, type ContainerdImportResult, containerdExport, containerdImport } from './containerd-archive.js';
export { type ContainerdPullOptions, type ContainerdPullResult, containerdPull } from './containerd-pull.js';
export { type ContainerdUnpackLayersOptions, type ContainerdUnpackOptions, containerdUnpack, containerdUnpackLayers } from './containerd-unpack.js';
export { type FetchHandlerOptions, type FetchStore, fetchHandler, fetchInto, type PullProgress, type PullStatus } from './fetch.js';
export { filterPlatforms, inheritPlatform, limitManifests } from './filters.js';
export { collectGarbage, type GcOptions, type GcResult, type VerifyOptions, type VerifyResult, verifyStore } from './gc.js';
export { composeHandlers, type DispatchOptions, dispatch, type Handler, type HandlerContext, SKIP, type WalkOptions, walk } from './handlers.js';
export { type IndexCallOptions, LayoutIndex, type NamedImage } from './image-index.js';
export {
  type ImageDetails,
  type ImagePullOptions,
  ImageStore,
  type ImageStoreEvents,
  type ImageStoreOptions,
  type ImageStoreRegistry,
  type ImageStoreUnpackOptions,
  type PulledImage,
} from './image-store.js';
export { type ImportLayoutOptions, type ImportLayoutResult, importLayout } from './import-layout.js';
export { activeLeases, createLease, DEFAULT_LEASE_TTL_MS, Lease, pruneLeases, type StoreLeaseRecord } from './leases.js';
export type { ImageUnpackOptions, ImageUnpackResult, PullUnpackOptions, WhenStored } from './pull-unpack.js';
export { type ReadImageOptions, readImage } from './read-image.js';
