/**
 * Helpers every component shares: cancellation (abort listeners, signals), logging with redaction, spawning Linux
 * tools and mount(8), digests of streams and files, symlink-safe paths inside a root, FIFOs as sockets, lock files,
 * atomic writes, process identity, concurrency limits, emitter-to-async-iterator adapters.
 * Parsers, argv builders and errno helpers the parts use among themselves stay internal.
 * @module
 */
export { anySignal, onAbort, raceSignal, sleep, throwIfAborted, withTimeout } from './abort.js';
export {
  type ReadJsonFileOptions,
  readJsonFile,
  type WriteFileAtomicOptions,
  type WriteJsonAtomicOptions,
  writeFileAtomic,
  writeJsonAtomic,
} from './atomic-file.js';
export { enableDebug, type Logger, logger, redact } from './debug.js';
export {
  type ComputedDigest,
  DigestCalculator,
  type DigestFileOptions,
  type DigestStreamOptions,
  DigestVerifier,
  digestBuffer,
  digestFile,
  type ExpectedDigest,
  type HashAlgorithm,
} from './digest-stream.js';
export { type EventIteratorOptions, eventIterator } from './event-iterator.js';
export { type RunToolOptions, type RunToolResult, runTool } from './exec.js';
export { type CreateFifoOptions, createFifo, createFifos, type FifoMode, type OpenFifoOptions, openFifo, removeFifo } from './fifo.js';
export { makeDevice, readXattrTree, setXattr } from './fs-tools.js';
export { forEachLimit, KeyedLimiter, type Release, Semaphore } from './limiter.js';
export { acquireLock, type Lock, type LockOptions, type LockOwner, withLock } from './lock.js';
export { type MkdirInRootOptions, mkdirAllInRoot } from './mkdir-in-root.js';
export { type MountSpec, type MountToolOptions, mount, mountsUnder, type UnmountOptions, unmount } from './mount.js';
export { type MountInfoEntry, type MountInfoOptions, mountsUsing, readMountInfo } from './mountinfo.js';
export {
  MAX_IN_ROOT_SYMLINKS,
  type OpenInRootOptions,
  openInRoot,
  type ReadFileInRootOptions,
  readFileInRoot,
  type WriteFileInRootOptions,
  writeFileInRoot,
} from './open-in-root.js';
export { isProcessAlive, isSameProcess, type ProcessIdentity, type ProcessStamp, readBootId, readProcessIdentity, stampProcess } from './proc.js';
export { assertInside, isInside, MAX_SYMLINK_FOLLOWS, type ResolveInRootOptions, resolveInRoot, resolveInRootSync } from './safe-path.js';
export { signalNumber } from './signal-number.js';
export { type TempMountOptions, withTempMount } from './temp-mount.js';
