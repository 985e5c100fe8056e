/**
 * The shared OCI vocabulary: digests, references, platforms, media types, descriptors, manifests, indexes,
 * image configs, runtime-spec types and mounts, with strict parsers. Pure: no I/O.
 * @module
 */
export * from './digest.js';
export * from './reference.js';
export * from './platform.js';
export * from './platform-matcher.js';
export * from './media-types.js';
export * from './descriptor.js';
export * from './manifest.js';
export * from './image-config.js';
export * from './parse.js';
export * from './runtime-spec.js';
export * from './mount.js';
export * from './chain-id.js';
export * from './task.js';
export * from './resolve-image.js';
export type { PullResult } from './pull-result.js';
