/**
 * Helpers every component shares: cancellation, logging with redaction, spawning Linux tools, digests of
 * streams and files, symlink-safe paths inside a root, FIFOs as sockets, lock files, atomic writes.
 * @module
 */
export * from './abort.js';
export * from './debug.js';
export * from './exec.js';
export * from './digest-stream.js';
export * from './safe-path.js';
export * from './open-in-root.js';
export * from './fifo.js';
export * from './lock.js';
export * from './atomic-file.js';
export * from './fs-error.js';
export * from './proc.js';
export * from './fs-tools.js';
export * from './mount.js';
export * from './mountinfo.js';
export * from './timestamp.js';
export * from './limiter.js';
export * from './event-iterator.js';
