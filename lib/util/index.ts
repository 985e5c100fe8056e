/**
 * Helpers every component shares: cancellation (abort listeners, signals), logging with redaction, spawning Linux
 * tools and mount(8), digests of streams and files, symlink-safe paths inside a root, FIFOs as sockets, lock files,
 * atomic writes, process identity, concurrency limits, emitter-to-async-iterator adapters.
 * Parsers, argv builders and errno helpers the parts use among themselves stay internal.
 * @module
 */
export { throwIfAborted, sleep, anySignal, withTimeout, raceSignal, onAbort } from './abort.js';
export { logger, enableDebug, redact, type Logger } from './debug.js';
export { runTool, type RunToolOptions, type RunToolResult } from './exec.js';
export {
  DigestVerifier,
  DigestCalculator,
  digestBuffer,
  digestFile,
  type HashAlgorithm,
  type ExpectedDigest,
  type ComputedDigest,
  type DigestStreamOptions,
  type DigestFileOptions,
} from './digest-stream.js';
export { resolveInRoot, resolveInRootSync, isInside, assertInside, MAX_SYMLINK_FOLLOWS, type ResolveInRootOptions } from './safe-path.js';
export { openInRoot, readFileInRoot, writeFileInRoot, MAX_IN_ROOT_SYMLINKS, type OpenInRootOptions, type ReadFileInRootOptions, type WriteFileInRootOptions } from './open-in-root.js';
export { createFifo, createFifos, openFifo, removeFifo, type FifoMode, type CreateFifoOptions, type OpenFifoOptions } from './fifo.js';
export { acquireLock, withLock, type Lock, type LockOptions, type LockOwner } from './lock.js';
export { writeFileAtomic, writeJsonAtomic, readJsonFile, type WriteFileAtomicOptions, type WriteJsonAtomicOptions, type ReadJsonFileOptions } from './atomic-file.js';
export { readProcessIdentity, readBootId, isProcessAlive, stampProcess, isSameProcess, type ProcessIdentity, type ProcessStamp } from './proc.js';
export { makeDevice, setXattr, readXattrTree } from './fs-tools.js';
export { mount, unmount, mountsUnder, type MountSpec, type MountToolOptions, type UnmountOptions } from './mount.js';
export { readMountInfo, mountsUsing, type MountInfoEntry, type MountInfoOptions } from './mountinfo.js';
export { Semaphore, KeyedLimiter, forEachLimit, type Release } from './limiter.js';
export { eventIterator, type EventIteratorOptions } from './event-iterator.js';
export { mkdirAllInRoot, type MkdirInRootOptions } from './mkdir-in-root.js';
export { signalNumber } from './signal-number.js';
