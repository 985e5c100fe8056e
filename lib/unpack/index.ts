/**
 * Unpacking image layers into directories: a streaming, verifying layer applier that contains or refuses every
 * path-escape trick a hostile layer can play (traversal, symlink and hardlink breakouts, whiteouts aimed out);
 * snapshotters (overlay, native) and directory diffs. The tar reader and writer behind them stay internal.
 * @module
 */
export { applyLayer, DEFAULT_CONCURRENCY, type ApplyLayerOptions, type ApplyLayerResult } from './apply-layer.js';
export { Unpacker, type ApplyLayerFileOptions, type LayerBlobDescriptor, type UnpackerOptions } from './unpacker.js';
export type { CompressionOption } from './decompress.js';
export type { SkippedEntry, WhiteoutFormat } from './layer-writer.js';
export { type Snapshotter, type SnapshotInfo, type SnapshotKind, type SnapshotUsage, type SnapshotOptions, type SnapshotCallOptions } from './snapshotter.js';
export { SnapshotStore, type SnapshotRecord } from './snapshot-store.js';
export { OverlaySnapshotter, checkOverlaySupport, type OverlaySnapshotterOptions } from './overlay-snapshotter.js';
export { NativeSnapshotter } from './native-snapshotter.js';
export { unpackLayers, type ApplyIntoSnapshot, type LayerSnapshotter, type LayerSource, type UnpackLayersOptions, type UnpackLayersResult } from './unpack-layers.js';
export { diffDirectories, diffOverlayUpper, diffSnapshot, type DiffOptions, type DiffResult } from './diff.js';
