/**
 * Helpers every component shares: cancellation (abort listeners, signals), logging with redaction, spawning Linux
 * tools and mount(8), digests of streams and files, symlink-safe paths inside a root, FIFOs as sockets, lock files,
 * atomic writes, concurrency limits, emitter-to-async-iterator adapters, protobuf Timestamp conversion.
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
export { escapeControl } from './escape-control.js';
export { makeDirs } from './make-dirs.js';
export { signalNumber } from './signal-number.js';
export * from './timestamp.js';
export * from './limiter.js';
export * from './event-iterator.js';
