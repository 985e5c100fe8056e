/**
 * Unpacking image layers into directories: a streaming, verifying layer applier that contains or refuses every
 * path-escape trick a hostile layer can play (traversal, symlink and hardlink breakouts, whiteouts aimed out);
 * snapshotters (overlay, native) and directory diffs. The tar reader and writer behind them stay internal.
 * @module
 */
export { type ApplyLayerOptions, type ApplyLayerResult, applyLayer, DEFAULT_CONCURRENCY } from './apply-layer.js';
export type { CompressionOption } from './decompress.js';
export { type DiffOptions, type DiffResult, diffDirectories, diffOverlayUpper, diffSnapshot } from './diff.js';
export type { SkippedEntry, WhiteoutFormat } from './layer-writer.js';
export { NativeSnapshotter } from './native-snapshotter.js';
export { checkOverlaySupport, OverlaySnapshotter, type OverlaySnapshotterOptions } from './overlay-snapshotter.js';
export { type SnapshotRecord, SnapshotStore } from './snapshot-store.js';
export type { SnapshotCallOptions, SnapshotInfo, SnapshotKind, SnapshotOptions, Snapshotter, SnapshotUsage } from './snapshotter.js';
export {
  type ApplyIntoSnapshot,
  type LayerSnapshotter,
  type LayerSource,
  type UnpackLayersOptions,
  type UnpackLayersResult,
  unpackLayers,
} from './unpack-layers.js';
export { type ApplyLayerFileOptions, type LayerBlobDescriptor, Unpacker, type UnpackerOptions } from './unpacker.js';
